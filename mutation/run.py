"""``make mutation``: the mutation score of the modules that keep secrets and safety.

For each module of ``mutation/modules.toml``, in a scratch copy of the project
(``mutation/.work/<module>/``: cosmic-ray rewrites the module it mutates on disk,
and the working tree is never touched), this runs cosmic-ray: every mutant of
the module against the module's test selection, one pytest run per mutant.
Then it prints one line per module: mutants, killed, survived, equivalent (the
survivors listed in ``mutation/equivalent.md``, which do not count) and the
score, killed / (mutants - equivalent).

Not counted at all, as they change no code that runs: mutants inside annotations
(strings, under ``from __future__ import annotations``) and of the bare ``*`` of a
signature (read as a multiplication). A mutant that cosmic-ray fails to make (its
operator raises) is reported and not counted either.

    python mutation/run.py                      # every module, two at a time
    python mutation/run.py secrets --survivors  # one module, with each survivor's diff
    python mutation/run.py --jobs 1             # one module at a time

Exit status 1 when a score is under ``fail-under`` (or a run fails), else 0.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
MODULES_FILE = HERE / "modules.toml"
EQUIVALENT_FILE = HERE / "equivalent.md"
# what the test selections read, copied into each module's scratch project
COPIED = ("reconciler", "tests", "schemas", "examples", "docs", "pyproject.toml", "README.md")
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")
BIN = Path(sys.executable).parent  # the venv's: python, cosmic-ray, cr-filter-operators
_print_lock = threading.Lock()


def say(*parts: object) -> None:
    with _print_lock:
        print(*parts, flush=True)


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    test_command: str
    fail_under: float
    exclude_operators: tuple[str, ...]
    modules: tuple[Module, ...]


def load_settings() -> Settings:
    data = tomllib.loads(MODULES_FILE.read_text(encoding="utf-8"))
    run = data["run"]
    modules = tuple(
        Module(name, spec["path"], tuple(spec["tests"])) for name, spec in data["modules"].items()
    )
    return Settings(
        run["test-command"], float(run["fail-under"]), tuple(run["exclude-operators"]), modules
    )


@dataclass(frozen=True)
class Mutant:
    """One mutant's result: where, which operator, the line as mutated, the outcome."""

    line: int
    operator: str
    key: str  # the line as mutated (``deleted: <line>`` when the mutation removes it)
    diff: str
    outcome: str  # killed, survived, incompetent, error

    def listing(self) -> str:
        return f"  L{self.line:<4} {self.operator:<48} ``{self.key}``"


@dataclass
class Result:
    module: Module
    mutants: list[Mutant] = field(default_factory=list)
    equivalent: set[str] = field(default_factory=set)
    unmade: list[Mutant] = field(default_factory=list)  # cosmic-ray failed to make them
    seconds: float = 0.0
    error: str | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for m in self.mutants if m.outcome == outcome)

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.outcome != "killed" and m.key not in self.equivalent]

    @property
    def listed_survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.outcome != "killed" and m.key in self.equivalent]

    @property
    def score(self) -> float:
        counted = len(self.mutants) - len(self.listed_survivors)
        return 100.0 * self.count("killed") / counted if counted else 100.0

    @property
    def stale_entries(self) -> list[str]:
        """Entries of equivalent.md that match no surviving mutant (killed, or gone)."""
        surviving = {m.key for m in self.listed_survivors}
        return sorted(self.equivalent - surviving)


def load_equivalent() -> dict[str, set[str]]:
    """Per module name, the lines-as-mutated that equivalent.md lists."""
    listed: dict[str, set[str]] = {}
    module = None
    for line in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\w+)", line)
        if heading:
            module = heading.group(1)
            listed.setdefault(module, set())
            continue
        entry = re.match(r"- ``(.+?)`` (?:—|--) ", line)
        if entry and module is not None:
            listed[module].add(entry.group(1))
    return listed


def toml_config(module: Module, settings: Settings, timeout: float) -> str:
    """The cosmic-ray configuration of one module (JSON strings are TOML basic strings)."""
    command = f"{settings.test_command} {' '.join(module.tests)}"
    excluded = ", ".join(json.dumps(pattern) for pattern in settings.exclude_operators)
    return (
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module.path)}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = [{excluded}]\n"
    )


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # as cosmic-ray runs the tests: no stale bytecode
    env.pop("PYTHONPATH", None)
    return env


def scratch_copy(module: Module) -> Path:
    """A fresh copy of the project for one module's run."""
    work = WORK / module.name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=NOT_COPIED)
        elif source.is_file():
            shutil.copy2(source, work / name)
    return work


def run_tool(work: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=work,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def mutate(module: Module, settings: Settings, equivalent: set[str]) -> Result:
    """Every mutant of one module against its tests, in a scratch copy."""
    result = Result(module, equivalent=equivalent)
    started = time.monotonic()
    work = scratch_copy(module)
    missing = [t for t in module.tests if not (work / t).exists()]
    if missing:
        result.error = f"no such test file: {', '.join(missing)}"
        return result
    command = f"{settings.test_command} {' '.join(module.tests)}"
    baseline = subprocess.run(
        shlex.split(command), cwd=work, env=environment(), capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    if baseline.returncode != 0:
        result.error = f"the tests fail before any mutation:\n{baseline.stdout[-3000:]}"
        return result
    config = work / "cosmic-ray.toml"
    config.write_text(toml_config(module, settings, max(10.0, 5 * seconds)), encoding="utf-8")
    for step in (
        ("cosmic-ray", "init", config.name, "session.sqlite"),
        ("cr-filter-operators", "session.sqlite", config.name),
    ):
        done = run_tool(work, *step)
        if done.returncode != 0:
            result.error = f"{' '.join(step)} failed:\n{done.stderr[-3000:]}"
            return result
    dump = run_tool(work, "cosmic-ray", "dump", "session.sqlite").stdout.splitlines()
    pending = sum(1 for line in dump if line.strip() and json.loads(line)[1] is None)
    say(f"{module.name}: {pending} mutants, {seconds:.1f} s of tests each")
    done = run_tool(work, "cosmic-ray", "exec", config.name, "session.sqlite")
    if done.returncode != 0:
        result.error = f"cosmic-ray exec failed:\n{done.stderr[-3000:]}"
        return result
    text = (work / module.path).read_text(encoding="utf-8")
    source, annotations = text.splitlines(), _annotations(text)
    made = [
        _mutant(item, outcome, source)
        for item, outcome in _results(work)
        if not _keyword_marker(item, source) and not _inside(item, annotations)
    ]
    result.mutants = [m for m in made if m.outcome != "error"]
    result.unmade = [m for m in made if m.outcome == "error"]
    result.seconds = time.monotonic() - started
    return result


def _results(work: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The session's completed work items, filtered-out operators left out."""
    dump = run_tool(work, "cosmic-ray", "dump", "session.sqlite")
    pairs = [json.loads(line) for line in dump.stdout.splitlines() if line.strip()]
    return [
        (item, outcome)
        for item, outcome in pairs
        if outcome is not None and outcome["worker_outcome"] != "skipped"
    ]


Span = tuple[tuple[int, int], tuple[int, int]]


def _annotations(text: str) -> list[Span]:
    """Where the module's annotations are, when ``from __future__ import annotations``
    makes them strings that nothing evaluates (pydantic models aside: their mutants are
    left out too, though they would be killed)."""
    if "from __future__ import annotations" not in text:
        return []
    lines = text.splitlines()

    def column(line: int, offset: int) -> int:  # ast counts UTF-8 bytes, parso characters
        return len(lines[line - 1].encode()[:offset].decode())

    spans: list[Span] = []
    for node in ast.walk(ast.parse(text)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for annotation in found:
            if annotation is not None and annotation.end_lineno is not None:
                start = (annotation.lineno, column(annotation.lineno, annotation.col_offset))
                end_offset = annotation.end_col_offset or 0
                end = (annotation.end_lineno, column(annotation.end_lineno, end_offset))
                spans.append((start, end))
    return spans


def _inside(item: dict[str, Any], spans: list[Span]) -> bool:
    line, column = item["mutations"][0]["start_pos"]
    return any(start <= (line, column) < end for start, end in spans)


def _keyword_marker(item: dict[str, Any], source: list[str]) -> bool:
    """Whether the mutant replaces the bare ``*`` of a signature (``def f(a, *, b)``):
    cosmic-ray reads it as a multiplication; ``/`` there changes no call the code makes."""
    spec = item["mutations"][0]
    line, column = spec["start_pos"]
    text = source[line - 1]
    return (
        spec["operator_name"].startswith("core/ReplaceBinaryOperator_Mul_")
        and text[column : column + 1] == "*"
        and text[column + 1 :].lstrip()[:1] in (",", ")", "")
    )


def _mutant(item: dict[str, Any], outcome: dict[str, Any], source: list[str]) -> Mutant:
    spec = item["mutations"][0]
    line = int(spec["start_pos"][0])
    diff = outcome.get("diff") or ""
    added = [d[1:].strip() for d in diff.splitlines() if d.startswith("+") and d[1:2] != "+"]
    removed = [d[1:].strip() for d in diff.splitlines() if d.startswith("-") and d[1:2] != "-"]
    key = " ⏎ ".join(added) if added else "deleted: " + " ⏎ ".join(removed or [source[line - 1]])
    normal = outcome["worker_outcome"] == "normal"
    return Mutant(
        line, spec["operator_name"], key, diff, str(outcome["test_outcome"]) if normal else "error"
    )


def report(results: list[Result], fail_under: float, survivors: bool) -> bool:
    """Print the table (and what needs attention); whether every module passes."""
    ok = True
    rows = [
        "| module | mutants | killed | survived | equivalent | score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        name = result.module.path
        if result.error is not None:
            rows.append(f"| {name} | – | – | – | – | error |")
            ok = False
            continue
        equivalent = len(result.listed_survivors)
        rows.append(
            f"| {name} | {len(result.mutants)} | {result.count('killed')} "
            f"| {len(result.mutants) - result.count('killed') - equivalent} | {equivalent} "
            f"| {result.score:.1f}% |"
        )
        ok = ok and result.score >= fail_under
    for result in results:
        if result.error is not None:
            say(f"\n{result.module.name}: {result.error}")
            continue
        if survivors and result.survivors:
            say(f"\n{result.module.name}: {len(result.survivors)} survivors")
            for mutant in result.survivors:
                say(mutant.listing() + f"  [{mutant.outcome}]")
                say("    " + "\n    ".join(_changed_lines(mutant.diff)))
        for mutant in result.unmade:
            say(f"{result.module.name}: cosmic-ray could not make (not counted):")
            say(mutant.listing())
        for entry in result.stale_entries:
            say(
                f"{result.module.name}: equivalent.md lists a mutant that does not survive: {entry}"
            )
    say("")
    say("\n".join(rows))
    minutes = max((r.seconds for r in results), default=0.0) / 60
    verdict = "pass" if ok else "FAIL"
    say(f"\nfail-under {fail_under:g}%: {verdict} (longest module {minutes:.1f} min)")
    return ok


def _changed_lines(diff: str) -> list[str]:
    return [d for d in diff.splitlines() if d[:1] in "+-" and d[:3] not in ("+++", "---")]


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    names = [m.name for m in settings.modules]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "modules", nargs="*", metavar="MODULE", help=f"default: all ({', '.join(names)})"
    )
    parser.add_argument("--jobs", type=int, default=2, help="modules mutated at once (2)")
    parser.add_argument("--survivors", action="store_true", help="list each survivor's diff")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the runs (10)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(names))
    if unknown:
        parser.error(f"no such module: {', '.join(unknown)} (modules: {', '.join(names)})")
    chosen = [m for m in settings.modules if not args.modules or m.name in args.modules]
    equivalent = load_equivalent()
    os.nice(args.nice)
    # the largest first: with two at a time, the short ones fill in beside them
    order = sorted(chosen, key=lambda m: -(ROOT / m.path).stat().st_size)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            m.name: pool.submit(mutate, m, settings, equivalent.get(m.name, set())) for m in order
        }
        results = [futures[m.name].result() for m in chosen]
    return 0 if report(results, settings.fail_under, args.survivors) else 1


if __name__ == "__main__":
    sys.exit(main())
