"""A local emulator of the WorkOS Pipes Data Integrations API (FastAPI + SQLite).

``create_app`` (in ``app``) builds the ASGI app; ``command.emulator`` serves it.
Nothing here is imported by ``reconciler --help``: FastAPI loads only on demand.
"""

from __future__ import annotations
