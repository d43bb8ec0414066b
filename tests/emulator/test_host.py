"""The emulator answers only a ``Host`` that names it: a loopback name or address, or the
host it was started with (``--host``). A web page that rebinds its own name to 127.0.0.1
(DNS rebinding) sends that name, and gets a 400 before anything else happens."""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.middleware import host_allowed
from tests.support import AUTH, run


def answer(host: str | None, path: str, *, hosts: tuple[str, ...] = ()) -> httpx.Response:
    app = create_app(hosts=hosts)

    async def request() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http:
            built = http.build_request("GET", path, headers=AUTH)
            if host is None:
                del built.headers["Host"]
            else:
                built.headers["Host"] = host
            return await http.send(built)

    try:
        return run(request())
    finally:
        store_of(app).close()


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8787", "LOCALHOST", "127.0.0.1:8787", "127.8.9.10", "[::1]:8787"],
)
@pytest.mark.parametrize("path", ["/data-integrations", "/_emulator/stats", "/openapi.json"])
def test_loopback_names_are_served(host: str, path: str) -> None:
    assert answer(host, path).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8787",
        "localhost.attacker.example",
        "127.0.0.1.attacker.example",
        "10.0.0.5",
        "[::2]",
        "user@localhost",
        "localhost/path",
        "",
        None,
    ],
)
@pytest.mark.parametrize("path", ["/data-integrations", "/_emulator/stats", "/openapi.json"])
def test_any_other_host_is_refused_before_the_key_is_checked(host: str | None, path: str) -> None:
    refused = answer(host, path)
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "invalid_host"
    assert refused.headers["X-Request-ID"]


def test_the_host_it_was_started_with_is_served() -> None:
    started = ("emulator.internal",)
    for host in ("emulator.internal:8787", "Emulator.Internal"):
        assert answer(host, "/data-integrations", hosts=started).status_code == 200
    assert answer("other.internal", "/data-integrations", hosts=started).status_code == 400


def test_host_allowed_reads_names_not_fragments() -> None:
    assert host_allowed("[::1]", set())
    assert not host_allowed("localhost:notaport", set())
    assert host_allowed("box.localhost", set())  # *.localhost is loopback by definition
    assert not host_allowed("0.0.0.0:8787", set())
    assert host_allowed("0.0.0.0:8787", {"0.0.0.0"})  # started with --host 0.0.0.0
