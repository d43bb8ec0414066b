"""End to end over real loopback: `reconciler` processes against `reconciler emulator`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import yaml

from tests.support import AUTH, run_reconciler

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CANARIES = {
    "RECONCILER_GITHUB_CLIENT_SECRET": "demo-github-secret-b7c4",
    "RECONCILER_ACME_CRM_CLIENT_SECRET": "canary-acme-secret-Q1w2",
}


# As examples/demo.sh: the example's ${file:} secret needs the demo's policy.
DEMO_POLICY = str(EXAMPLES / "demo-policy.yaml")


def reconciler(base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reconciler(base_url, *args, timeout=60, RECONCILER_POLICY=DEMO_POLICY, **CANARIES)


def test_examples_plan_apply_plan_over_loopback(live_emulator: str) -> None:
    manifest = str(EXAMPLES / "integrations.yaml")
    with httpx.Client(base_url=live_emulator, headers=AUTH) as http:
        http.post("/_emulator/reset").raise_for_status()
        for body in yaml.safe_load((EXAMPLES / "remote-seed.yaml").read_text()):
            http.post("/data-integrations", json=body).raise_for_status()

    first = reconciler(live_emulator, "plan", "-f", manifest, "--detailed-exitcode")
    assert first.returncode == 2, first.stderr
    assert "will be created" in first.stdout
    assert "will be updated in place" in first.stdout
    assert "? notion (user)" in first.stdout
    assert "legacy-tracker" not in first.stdout

    applied = reconciler(live_emulator, "apply", "-f", manifest, "--yes")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    with httpx.Client(base_url=live_emulator, headers=AUTH) as http:
        writes_after_apply = http.get("/_emulator/stats").json()["by_method"]

    second = reconciler(live_emulator, "apply", "-f", manifest, "--yes")
    assert second.returncode == 0
    assert "No changes." in second.stdout
    with httpx.Client(base_url=live_emulator, headers=AUTH) as http:
        writes_now = http.get("/_emulator/stats").json()["by_method"]
    for method in ("POST", "PUT", "DELETE"):
        assert writes_now.get(method, 0) == writes_after_apply.get(method, 0)

    file_secret = (EXAMPLES / "secrets" / "slack_client_secret.txt").read_text().strip()
    for result in (first, applied, second):
        for secret in (*CANARIES.values(), file_secret):
            assert secret not in result.stdout + result.stderr
