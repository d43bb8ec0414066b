"""Every broken manifest, refused within budget: ``reconciler validate`` on each case, timed.

Runs ``reconciler validate -f CASE`` as its own process for every case of the
corpus (``tests/manifests/invalid/*.yaml`` and each directory of
``tests/manifests/multi/``) and for hostile manifests generated in a temporary
directory (billion laughs, long strings repeated by aliases, 10,000-deep
nesting, a 50 MB file, non-UTF-8, UTF-16, a byte order mark, a NUL byte, a
15 MiB line, thousands of unknown keys). Each must exit 1 with every problem
located (``file:line:col: message``) and no traceback, within ``--time-limit``
seconds of wall time (interpreter start-up included) and ``--memory-limit`` MB
of peak RSS (the child's ``ru_maxrss``). Prints a table; exits 1 if any case
is over budget or wrong.

    .venv/bin/python benchmarks/corpus.py [--extra] [--time-limit 2] [--memory-limit 200]

``--extra`` adds heavier hostile cases beyond the issue's list (50,000 and
200,000 unknown keys, a manifest and a ``${file:...}`` secret that are links to
``/dev/zero``); those run under a memory cap, and today not all pass.
Wall times are of one run each, on whatever else the machine is doing: read
a case just over the limit with that in mind, and run again.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: find ``tests.support.hostile``
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.hostile import Measured, refusal_problems, run_measured, write_hostile_cases  # noqa: E402

CORPUS = REPO_ROOT / "tests" / "manifests"
CASE_ENVIRON = {  # the variables the corpus's fixtures expect (as tests/support/loader.py sets)
    "RECONCILER_SET_SECRET": "s3cr3t-value",
    "RECONCILER_EMPTY_SECRET": "",
    "RECONCILER_GITHUB_CLIENT_SECRET": "gh-0001",
}
SAFETY_CAP_MB = 1024  # address-space cap on every child: a runaway case fails, not the machine


@dataclass(frozen=True)
class Case:
    label: str
    path: Path
    expect: str = ""


@dataclass(frozen=True)
class Verdict:
    case: Case
    run: Measured
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def corpus_cases() -> list[Case]:
    """The broken manifests kept in the repository, one case per file or directory."""
    files = sorted((CORPUS / "invalid").glob("*.yaml"))
    directories = sorted(path for path in (CORPUS / "multi").iterdir() if path.is_dir())
    return [Case(str(path.relative_to(REPO_ROOT)), path) for path in files + directories]


def child_environ() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WORKOS_") and name not in CASE_ENVIRON
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return {**env, **CASE_ENVIRON}


def judge(
    case: Case, run: Measured, *, time_limit: float, memory_limit: float, shown_path: str
) -> Verdict:
    problems = []
    if run.timed_out:
        problems.append("killed at the timeout")
    if run.exit_code != 1:
        problems.append(f"exit {run.exit_code}, not 1")
    problems.extend(refusal_problems(run.stderr, shown_path))
    if case.expect and case.expect not in run.stderr:
        problems.append(f"no {case.expect!r} in the message")
    if run.seconds > time_limit:
        problems.append(f"over {time_limit:g} s")
    if run.peak_rss_mb > memory_limit:
        problems.append(f"over {memory_limit:g} MB")
    return Verdict(case, run, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds (default 2)")
    parser.add_argument("--memory-limit", type=float, default=200.0, help="MB (default 200)")
    parser.add_argument("--timeout", type=float, default=30.0, help="kill a case after (s)")
    parser.add_argument("--extra", action="store_true", help="add heavier hostile cases")
    options = parser.parse_args(argv)

    env = child_environ()
    verdicts: list[Verdict] = []
    with tempfile.TemporaryDirectory(prefix="corpus-") as scratch:
        workdir = Path(scratch)
        generated = workdir / "hostile"
        generated.mkdir()
        cases = corpus_cases() + [
            Case(f"(generated) {hostile.name}", hostile.path, hostile.expect)
            for hostile in write_hostile_cases(generated, extra=options.extra)
        ]
        width = max(len(case.label) for case in cases)
        print(f"{'case':<{width}}  exit  seconds  peak MB  verdict")
        print(f"{'-' * width}  ----  -------  -------  -------")
        for case in cases:
            shown = (
                str(case.path.relative_to(REPO_ROOT))
                if case.path.is_relative_to(REPO_ROOT)
                else str(case.path)
            )
            argv_ = [sys.executable, "-m", "reconciler", "validate", "-f", shown]
            run = run_measured(
                argv_,
                env=env,
                cwd=REPO_ROOT,
                output_dir=workdir,
                timeout=options.timeout,
                memory_cap_mb=SAFETY_CAP_MB,
            )
            verdict = judge(
                case,
                run,
                time_limit=options.time_limit,
                memory_limit=options.memory_limit,
                shown_path=shown,
            )
            verdicts.append(verdict)
            outcome = "ok" if verdict.ok else "FAIL: " + "; ".join(verdict.problems)
            print(
                f"{case.label:<{width}}  {run.exit_code:>4}  {run.seconds:>7.2f}"
                f"  {run.peak_rss_mb:>7.1f}  {outcome}",
                flush=True,
            )

    failed = [verdict for verdict in verdicts if not verdict.ok]
    slowest = max(verdicts, key=lambda verdict: verdict.run.seconds)
    largest = max(verdicts, key=lambda verdict: verdict.run.peak_rss_mb)
    print(
        f"\n{len(verdicts)} cases: {len(verdicts) - len(failed)} within budget"
        f" ({options.time_limit:g} s, {options.memory_limit:g} MB), {len(failed)} not."
        f" Slowest: {slowest.case.label} ({slowest.run.seconds:.2f} s)."
        f" Largest: {largest.case.label} ({largest.run.peak_rss_mb:.1f} MB)."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
