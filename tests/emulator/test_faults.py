"""The emulator's fault injection in-process: shares, kinds, after commit, seeds, rate limit,
latency."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.faults import Fault, FaultKind, RandomFaults
from reconciler.emulator.transport import EmulatorTransport
from tests.emulator.contract import ApiClient
from tests.support import API_KEY, BASE_URL, custom_body
from tests.support.faults import ScriptedFaults

AUTH = {"Authorization": f"Bearer {API_KEY}"}
Request = tuple[str, str, dict[str, Any] | None]


def outcomes(app: FastAPI, requests: list[Request]) -> list[str]:
    """Send requests one by one; each answer's status, or "dropped"."""

    async def scenario() -> list[str]:
        seen: list[str] = []
        async with httpx.AsyncClient(
            transport=EmulatorTransport(app=app), base_url=BASE_URL, headers=AUTH
        ) as http:
            for method, path, body in requests:
                try:
                    response = await http.request(method, path, json=body)
                except httpx.RemoteProtocolError:
                    seen.append("dropped")
                else:
                    seen.append(str(response.status_code))
        return seen

    return asyncio.run(scenario())


def emulator_stats(app: FastAPI) -> dict[str, Any]:
    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
        ) as http:
            data: dict[str, Any] = (await http.get("/_emulator/stats")).json()
            return data

    return asyncio.run(scenario())


MIXED: list[Request] = [
    *(("GET", "/data-integrations", None) for _ in range(200)),
    *(("POST", "/data-integrations", custom_body(f"crm-{i:03d}")) for i in range(150)),
    *(("PUT", f"/data-integrations/crm-{i:03d}", {"description": "x"}) for i in range(150)),
    *(("DELETE", f"/data-integrations/crm-{i:03d}", None) for i in range(150)),
]


def test_a_share_of_requests_fails_in_every_kind_some_after_commit() -> None:
    app = create_app(fail_rate=0.3, fault_seed=11)
    try:
        seen = Counter(outcomes(app, MIXED))
        failures = sum(seen[kind] for kind in ("429", "500", "503", "dropped"))
        assert 0.24 * len(MIXED) <= failures <= 0.36 * len(MIXED), seen
        faults = emulator_stats(app)["faults"]
        assert sum(faults.values()) == failures
        for kind in ("429", "500", "503", "dropped"):
            assert faults[kind] > 10, faults
        for kind in ("500 after commit", "503 after commit", "dropped after commit"):
            assert faults[kind] > 10, faults
        assert "429 after commit" not in faults
    finally:
        store_of(app).close()


def test_a_fault_seed_repeats_a_run_and_a_reset_starts_it_again() -> None:
    first = create_app(fail_rate=0.5, fault_seed=7)
    second = create_app(fail_rate=0.5, fault_seed=7)
    other = create_app(fail_rate=0.5, fault_seed=8)
    try:
        run_one = outcomes(first, MIXED[:300])
        assert outcomes(second, MIXED[:300]) == run_one
        assert outcomes(other, MIXED[:300]) != run_one
        response = asyncio.run(_post(first, "/_emulator/reset"))
        assert response.status_code == 204
        assert outcomes(first, MIXED[:300]) == run_one
    finally:
        for app in (first, second, other):
            store_of(app).close()


def test_decisions_depend_on_the_request_not_on_the_order_of_arrival() -> None:
    forward = RandomFaults(0.5, seed=3)
    backward = RandomFaults(0.5, seed=3)
    requests = [
        ("POST", "/data-integrations", f'{{"provider":"p{i}"}}'.encode()) for i in range(50)
    ]
    ahead = [forward.choose(*request) for request in requests]
    behind = [backward.choose(*request) for request in reversed(requests)]
    assert ahead == list(reversed(behind))
    assert RandomFaults(0.0, seed=3).choose(*requests[0]) is None
    with pytest.raises(ValueError):
        RandomFaults(1.5)


async def _post(app: FastAPI, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(app=app), base_url=BASE_URL, headers=AUTH
    ) as http:
        return await http.post(path, **kwargs)


@pytest.mark.parametrize("kind", [FaultKind.INTERNAL_ERROR, FaultKind.DROPPED])
def test_after_commit_the_change_is_made_and_the_key_recorded_before_the_failure(
    kind: FaultKind,
) -> None:
    faults = ScriptedFaults({"POST": [Fault(kind, after_commit=True)]})
    app = create_app(faults=faults)
    headers = {"Idempotency-Key": "k-1"}
    try:
        if kind is FaultKind.DROPPED:
            with pytest.raises(httpx.RemoteProtocolError):
                asyncio.run(_post(app, "/data-integrations", json=github(), headers=headers))
        else:
            failed = asyncio.run(_post(app, "/data-integrations", json=github(), headers=headers))
            assert failed.status_code == 500
            assert failed.json()["code"] == "internal_error"
            assert failed.headers["X-Request-ID"]
        assert emulator_stats(app)["integrations"] == 1
        replay = asyncio.run(_post(app, "/data-integrations", json=github(), headers=headers))
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert emulator_stats(app)["integrations"] == 1
    finally:
        store_of(app).close()


def test_before_commit_nothing_changes() -> None:
    faults = ScriptedFaults(
        {
            "POST": [
                Fault(FaultKind.TOO_MANY_REQUESTS),
                Fault(FaultKind.UNAVAILABLE),
                Fault(FaultKind.DROPPED),
            ]
        }
    )
    app = create_app(faults=faults)
    try:
        seen = outcomes(app, [("POST", "/data-integrations", github())] * 3)
        assert seen == ["429", "503", "dropped"]
        assert emulator_stats(app)["integrations"] == 0
        assert outcomes(app, [("POST", "/data-integrations", github())]) == ["201"]
    finally:
        store_of(app).close()


def test_a_429_says_when_to_retry() -> None:
    app = create_app(faults=ScriptedFaults({"GET": [Fault(FaultKind.TOO_MANY_REQUESTS)]}))

    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=EmulatorTransport(app=app), base_url=BASE_URL, headers=AUTH
        ) as http:
            return await http.get("/data-integrations")

    try:
        limited = asyncio.run(scenario())
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"
        assert limited.json()["code"] == "rate_limited"
    finally:
        store_of(app).close()


def test_the_rate_limit_answers_429_past_n_requests_a_second() -> None:
    app = create_app(rate_limit=2)  # a slot frees every 0.5 s: far longer than this test

    async def scenario() -> tuple[list[httpx.Response], int]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
        ) as http:
            answers = await asyncio.gather(*(http.get("/data-integrations") for _ in range(8)))
            stats_status = (await http.get("/_emulator/stats")).status_code
            return list(answers), stats_status

    try:
        answers, stats_status = asyncio.run(scenario())
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {200: 2, 429: 6}
        assert {a.headers["Retry-After"] for a in answers if a.status_code == 429} == {"1"}
        assert stats_status == 200  # /_emulator/* is never limited
        assert emulator_stats(app)["faults"] == {"rate limited": 6}
    finally:
        store_of(app).close()


def test_faults_need_the_api_key_first_and_spare_non_api_paths() -> None:
    app = create_app(fail_rate=1.0, fault_seed=1)

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(
            transport=EmulatorTransport(app=app), base_url=BASE_URL
        ) as http:
            unauthorized = await http.get("/data-integrations")
            stats = await http.get("/_emulator/stats", headers=AUTH)  # not faulted
            return [unauthorized.status_code, stats.status_code]

    try:
        assert asyncio.run(scenario()) == [401, 200]
        assert emulator_stats(app)["faults"] == {}
    finally:
        store_of(app).close()


def github() -> dict[str, Any]:
    return {"provider": "github", "credentials": {"type": "organization"}}


def test_latency_delays_api_requests_only() -> None:
    app = create_app(latency_ms=150)
    try:
        with ApiClient(app, headers=AUTH) as test_client:
            started = time.monotonic()
            test_client.get("/_emulator/stats")
            quick = time.monotonic() - started
            started = time.monotonic()
            test_client.get("/data-integrations")
            slow = time.monotonic() - started
        assert slow >= 0.15
        assert quick < slow  # the control route is not delayed (absolute times vary with load)
    finally:
        store_of(app).close()
