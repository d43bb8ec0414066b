"""Untrusted text through the CLI: an API's hostile message stays on one line, and
ordinary non-ASCII text is shown as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator.app import create_app
from tests.support import invoke
from tests.support.hostile import shows_only_safe_text


class _Hostile422(httpx.AsyncBaseTransport):
    """The emulator, except that every POST is refused with a message forging lines."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            message = "rejected\n::error::pwned\r\n##[warning]forged \x1b[2J\u202e"
            return httpx.Response(422, json={"message": message})
        return await self.inner.handle_async_request(request)


def test_apply_shows_hostile_api_messages_on_one_line(manifest: Path) -> None:
    result = invoke(
        None,
        "apply",
        "-f",
        str(manifest),
        "--yes",
        transport=_Hostile422(create_app()),
        GITHUB_ACTIONS="true",
    )
    assert result.exit_code == 1, result.output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith("FAILED create slack (user) in ")
    assert failed[0].endswith(
        ": API error 422: rejected\\n::error::pwned\\r\\n##\\x5bwarning]forged \\x1b[2J\\u202e"
    )
    shows_only_safe_text(result.stdout)


def test_ordinary_text_is_shown_as_written(tmp_path: Any) -> None:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(
        "version: 1\nintegrations:\n  - slug: slack\n    description: Café — 東京\n"
        "    credentials: {type: organization}\n"
    )
    result = invoke(create_app(), "plan", "-f", str(manifest))
    assert result.exit_code == 0, result.output
    assert '+ description: "Café — 東京"' in result.stdout
