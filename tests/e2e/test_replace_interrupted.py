"""A replace interrupted between the delete and the create finishes the create; a 409
on a create is explained (hidden integration, or another creator)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.app import create_app
from reconciler.plan import ActionKind
from reconciler.render import (
    render_result_line,
)
from reconciler.results import ActionResult, Outcome
from tests.support import client_for, invoke, run
from tests.support.factories import desired, desired_state
from tests.support.replace import (
    ORGANIZATION,
    REQUEST_ID,
    SNOWFLAKE,
    _apply,
    _get,
    _list_and_plan,
    _plan,
)


class Hooked(httpx.AsyncBaseTransport):
    """Passes requests on; awaits ``after_delete`` once a DELETE is answered, and
    ``before_post`` before a POST is sent."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        after_delete: Callable[[], Awaitable[None]] | None = None,
        before_post: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.inner = inner
        self.after_delete = after_delete
        self.before_post = before_post
        self.methods: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        if request.method == "POST" and self.before_post is not None:
            await self.before_post()
        response = await self.inner.handle_async_request(request)
        if request.method == "DELETE" and self.after_delete is not None:
            await self.after_delete()
        return response


def test_a_stop_between_the_delete_and_the_create_finishes_the_create() -> None:
    app = create_app(seed=[{**SNOWFLAKE, "credentials": ORGANIZATION}])
    state = desired_state(
        desired(slug="snowflake", config={"account": "other"}),
        desired(slug="slack", credentials=ORGANIZATION),
    )
    made, old = run(_plan(app, state))
    assert [a.kind for a in made.actions] == [ActionKind.REPLACE, ActionKind.CREATE]
    stop = asyncio.Event()

    async def stop_now() -> None:
        stop.set()

    transport = Hooked(httpx.ASGITransport(app=app), after_delete=stop_now)
    result = run(
        _apply(
            app, made, secrets=state.secrets(), transport=transport, concurrency=1, stop=stop.is_set
        )
    )

    assert [(r.action.kind, r.outcome, r.state) for r in result.results] == [
        (ActionKind.REPLACE, Outcome.SUCCEEDED, None),
        (ActionKind.CREATE, Outcome.SKIPPED, None),
    ]
    assert result.stopped
    assert transport.methods == ["DELETE", "POST"]
    now = run(_get(app))
    assert now is not None and now.id != old.id and now.config == {"account": "other"}
    assert render_result_line(result.results[0]).startswith("ok replace snowflake (user) in ")


def test_a_cancellation_between_the_delete_and_the_create_waits_for_the_re_create() -> None:
    """A cancelled CI job (SIGINT, then SIGTERM) cancels the apply: a replace whose delete
    is done is never left there; it finishes, is reported, then the cancellation goes on."""
    app = create_app(seed=[{**SNOWFLAKE, "credentials": ORGANIZATION}])
    made, old = run(_plan(app, desired_state(desired(slug="snowflake", config={"account": "b"}))))
    heard: list[ActionResult] = []

    async def scenario() -> None:
        creating = asyncio.Event()
        release = asyncio.Event()

        async def held() -> None:
            creating.set()
            await release.wait()

        transport = Hooked(httpx.ASGITransport(app=app), before_post=held)
        task = asyncio.create_task(_apply(app, made, transport=transport, on_result=heard.append))
        await creating.wait()
        assert transport.methods == ["DELETE", "POST"]
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()  # SIGTERM after SIGINT: still not between delete and create
        await asyncio.sleep(0.05)
        assert not task.done()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())

    (reported,) = heard
    assert (reported.outcome, reported.state) == (Outcome.SUCCEEDED, None)
    now = run(_get(app))
    assert now is not None and now.id != old.id and now.config == {"account": "b"}


HIDDEN_HINT = (
    "exists with credentials this API does not list (e.g. created in the dashboard); "
    "it can't be managed here: remove it in the dashboard or leave it out of the manifest"
)
CONFLICT = (
    r" \(API error 409 \(integration_exists\): A data integration for github with user "
    r"ownership already exists\." + REQUEST_ID + r"\)"
)


def test_a_create_over_a_hidden_integration_says_it_cannot_be_managed_here(
    tmp_path: Path,
) -> None:
    app = create_app(seed=[{"provider": "github", "credentials": {"type": "unsupported"}}])
    state = desired_state(desired(slug="github", credentials=ORGANIZATION))
    made = run(_list_and_plan(app, state))
    assert [a.kind for a in made.actions] == [ActionKind.CREATE]

    (created,) = run(_apply(app, made, secrets=state.secrets())).results

    assert (created.outcome, created.state) == (Outcome.FAILED, None)
    assert created.error is not None
    assert re.fullmatch(re.escape(HIDDEN_HINT) + CONFLICT, created.error)

    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: github\n    credentials: {type: organization}\n"
    )
    cli = invoke(app, "apply", "-f", str(manifest), "--yes")
    assert cli.exit_code == 1
    assert "FAILED create github (user) in " in cli.stdout
    assert HIDDEN_HINT in cli.stdout


def test_a_create_racing_another_creator_says_run_plan_again() -> None:
    app = create_app()
    state = desired_state(desired(slug="github", credentials=ORGANIZATION))
    made = run(_list_and_plan(app, state))

    async def someone_else() -> None:
        async with client_for(app) as client:
            await client.create({"provider": "github", "credentials": ORGANIZATION})

    run(someone_else())
    (created,) = run(_apply(app, made, secrets=state.secrets())).results

    assert created.outcome is Outcome.FAILED
    assert created.error is not None
    assert re.fullmatch(
        re.escape("created by someone else since the plan; run plan again") + CONFLICT,
        created.error,
    )
