"""``reconciler emulator``: serve the emulated Data Integrations API over HTTP.

FastAPI and uvicorn (the ``emulator`` extra) are imported inside the command,
after ``require_extra`` checked they are installed: the main CLI starts fast,
and ``reconciler --help`` and ``reconciler emulator --help`` work without them.
Nothing this module imports at its top may import them either.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.emulator.extra import require_extra

if TYPE_CHECKING:  # FastAPI is imported at run time only, after require_extra
    from fastapi import FastAPI

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_API_KEY = "sk_test_emulator"


class _UsageError(click.UsageError):
    """A usage error that exits 1: the CLI's exit 2 means "changes pending"
    (``plan --detailed-exitcode``), so a script must never read a mistyped flag as that."""

    exit_code = 1


class _Command(click.Command):
    """A command whose usage errors (a bad flag or value) exit 1, not click's 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _UsageError(error.format_message(), error.ctx) from None


def _a_number(_: click.Context, param: click.Parameter, value: float) -> float:
    """Refuse NaN, which passes ``FloatRange`` (no comparison with NaN is true)."""
    if math.isnan(value):
        raise click.BadParameter("nan is not a number between 0 and 1.", param=param)
    return value


def shown_key(api_key: str) -> str:
    """The key as the emulator may print it: the public default whole, any other by its last 4."""
    if api_key == DEFAULT_API_KEY:
        return api_key
    return f"…{api_key[-4:]}" if len(api_key) >= 8 else "…"


def load_seed(path: Path) -> list[dict[str, Any]]:
    """Read a seed file: a JSON or YAML list of create bodies (each may carry ``ownership``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read seed file {path}: {error}") from None
    entries: object
    if path.suffix.lower() == ".json":
        try:
            entries = json.loads(text)
        except ValueError as error:
            raise click.ClickException(f"seed file {path} is not valid JSON: {error}") from None
    else:
        import yaml

        try:
            entries = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise click.ClickException(f"seed file {path} is not valid YAML: {error}") from None
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise click.ClickException(f"seed file {path} must hold a list of integrations")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise click.ClickException(f"seed file {path}: seed[{index}] must be a mapping")
    return entries


@click.command("emulator", cls=_Command)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on (0: any free port).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file that keeps state across restarts (default: in memory).",
)
@click.option(
    "--api-key",
    default=DEFAULT_API_KEY,
    show_default=True,
    envvar="RECONCILER_EMULATOR_API_KEY",
    help="Bearer key the emulator accepts (env RECONCILER_EMULATOR_API_KEY).",
)
@click.option(
    "--seed",
    "seed_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON or YAML list of create bodies (plus ownership) to load at start; an entry "
    'with credentials {"type": "unsupported"} is hidden (as if made in the dashboard): '
    "absent from list and GET, 404 to PUT and DELETE, 409 to a create of its identity.",
)
@click.option(
    "--latency-ms",
    default=0,
    show_default=True,
    type=click.IntRange(0, 60_000),
    help="Delay every API request by this many milliseconds.",
)
@click.option(
    "--fail-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    callback=_a_number,
    help="Share of API requests that fail at random: 429 with Retry-After, 500, 503 or a "
    "dropped connection; half the 500s, 503s and drops come after the change was committed.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    help="Allow this many API requests per second, then answer 429 with Retry-After.",
)
@click.option(
    "--fault-seed",
    type=int,
    help="Seed of --fail-rate's choices: the same requests fail the same way on every run.",
)
def emulator(
    host: str,
    port: int,
    db_path: Path | None,
    api_key: str,
    seed_path: Path | None,
    latency_ms: int,
    fail_rate: float,
    rate_limit: int | None,
    fault_seed: int | None,
) -> None:
    """Serve a local emulator of the WorkOS Data Integrations API.

    State lives in SQLite (in memory unless --db is given). GET /_emulator/stats
    shows request counts; POST /_emulator/reset clears everything. Both need the
    API key (Authorization: Bearer <key>) and refuse requests from another
    origin (a foreign Origin header gets 403).

    \b
    Examples:
      reconciler emulator
      reconciler emulator --port 9000 --db state.db --seed seed.yaml --latency-ms 50
      reconciler emulator --fail-rate 0.3 --fault-seed 7 --rate-limit 100
      curl -H 'Authorization: Bearer sk_test_emulator' http://127.0.0.1:8787/_emulator/stats
      WORKOS_BASE_URL=http://127.0.0.1:8787 WORKOS_API_KEY=sk_test_emulator \\
        reconciler plan -f integrations.yaml
    """
    require_extra()
    from reconciler.emulator.app import store_of
    from reconciler.emulator.server import serve

    app = _build_app(
        api_key=api_key,
        db_path=db_path,
        seed_path=seed_path,
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        fault_seed=fault_seed,
        rate_limit=rate_limit,
        host=host,
    )
    faults = _faults_summary(fail_rate, fault_seed, rate_limit)

    def on_listening(bound_port: int) -> None:
        click.echo(
            f"Emulator listening on http://{host}:{bound_port} (API key {shown_key(api_key)})",
            err=True,
        )
        if faults:
            click.echo(f"Injecting faults: {faults}", err=True)

    try:
        serve(app, host, port, on_listening)
    finally:
        store_of(app).close()


def _build_app(
    *,
    api_key: str,
    db_path: Path | None,
    seed_path: Path | None,
    latency_ms: int,
    fail_rate: float,
    fault_seed: int | None,
    rate_limit: int | None,
    host: str = DEFAULT_HOST,
) -> FastAPI:
    """The emulator app for the command's options; a bad seed or database is a ClickException.

    ``host`` (``--host``) is, besides the loopback names, the one name a request's
    ``Host`` header may give."""
    from reconciler.emulator.app import create_app
    from reconciler.emulator.service import SeedError

    seed = load_seed(seed_path) if seed_path is not None else None
    if db_path is not None and db_path.parent and not db_path.parent.is_dir():
        raise click.ClickException(f"directory of --db does not exist: {db_path.parent}")
    try:
        return create_app(
            api_key=api_key,
            db_path=str(db_path) if db_path is not None else None,
            seed=seed,
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            fault_seed=fault_seed,
            rate_limit=rate_limit,
            hosts=(host,),
        )
    except SeedError as error:
        raise click.ClickException(f"invalid seed file {seed_path}: {error}") from None
    except Exception as error:  # sqlite3.Error and the like: a bad --db file
        raise click.ClickException(f"cannot open the emulator database: {error}") from None


def _faults_summary(fail_rate: float, fault_seed: int | None, rate_limit: int | None) -> str:
    """The faults the emulator injects, for its start-up line ("" when none)."""
    return ", ".join(
        part
        for part in (
            f"fail rate {fail_rate:g}" if fail_rate else "",
            f"fault seed {fault_seed}" if fail_rate and fault_seed is not None else "",
            f"rate limit {rate_limit}/s" if rate_limit else "",
        )
        if part
    )
