"""The client's base URL: unsafe URLs refused, bad ones config errors that say
why, connection failures name the origin."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator.app import create_app
from reconciler.errors import (
    ApiUnreachableError,
    ConfigError,
)
from reconciler.urls import check_base_url
from tests.support import (
    client_for,
    run,
    stats,
)
from tests.support.client import FlakyTransport


@pytest.mark.parametrize("url", ["http://api.example.com", "ftp://127.0.0.1", "not a url"])
def test_unsafe_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://api.workos.com", "http://127.0.0.1:8787", "http://localhost:1", "http://[::1]:2"],
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    assert check_base_url(url) == url


# -- bad API URLs are clean errors; transport errors say where ----------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1:99999",
            "invalid API URL 'http://127.0.0.1:99999': port 99999 is out of range;"
            " the port must be a number from 1 to 65535",
        ),
        ("http://127.0.0.1:0", "port 0 is out of range"),
        ("https://api.workos.com:-1", "port -1 is out of range"),
        (
            "https://api.workos.com:http",
            "invalid API URL: the port must be a number from 1 to 65535",
        ),
        ("https://", "invalid API URL 'https://': no host name; expected https://host[:port]"),
        ("http://:8787", "no host name"),
        ("https://exa mple.com", "invalid API URL: it must not contain spaces or control"),
        ("https://api.workos.com/\u202e", "it must not contain spaces or control characters"),
        ("https://api%20.workos.com", "'api%20.workos.com' is not a valid host name"),
        ("https://xn--zz.com", "invalid API URL: expected https://host[:port]"),
        ("localhost:8787", "invalid API URL 'localhost:8787': it must start with https://"),
        ("", "no API URL given: expected https://host[:port]"),
        ("https://api.workos.com?key=sk_live_hidden", "must not have a query or fragment"),
    ],
)
def test_bad_api_urls_are_config_errors_that_say_why(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_base_url(url)
    assert message in str(caught.value)
    assert "sk_live_hidden" not in str(caught.value)


def test_a_bad_api_url_fails_before_any_request(tmp_path: Any) -> None:
    from tests.support import invoke

    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("version: 1\nintegrations: []\n")
    app = create_app()
    by_option = invoke(app, "plan", "-f", str(manifest), "--api-url", "http://127.0.0.1:99999")
    by_env = invoke(app, "plan", "-f", str(manifest), WORKOS_BASE_URL="http://127.0.0.1:99999")
    for result in (by_option, by_env):
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert result.stderr == (
            "Error: invalid API URL 'http://127.0.0.1:99999': port 99999 is out of range;"
            " the port must be a number from 1 to 65535\n"
        )
    assert run(stats(app))["requests"] == {}


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_refused_connection_says_where_it_tried_to_connect() -> None:
    port = _closed_port()
    client = client_for(
        api_key="sk_test_key_never_shown_1234", base_url=f"http://127.0.0.1:{port}", max_retries=0
    )

    async def scenario() -> None:
        async with client:
            await client.list_integrations()

    with pytest.raises(ApiUnreachableError) as caught:
        run(scenario())
    assert str(caught.value) == (
        f"cannot reach 127.0.0.1:{port}: connection refused (GET /data-integrations: 1 attempt);"
        " nothing is listening there: check the API URL (--api-url or WORKOS_BASE_URL)"
    )
    assert "sk_test_key" not in str(caught.value)


def test_a_transport_failure_names_the_origin_not_the_request() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection dropped", request=request)

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("", request=request)

    for failure, expected in [
        (refuse, "cannot reach localhost:80: connection dropped"),
        (hang, "cannot reach localhost:80: timed out waiting for the answer"),
    ]:

        async def scenario(transport: FlakyTransport) -> None:
            async with client_for(create_app(), transport=transport) as client:
                client.max_retries = 0
                await client.delete("acme", "user")

        with pytest.raises(ApiUnreachableError) as caught:
            run(scenario(FlakyTransport(create_app(), [failure])))
        assert str(caught.value).startswith(f"{expected} (DELETE /data-integrations/acme: ")
