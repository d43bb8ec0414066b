"""Connection failures that say what to do: where the client tried to connect (host and
port), what kind of failure it was, how many attempts were made; and no retry of what
cannot succeed (a DNS name that does not exist, a certificate that does not verify),
while a temporary DNS failure, a refused connection or a timeout is retried.

Failures are injected as httpx raises them (the OS error in the exception's chain),
and checked for real where the machine allows it: a closed port, a TLS server with a
self-signed certificate, a name under ``.invalid``.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from reconciler.client import ApiClient
from reconciler.emulator.app import create_app
from reconciler.errors import ApiUnreachableError
from reconciler.responses import endpoint, unreachable
from tests.support import RecordingSleep, client_for, invoke, run

CHECK_URL = "check the API URL (--api-url or WORKOS_BASE_URL)"
Failure = Callable[[httpx.Request], httpx.TransportError]


def _name_not_found(request: httpx.Request) -> httpx.TransportError:
    return _wrapped(socket.gaierror(socket.EAI_NONAME, "Name or service not known"), request)


def _dns_busy(request: httpx.Request) -> httpx.TransportError:
    error = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    return _wrapped(error, request)


def _untrusted(request: httpx.Request) -> httpx.TransportError:
    error = ssl.SSLCertVerificationError(
        1,
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate (_ssl.c:1006)",
    )
    return _wrapped(error, request)


def _refused_on_every_address(request: httpx.Request) -> httpx.TransportError:
    """As anyio reports a host with several addresses, all refusing."""
    refusals = [ConnectionRefusedError(111, f"Connect call failed ('{a}', 443)") for a in "AB"]
    group = ExceptionGroup("multiple connection attempts failed", refusals)
    try:
        raise OSError("All connection attempts failed") from group
    except OSError as error:
        return _wrapped(error, request)


def _connect_timeout(request: httpx.Request) -> httpx.TransportError:
    return httpx.ConnectTimeout("", request=request)


def _wrapped(cause: BaseException, request: httpx.Request) -> httpx.TransportError:
    """``httpx.ConnectError`` over ``cause``, the way httpx chains them."""
    try:
        raise httpx.ConnectError(str(cause), request=request) from cause
    except httpx.ConnectError as error:
        return error


class Failing(httpx.AsyncBaseTransport):
    """Fails the first ``times`` requests with ``failure``, then answers from ``app``."""

    def __init__(self, failure: Failure, times: int = 100, app: FastAPI | None = None) -> None:
        self.failure = failure
        self.times = times
        self.inner = httpx.ASGITransport(app=app or create_app(hosts=["api.example.test"]))
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen <= self.times:
            raise self.failure(request)
        return await self.inner.handle_async_request(request)


def _listing_fails(transport: httpx.AsyncBaseTransport, sleep: RecordingSleep) -> str:
    client = client_for(
        base_url="https://api.example.test", transport=transport, sleep=sleep, max_retries=3
    )

    async def scenario() -> None:
        async with client:
            await client.list_integrations()

    with pytest.raises(ApiUnreachableError) as caught:
        run(scenario())
    return str(caught.value)


# -- what can't succeed is not retried --------------------------------------------------------


def test_a_name_that_does_not_exist_fails_at_once_naming_host_and_port() -> None:
    transport, sleep = Failing(_name_not_found), RecordingSleep()
    message = _listing_fails(transport, sleep)
    assert message == (
        "cannot reach api.example.test:443: DNS name not found "
        "(GET /data-integrations: 1 attempt, not retried); "
        "check the host name in the API URL (--api-url or WORKOS_BASE_URL)"
    )
    assert transport.seen == 1
    assert sleep.delays == []


def test_a_certificate_that_does_not_verify_fails_at_once() -> None:
    transport, sleep = Failing(_untrusted), RecordingSleep()
    message = _listing_fails(transport, sleep)
    assert message == (
        "cannot reach api.example.test:443: TLS certificate verification failed "
        "([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate) "
        "(GET /data-integrations: 1 attempt, not retried); the server's certificate is not "
        f"trusted for this host: {CHECK_URL}; a private certificate authority goes in "
        "SSL_CERT_FILE"
    )
    assert transport.seen == 1
    assert sleep.delays == []


# -- what may succeed next time is retried, and the attempts counted --------------------------


def test_a_temporary_dns_failure_is_retried_and_the_attempts_counted() -> None:
    transport, sleep = Failing(_dns_busy), RecordingSleep()
    message = _listing_fails(transport, sleep)
    assert message == (
        "cannot reach api.example.test:443: temporary DNS failure "
        "(GET /data-integrations: 4 attempts); the name server did not answer: check the network"
    )
    assert transport.seen == 4
    assert len(sleep.delays) == 3


def test_a_temporary_dns_failure_that_clears_is_no_error() -> None:
    transport = Failing(_dns_busy, times=2)

    async def scenario() -> int:
        async with client_for(base_url="https://api.example.test", transport=transport) as client:
            return len(await client.list_integrations())

    assert run(scenario()) == 0
    assert transport.seen == 3


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (_refused_on_every_address, "connection refused"),
        (_connect_timeout, "timed out connecting"),
    ],
    ids=["refused", "timeout"],
)
def test_refused_and_timed_out_connections_are_retried(failure: Failure, reason: str) -> None:
    transport, sleep = Failing(failure), RecordingSleep()
    message = _listing_fails(transport, sleep)
    assert message.startswith(
        f"cannot reach api.example.test:443: {reason} (GET /data-integrations: 4 attempts); "
    )
    assert transport.seen == 4


def test_the_failure_kinds() -> None:
    request = httpx.Request("GET", "https://api.example.test/data-integrations")
    read_timeout = httpx.ReadTimeout("", request=request)
    kinds = {
        "name": unreachable(_name_not_found(request)),
        "dns": unreachable(_dns_busy(request)),
        "tls": unreachable(_untrusted(request)),
        "refused": unreachable(_refused_on_every_address(request)),
        "read": unreachable(read_timeout),
    }
    assert {k: (v.retry, v.sent) for k, v in kinds.items()} == {
        "name": (False, False),
        "dns": (True, False),
        "tls": (False, False),
        "refused": (True, False),
        "read": (True, True),  # the request may have reached the API
    }
    assert kinds["read"].reason == "timed out waiting for the answer"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("https://api.workos.com", "api.workos.com:443"),
        ("https://api.workos.com:8443/v1", "api.workos.com:8443"),
        ("http://localhost", "localhost:80"),
        ("http://[::1]:8787", "[::1]:8787"),
    ],
)
def test_the_endpoint_names_host_and_port(url: str, where: str) -> None:
    assert endpoint(httpx.URL(url)) == where


# -- for real: a closed port, a self-signed certificate, a name that does not exist -------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_closed_port_is_retried_and_says_so() -> None:
    port = _closed_port()
    sleep = RecordingSleep()
    client = client_for(base_url=f"http://127.0.0.1:{port}", sleep=sleep, max_retries=2)

    async def scenario() -> None:
        async with client:
            await client.list_integrations()

    with pytest.raises(ApiUnreachableError) as caught:
        run(scenario())
    assert str(caught.value) == (
        f"cannot reach 127.0.0.1:{port}: connection refused (GET /data-integrations: "
        f"3 attempts); nothing is listening there: {CHECK_URL}"
    )
    assert caught.value.attempts == 3 and caught.value.where == f"127.0.0.1:{port}"
    assert len(sleep.delays) == 2


def _self_signed(directory: Path) -> ssl.SSLContext:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_a_real_untrusted_certificate_is_tried_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    server_context = _self_signed(tmp_path)

    async def scenario() -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        server = await asyncio.start_server(
            serve, "127.0.0.1", 0, ssl=server_context, ssl_handshake_timeout=5
        )
        port = server.sockets[0].getsockname()[1]
        # the server's side of each refused handshake is an error the loop would log
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
        sleep = RecordingSleep()
        client = ApiClient(
            api_key="sk_test_x", base_url=f"https://localhost:{port}", sleep=sleep, max_retries=3
        )
        try:
            async with client:
                await client.list_integrations()
        except ApiUnreachableError as error:
            assert sleep.delays == []
            return str(error)
        finally:
            server.close()
        raise AssertionError("the certificate was trusted")

    message = run(scenario())
    assert message.startswith("cannot reach localhost:")
    assert "TLS certificate verification failed ([SSL: CERTIFICATE_VERIFY_FAILED]" in message
    assert "(GET /data-integrations: 1 attempt, not retried)" in message


def test_a_real_name_that_does_not_resolve() -> None:
    """``.invalid`` never resolves (RFC 6761): "not found" where a name server answers,
    "temporary" where none can be reached; either way the message names it."""
    sleep = RecordingSleep()
    client = client_for(base_url="https://api.reconciler.invalid", sleep=sleep, max_retries=1)

    async def scenario() -> None:
        async with client:
            await client.list_integrations()

    with pytest.raises(ApiUnreachableError) as caught:
        run(scenario())
    message = str(caught.value)
    if "DNS name not found" in message:
        assert "(GET /data-integrations: 1 attempt, not retried)" in message
        assert sleep.delays == []
    else:
        assert "cannot reach api.reconciler.invalid:443: temporary DNS failure" in message
        assert "2 attempts" in message
    assert message.startswith("cannot reach api.reconciler.invalid:443: ")


# -- through the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (_name_not_found, "DNS name not found"),
        (_untrusted, "TLS certificate verification failed"),
    ],
    ids=["dns", "tls"],
)
def test_the_cli_says_cannot_reach_not_api_error(
    failure: Failure, reason: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("version: 1\nintegrations: []\n")
    result = invoke(
        None,
        "plan",
        "-f",
        str(manifest),
        transport=Failing(failure),
        WORKOS_BASE_URL="https://api.example.test",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot reach api.example.test:443: {reason}")
    assert "(GET /data-integrations: 1 attempt, not retried)" in result.stderr
    assert "API error" not in result.stderr
    assert "Traceback" not in result.output
