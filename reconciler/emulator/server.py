"""The emulator app served by uvicorn on a host and port.

Imported by the ``emulator`` command only after ``require_extra`` found
uvicorn and FastAPI: this module imports uvicorn at its top.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click
import uvicorn
from fastapi import FastAPI

from reconciler.emulator.problems import ConnectionDropped


def _quiet_drops(record: logging.LogRecord) -> bool:
    """Keep uvicorn from logging a traceback for each connection dropped on purpose."""
    return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def serve(app: FastAPI, host: str, port: int, on_listening: Callable[[int], None]) -> None:
    """Serve ``app`` until interrupted; ``on_listening(port)`` once bound (port 0: any free).

    A bind failure (port taken, unknown host) is a ``ClickException``, not uvicorn's exit.
    """

    class Server(uvicorn.Server):
        """Says where it listens once it does."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                bound = self.servers[0].sockets[0].getsockname() if self.servers else (host, port)
                on_listening(bound[1])

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    logging.getLogger("uvicorn.error").addFilter(_quiet_drops)
    server = Server(config)
    try:
        server.run()
    except SystemExit:
        if server.started:
            raise
        raise click.ClickException(f"could not listen on {host}:{port}") from None
