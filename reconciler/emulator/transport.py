"""An httpx transport to the emulator in-process, where a dropped connection looks like one.

``httpx.ASGITransport`` hands the app's exceptions to the caller as they are;
this one turns the emulator's injected drop into the ``httpx.RemoteProtocolError``
a real server's closed connection gives, so clients retry it as they would
over a socket.
"""

from __future__ import annotations

import httpx

from reconciler.emulator.problems import ConnectionDropped


class EmulatorTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` over an emulator app, with dropped connections as httpx errors."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from None
