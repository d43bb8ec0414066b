"""Property: for random desired and remote states under random faults, applying until
success leaves an empty plan, and integrations outside the plan are byte-for-byte the same."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.applier import apply_plan
from reconciler.emulator.app import create_app, store_of
from reconciler.errors import ApiError
from reconciler.models import Desired, RemoteIntegration
from reconciler.planner import plan
from tests.e2e.test_property import desired_states, remote_states
from tests.support import faulty_client, run
from tests.support.faults import only_transient, raw_state, untouched_by

MAX_RUNS = 25


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    remote_bodies=remote_states(),
    state=desired_states(),
    fail_rate=st.sampled_from([0.0, 0.2, 0.4, 0.6]),
    fault_seed=st.integers(min_value=0, max_value=2**32),
    concurrency=st.integers(min_value=1, max_value=6),
)
def test_apply_until_success_under_faults_converges_and_touches_nothing_else(
    remote_bodies: list[dict[str, Any]],
    state: Desired,
    fail_rate: float,
    fault_seed: int,
    concurrency: int,
) -> None:
    app = create_app(seed=remote_bodies, fail_rate=fail_rate, fault_seed=fault_seed)
    before = raw_state(app)
    first = plan(state, [RemoteIntegration.model_validate(item) for item in before.values()])

    async def apply_until_success() -> int:
        async with faulty_client(app) as client:
            for runs in range(MAX_RUNS):
                try:
                    current = plan(state, await client.list_integrations())
                except ApiError:
                    continue  # the listing ran out of retries: try again, as CI would
                if not current.actions:
                    return runs
                result = await apply_plan(
                    current, client, secrets=state.secrets(), concurrency=concurrency
                )
                only_transient([result])
        raise AssertionError(f"no convergence in {MAX_RUNS} runs")

    try:
        runs = run(apply_until_success())
        if fail_rate == 0.0:
            assert runs <= 1
        after = raw_state(app)
        remote_after = [RemoteIntegration.model_validate(item) for item in after.values()]
        assert plan(state, remote_after).actions == ()
        for identity in untouched_by(first, before):
            assert json.dumps(after[identity], sort_keys=True) == json.dumps(
                before[identity], sort_keys=True
            ), identity
    finally:
        store_of(app).close()
