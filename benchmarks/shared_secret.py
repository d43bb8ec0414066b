"""A busy environment's worst case: 10,000 custom integrations sharing one secret.

Every integration is user-owned with custom credentials whose client secret is
the same ``${env:...}`` reference, so the plan resolves one secret 10,000
times and guards its output against it. Measured as the plan table is
(``plan.measure``: plan and floor interleaved, best of ``--repeat``), held to
the floor itself: work that depends only on the secret is done once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import plan, report
from benchmarks.harness import CHANGED_SHARE, Settings, Target
from benchmarks.plan import PlanCase
from benchmarks.workload import write_plan_workload

SIZE = 10_000
TARGET_FLOOR_RATIO = 1.0


@dataclass(frozen=True)
class SharedSecretResult:
    """The one case: every integration's client secret the same reference."""

    case: PlanCase

    def json(self) -> object:
        return asdict(self.case)

    def table(self) -> list[str]:
        lines = [
            "",
            f"**plan, one shared secret** ({self.case.integrations:,} custom integrations, "
            "every client secret the same `${env:...}` reference; 1% changed; no latency)",
        ]
        lines += ["", *report.table(plan.HEADER, [self.case.row()])]
        return [*lines, "", plan.FLOOR_NOTE]

    def targets(self) -> list[Target]:
        return [
            Target(
                f"plan {self.case.integrations:,} custom integrations sharing one secret: "
                f"≤ {TARGET_FLOOR_RATIO}× the floor",
                f"{self.case.floor_ratio:.2f}×",
                self.case.floor_ratio <= TARGET_FLOOR_RATIO,
            )
        ]


def run(settings: Settings, workdir: Path) -> SharedSecretResult:
    work = write_plan_workload(
        workdir / f"shared-secret-{SIZE}",
        SIZE,
        changed_share=CHANGED_SHARE,
        organization_share=0,
    )
    return SharedSecretResult(plan.measure(work, settings, workdir))
