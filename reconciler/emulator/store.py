"""The emulator's state in SQLite (stdlib ``sqlite3``): in memory, or a file that survives restarts.

The store knows rows, not API rules. Client secrets never reach it in clear:
callers pass only the last 4 characters and a salted digest (``secret_digest``).
One connection, shared by threads under a lock; ``transaction()`` nests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.ids import INTEGRATION_PREFIX, MonotonicUlids, callback_key, now_ms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS custom_providers (slug TEXT PRIMARY KEY, definition TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS integrations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL,
    ownership TEXT NOT NULL,
    description TEXT,
    enabled INTEGER NOT NULL,
    scopes TEXT,
    auth_methods TEXT NOT NULL,
    config TEXT NOT NULL,
    callback_key TEXT NOT NULL,
    credentials_type TEXT,
    client_id TEXT,
    secret_last4 TEXT,
    secret_digest TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (slug, ownership)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
"""
_COLUMNS = (
    "seq, id, slug, ownership, description, enabled, scopes, auth_methods, config, "
    "credentials_type, client_id, secret_last4, secret_digest, callback_key, created_ms, updated_ms"
)


def secret_digest(secret: str) -> str:
    """A salted one-way digest of a client secret (the secret itself is never stored)."""
    salt = os.urandom(16)
    digest = hashlib.blake2b(secret.encode(), salt=salt, digest_size=32).hexdigest()
    return f"blake2b${salt.hex()}${digest}"


@dataclass(frozen=True)
class IntegrationData:
    """What the service decides about an integration (everything but identity and clock)."""

    slug: str
    ownership: str
    description: str | None
    enabled: bool
    scopes: list[str] | None
    auth_methods: list[str]
    config: dict[str, str]
    credentials_type: str | None = None
    client_id: str | None = None
    secret_last4: str | None = None
    secret_digest: str | None = None


@dataclass(frozen=True)
class StoredIntegration:
    """An integration row: its data plus what the store assigns."""

    seq: int
    id: str
    callback_key: str
    created_ms: int
    updated_ms: int
    data: IntegrationData


@dataclass(frozen=True)
class SavedResponse:
    """The first answer to a POST with an ``Idempotency-Key``."""

    fingerprint: str
    status: int
    body: dict[str, Any]


class Store:
    """Integrations, shared custom-provider definitions and idempotency records."""

    def __init__(self, path: str | None = None, *, clock: Callable[[], int] = now_ms) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            path or ":memory:", check_same_thread=False, isolation_level=None
        )
        try:
            if path:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            self._salt = self._meta_value("salt", os.urandom(16).hex())
            last_id, newest = self._conn.execute(
                "SELECT max(id), max(created_ms) FROM integrations"
            ).fetchone()
        except sqlite3.Error:
            self.close()
            raise
        self._ids = MonotonicUlids(last_id[len(INTEGRATION_PREFIX) :] if last_id else None)
        self._newest_created_ms: int = newest or 0

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the emulator store is closed")
        return self._conn

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def _meta_value(self, key: str, default: str) -> str:
        self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, default))
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0])

    # -- integrations -------------------------------------------------------------------

    def integration(self, slug: str, ownership: str) -> StoredIntegration | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM integrations WHERE slug = ? AND ownership = ?",
                (slug, ownership),
            ).fetchone()
        return _to_integration(row) if row else None

    def insert(self, data: IntegrationData) -> StoredIntegration:
        """Store a new integration; the store assigns id, sequence and timestamps."""
        with self.transaction():
            # Never older than the last one: the API lists "by the creation time",
            # so id order and created_at order agree even if the clock steps back.
            now = max(self._clock(), self._newest_created_ms)
            self._newest_created_ms = now
            new_id = INTEGRATION_PREFIX + self._ids.next(now)
            key = callback_key()
            cursor = self._db.execute(
                f"INSERT INTO integrations ({_COLUMNS}) "
                "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new_id, *_data_values(data), key, now, now),
            )
            seq = cursor.lastrowid
        assert seq is not None
        return StoredIntegration(seq, new_id, key, now, now, data)

    def save(self, stored: StoredIntegration, data: IntegrationData) -> StoredIntegration:
        """Write new data for an integration; ``updated_at`` strictly increases."""
        with self.transaction():
            updated = max(self._clock(), stored.updated_ms + 1)
            self._db.execute(
                "UPDATE integrations SET slug = ?, ownership = ?, description = ?, enabled = ?, "
                "scopes = ?, auth_methods = ?, config = ?, credentials_type = ?, client_id = ?, "
                "secret_last4 = ?, secret_digest = ?, updated_ms = ? WHERE seq = ?",
                (*_data_values(data), updated, stored.seq),
            )
        return StoredIntegration(
            stored.seq, stored.id, stored.callback_key, stored.created_ms, updated, data
        )

    def touch_slug(self, slug: str) -> None:
        """Bump ``updated_at`` of every integration of a slug (its shared definition changed)."""
        with self.transaction():
            self._db.execute(
                "UPDATE integrations SET updated_ms = max(?, updated_ms + 1) WHERE slug = ?",
                (self._clock(), slug),
            )

    def delete(self, slug: str, ownership: str) -> bool:
        with self.transaction():
            cursor = self._db.execute(
                "DELETE FROM integrations WHERE slug = ? AND ownership = ?", (slug, ownership)
            )
        return cursor.rowcount > 0

    def count(self, slug: str | None = None) -> int:
        with self._lock:
            if slug is None:
                row = self._db.execute("SELECT count(*) FROM integrations").fetchone()
            else:
                row = self._db.execute(
                    "SELECT count(*) FROM integrations WHERE slug = ?", (slug,)
                ).fetchone()
        return int(row[0])

    def identities(self) -> set[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT slug, ownership FROM integrations").fetchall()
        return {(str(slug), str(ownership)) for slug, ownership in rows}

    def page(
        self,
        *,
        ascending: bool,
        limit: int,
        after: str | None = None,
        before: str | None = None,
        ownership: str | None = None,
        exclude_credentials_type: str | None = None,
    ) -> tuple[list[StoredIntegration], bool]:
        """One page in creation order (or its reverse), and whether more lie beyond it.

        ``after``/``before`` are ids; they bound the page in display order. With
        only ``before``, the page is the ``limit`` rows just before it. Rows whose
        ``credentials_type`` is ``exclude_credentials_type`` are left out.
        """
        conditions: list[str] = []
        params: list[Any] = []
        if exclude_credentials_type is not None:
            conditions.append("credentials_type IS NOT ?")
            params.append(exclude_credentials_type)
        if ownership is not None:
            conditions.append("ownership = ?")
            params.append(ownership)
        forward, backward = (">", "<") if ascending else ("<", ">")
        with self._lock:
            for cursor, op in ((after, forward), (before, backward)):
                if cursor is not None:
                    condition, value = self._cursor_condition(cursor, op)
                    conditions.append(condition)
                    params.append(value)
            backwards = before is not None and after is None
            direction = "ASC" if ascending != backwards else "DESC"
            where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM integrations {where} ORDER BY seq {direction} LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
        page = [_to_integration(row) for row in rows[:limit]]
        if backwards:
            page.reverse()
        return page, len(rows) > limit

    def _cursor_condition(self, cursor: str, op: str) -> tuple[str, Any]:
        row = self._db.execute("SELECT seq FROM integrations WHERE id = ?", (cursor,)).fetchone()
        if row is not None:
            return f"seq {op} ?", row[0]
        # A deleted cursor still works: ids are issued in increasing order, like seq.
        return f"id {op} ?", cursor

    # -- custom providers ---------------------------------------------------------------

    def custom_provider(self, slug: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT definition FROM custom_providers WHERE slug = ?", (slug,)
            ).fetchone()
        return _json_object(row[0]) if row else None

    def put_custom_provider(self, slug: str, definition: dict[str, Any]) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO custom_providers (slug, definition) VALUES (?, ?) "
                "ON CONFLICT (slug) DO UPDATE SET definition = excluded.definition",
                (slug, json.dumps(definition)),
            )

    def delete_custom_provider(self, slug: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM custom_providers WHERE slug = ?", (slug,))

    # -- idempotency --------------------------------------------------------------------

    def fingerprint(self, canonical: str) -> str:
        """A keyed digest of a request body (bodies may hold secrets: never store them)."""
        return hmac.new(bytes.fromhex(self._salt), canonical.encode(), hashlib.sha256).hexdigest()

    def saved_response(self, key: str) -> SavedResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, status, body FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
        return SavedResponse(str(row[0]), int(row[1]), _json_object(row[2])) if row else None

    def save_response(self, key: str, fingerprint: str, status: int, body: dict[str, Any]) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO idempotency (key, fingerprint, status, body, created_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, fingerprint, status, json.dumps(body), self._clock()),
            )

    def reset(self) -> None:
        """Forget every integration, definition and idempotency record."""
        with self.transaction():
            for table in ("integrations", "custom_providers", "idempotency"):
                self._db.execute(f"DELETE FROM {table}")


def _data_values(data: IntegrationData) -> tuple[Any, ...]:
    return (
        data.slug,
        data.ownership,
        data.description,
        int(data.enabled),
        None if data.scopes is None else json.dumps(data.scopes),
        json.dumps(data.auth_methods),
        json.dumps(data.config),
        data.credentials_type,
        data.client_id,
        data.secret_last4,
        data.secret_digest,
    )


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def _to_integration(row: tuple[Any, ...]) -> StoredIntegration:
    (seq, id_, slug, ownership, description, enabled, scopes, auth_methods, config) = row[:9]
    (credentials_type, client_id, last4, digest, key, created_ms, updated_ms) = row[9:]
    data = IntegrationData(
        slug=slug,
        ownership=ownership,
        description=description,
        enabled=bool(enabled),
        scopes=None if scopes is None else json.loads(scopes),
        auth_methods=json.loads(auth_methods),
        config=json.loads(config),
        credentials_type=credentials_type,
        client_id=client_id,
        secret_last4=last4,
        secret_digest=digest,
    )
    return StoredIntegration(seq, id_, key, created_ms, updated_ms, data)
