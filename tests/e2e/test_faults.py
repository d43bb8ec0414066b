"""Apply under injected faults, in-process: 100+ changes converge, nothing lost or duplicated."""

from __future__ import annotations

import pytest

from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.transport import EmulatorTransport
from reconciler.planner import plan
from tests.support import faulty_client, run, stats
from tests.support.faults import (
    Recorder,
    apply_until_converged,
    big_desired,
    big_remote,
    check_converged,
    only_transient,
    raw_state,
)


@pytest.mark.parametrize("fault_seed", [1, 2, 3])
def test_an_apply_of_122_changes_converges_under_a_30_percent_fail_rate(fault_seed: int) -> None:
    app = create_app(seed=big_remote(), fail_rate=0.3, fault_seed=fault_seed)
    state = big_desired()
    before = raw_state(app)
    recorder = Recorder(EmulatorTransport(app=app))

    async def scenario() -> None:
        # The test's reads retry generously; the applying client keeps the defaults.
        async with (
            faulty_client(app, max_retries=30) as reader,
            faulty_client(app, transport=recorder) as writer,
        ):
            first = plan(state, await reader.list_integrations())
            assert len(first.actions) == 122
            results = await apply_until_converged(state, reader, writer, runs=2)
            only_transient(results)
            check_converged(raw_state(app), first, before)

    try:
        run(scenario())
        faults = run(stats(app))["faults"]
        assert sum(faults.values()) > 30
        for kind in ("429", "500 after commit", "503 after commit", "dropped after commit"):
            assert faults.get(kind, 0) > 0, faults
        # POSTs that failed after commit were answered, on retry, by the recorded 201.
        assert recorder.replays > 0
    finally:
        store_of(app).close()


def test_without_faults_one_run_converges_with_one_request_per_change() -> None:
    app = create_app(seed=big_remote())
    state = big_desired()
    before = raw_state(app)

    async def scenario() -> None:
        async with faulty_client(app) as client:
            first = plan(state, await client.list_integrations())
            results = await apply_until_converged(state, client, client, runs=1)
            assert [r.ok for r in results] == [True]
            check_converged(raw_state(app), first, before)

    try:
        run(scenario())
        counts = run(stats(app))
        writes = sum(counts["by_method"][m] for m in ("POST", "PUT", "DELETE"))
        assert writes == 122 + 1  # the replace is a DELETE and a POST
        assert counts["faults"] == {}
    finally:
        store_of(app).close()
