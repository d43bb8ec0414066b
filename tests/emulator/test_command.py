"""``reconciler emulator`` (and ``python -m reconciler.emulator``), the command: its help,
usage errors that exit 1 (never 2, which means "changes pending"), and seed files it
refuses without a traceback. FastAPI loads only when it runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.emulator.command import emulator
from tests.conftest import REPO_ROOT
from tests.emulator.contract import github


def test_the_command_reports_seed_problems_without_a_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = {
        "bad.json": ("[{", "not valid JSON"),
        "bad.yaml": ("- provider: [", "not valid YAML"),
        "map.yaml": ("provider: github", "must hold a list"),
        "scalar.json": ("[1]", "seed[0] must be a mapping"),
        "invalid.yaml": (f"- {json.dumps(github())}\n- provider: nope\n", "seed[1]"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = runner.invoke(emulator, ["--seed", str(path)])
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    missing = runner.invoke(emulator, ["--seed", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_the_command_has_help_and_does_not_import_fastapi_until_run() -> None:
    result = CliRunner().invoke(emulator, ["--help"])
    assert result.exit_code == 0
    options = ("--host", "--port", "--db", "--api-key", "--seed", "--latency-ms", "--fail-rate")
    for option in (*options, "--rate-limit", "--fault-seed", "Examples:"):
        assert option in result.output
    probe = (
        "import sys, reconciler.emulator.command; "
        "assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_the_command_validates_fault_options() -> None:
    runner = CliRunner()
    for args in (
        ["--fail-rate", "1.5"],
        ["--fail-rate", "-0.1"],
        ["--fail-rate", "nan"],
        ["--rate-limit", "0"],
    ):
        result = runner.invoke(emulator, args)
        assert result.exit_code == 1, result.output  # a usage error: 2 means changes pending
        assert "Invalid value for" in result.output
    help_text = runner.invoke(emulator, ["--help"]).output
    assert "after the change was committed" in help_text.replace("\n", " ").replace("  ", " ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "99999 is not in the range 0<=x<=65535"),
        (["--port", "65536"], "65536 is not in the range 0<=x<=65535"),
        (["--port", "-1"], "-1 is not in the range 0<=x<=65535"),
        (["--port=-8787"], "-8787 is not in the range 0<=x<=65535"),
        (["--port", "http"], "Invalid value for '--port'"),
        (["--latency-ms", "-1"], "Invalid value for '--latency-ms'"),
        (["--latency-ms", "60001"], "Invalid value for '--latency-ms'"),
        (["--fail-rate", "1.01"], "Invalid value for '--fail-rate'"),
        (["--fail-rate", "-0.5"], "Invalid value for '--fail-rate'"),
        (["--fail-rate", "nan"], "Invalid value for '--fail-rate'"),
        (["--fail-rate", "inf"], "Invalid value for '--fail-rate'"),
        (["--rate-limit", "0"], "Invalid value for '--rate-limit'"),
        (["--rate-limit", "-5"], "Invalid value for '--rate-limit'"),
        (["--fault-seed", "seven"], "Invalid value for '--fault-seed'"),
        (["--no-such-flag"], "No such option"),
    ],
)
def test_a_bad_flag_is_a_usage_error_exiting_1(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def serve(*_: object, **__: object) -> None:
        raise AssertionError("the command accepted the flag and started serving")

    monkeypatch.setattr(uvicorn.Server, "run", serve)  # fail, never serve forever
    for command, argv in ((emulator, args), (cli, ["emulator", *args])):
        result = CliRunner().invoke(command, argv)
        assert result.exit_code == 1, result.output  # never 2: that means "changes pending"
        assert isinstance(result.exception, SystemExit), result.exception
        assert message in result.output
        assert "Usage:" in result.output
        assert "Traceback" not in result.output


def test_a_port_out_of_range_exits_1_without_a_traceback_from_the_real_command() -> None:
    for argv in (["-m", "reconciler", "emulator"], ["-m", "reconciler.emulator"]):
        result = subprocess.run(
            [sys.executable, *argv, "--port", "99999"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        assert "Invalid value for '--port': 99999 is not in the range 0<=x<=65535." in (
            result.stderr
        )
        assert "Traceback" not in result.stderr + result.stdout
