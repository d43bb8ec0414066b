"""Pacing that learns the rate limit (``reconciler.pacing``): a 429 slows the whole client
to a little under what the server admitted, once per cooldown, and the rate creeps back up
to the configured budget, never over it."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.emulator.app import create_app, store_of
from reconciler.pacing import BELOW, COOLDOWN, CREEP, RateLimiter
from tests.support import client_for, run, stats


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _answered(limiter: RateLimiter, clock: Clock, per_second: float, seconds: float) -> None:
    """Successes at ``per_second`` for ``seconds``, the clock moving with them."""
    for _ in range(int(per_second * seconds)):
        clock.now += 1 / per_second
        limiter.succeeded()


def test_a_429_sets_the_rate_just_under_what_the_server_admitted() -> None:
    clock = Clock()
    limiter = RateLimiter(6000, clock=clock)  # 100 a second
    _answered(limiter, clock, 100, 1.0)
    limiter.throttled()  # the first cut measures the last second: 100 admitted
    assert limiter.rate == pytest.approx(100 * BELOW)
    _answered(limiter, clock, 50, 0.5)  # then the server admits 50 a second
    limiter.throttled()
    assert limiter.rate == pytest.approx(50 * BELOW, rel=0.05)
    assert limiter.cuts == 2


def test_429s_within_the_cooldown_cut_once() -> None:
    clock = Clock()
    limiter = RateLimiter(6000, clock=clock)
    _answered(limiter, clock, 40, 1.0)
    limiter.throttled()
    cut = limiter.rate
    clock.now += COOLDOWN / 2
    limiter.throttled()  # a request already in flight: the same excess
    assert (limiter.rate, limiter.cuts) == (cut, 1)


def test_the_rate_creeps_back_to_the_budget_and_never_over() -> None:
    clock = Clock()
    limiter = RateLimiter(3000, clock=clock)  # 50 a second: told the limit
    _answered(limiter, clock, 40, 1.0)
    limiter.throttled()
    assert limiter.rate == pytest.approx(40 * BELOW)
    clock.now += 4.0
    limiter._refill()
    assert limiter.rate == pytest.approx(40 * BELOW + CREEP * 50 * 4.0)
    clock.now += 1000.0
    limiter._refill()
    assert limiter.rate == 50.0  # the configured budget is a ceiling


def test_without_a_429_the_configured_budget_holds() -> None:
    clock = Clock()
    limiter = RateLimiter(3000, clock=clock)
    _answered(limiter, clock, 50, 10.0)
    clock.now += 60
    limiter._refill()
    assert (limiter.rate, limiter.cuts) == (50.0, 0)


def test_a_client_that_was_not_told_the_limit_learns_it_from_few_429s() -> None:
    """Against an emulator admitting 20 a second, 60 requests at the default budget
    (100 a second): the client slows to the server's rate after a handful of 429s."""
    app = create_app(rate_limit=20)

    async def scenario() -> float:
        async with client_for(app, sleep=asyncio.sleep) as client:
            gate = asyncio.Semaphore(4)

            async def one() -> None:
                async with gate:
                    await client.get("asana", "user")

            await asyncio.gather(*(one() for _ in range(60)))
            assert client._pace is not None
            return client._pace.rate

    try:
        learned = run(scenario())
        counts = run(stats(app))
        refused = counts["faults"].get("rate limited", 0)
        assert learned <= 30.0  # near the server's 20 a second (creeping back), not 100
        assert refused <= 60 * 0.1, counts["faults"]
    finally:
        store_of(app).close()
