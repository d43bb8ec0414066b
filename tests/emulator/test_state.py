"""The emulator's state: a ``--db`` file survives a restart, and a seed loads (once) or
names its bad entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.service import SeedError
from tests.emulator.contract import (
    AUTH,
    ApiClient,
    acme,
    create,
    github,
)


def test_a_db_file_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    first_app = create_app(db_path=db)
    with ApiClient(first_app, headers=AUTH) as first:
        custom = create(first, acme())
        builtin = create(first, github(), **{"Idempotency-Key": "persist"})
    store_of(first_app).close()

    second_app = create_app(db_path=db)
    try:
        with ApiClient(second_app, headers=AUTH) as second:
            assert second.get("/data-integrations/acme-crm").json() == custom
            assert second.get("/data-integrations/github").json() == builtin
            replay = second.post(
                "/data-integrations", json=github(), headers={"Idempotency-Key": "persist"}
            )
            assert replay.json() == builtin
            newer = create(second, acme(ownership="organization"))
            assert newer["id"] > builtin["id"] > custom["id"]
            assert newer["custom_provider"] == custom["custom_provider"]
    finally:
        store_of(second_app).close()


def test_seed_loads_entries_and_names_a_bad_one(tmp_path: Path) -> None:
    seed = [
        github(),
        acme(ownership="organization"),
        {"provider": "linear", "auth_methods": ["api_key"]},
    ]
    app = create_app(seed=seed)
    try:
        with ApiClient(app, headers=AUTH) as test_client:
            listed = test_client.get("/data-integrations?order=asc").json()["data"]
        assert [(i["slug"], i["ownership"]) for i in listed] == [
            ("github", "user"),
            ("acme-crm", "organization"),
            ("linear", "user"),
        ]
    finally:
        store_of(app).close()

    with pytest.raises(SeedError, match=r"seed\[1\].*credentials"):
        create_app(seed=[github(), {"provider": "slack"}])
    with pytest.raises(SeedError, match=r"seed\[0\]: ownership"):
        create_app(seed=[github(ownership="team")])
    with pytest.raises(SeedError, match=r"seed\[1\].*already exists"):
        create_app(seed=[github(), github()])

    db = str(tmp_path / "seeded.db")
    for _ in range(2):  # restarting on the same file with the same seed works
        store_of(create_app(db_path=db, seed=seed)).close()
