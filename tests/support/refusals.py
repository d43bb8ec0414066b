"""An API that refuses what the tool cannot foresee, for the tests of failed writes.

The tool refuses, before any write, every request it can know the API would
refuse (``validate`` and ``plan``); a failed re-create then needs a rule only
WorkOS knows, such as a Snowflake account that does not exist. ``RefusesCreates``
wraps a transport and answers such a create as the API answers a 422.
"""

from __future__ import annotations

import httpx

UNKNOWN_ACCOUNT = "config.account: no Snowflake account of that name"


class RefusesCreates(httpx.AsyncBaseTransport):
    """Answers 422 to every POST whose body holds ``marker``; passes the rest on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, marker: str) -> None:
        self.inner = inner
        self.marker = marker.encode()
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and self.marker in request.content:
            self.refused += 1
            body = {
                "message": UNKNOWN_ACCOUNT,
                "code": "validation_error",
                "errors": [
                    {"field": "config.account", "code": "invalid", "message": "no such account"}
                ],
            }
            return httpx.Response(
                422, json=body, headers={"X-Request-ID": "req_refused"}, request=request
            )
        return await self.inner.handle_async_request(request)
