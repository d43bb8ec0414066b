"""Transport safety of the client: TLS always verified, plain http only to loopback.

The TLS tests serve the emulator over HTTPS on loopback with a throwaway
self-signed certificate (made with the ``openssl`` command): the client
refuses it, whatever the environment says, unless the certificate is made
trusted through ``SSL_CERT_FILE``; even then the host name must match.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import certifi
import httpx
import pytest
import uvicorn

from reconciler.client import ApiClient
from reconciler.emulator.app import create_app, store_of
from reconciler.errors import ApiUnreachableError, ConfigError
from reconciler.urls import check_base_url
from tests.support import API_KEY, RecordingSleep, run

# -- plain http only to loopback ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
        "http://localhost.",
        "http://[::ffff:8.8.8.8]",
        "http://[::ffff:8.8.8.8]:8787",
        "http://0.0.0.0:8787",
        "http://10.0.0.1",
        "http://169.254.169.254",
        "http://[::]",
        "http://[fe80::1]",
        "http://2130706433",  # 127.0.0.1 as one decimal number: resolvers may accept it
        "http://0x7f000001",
        "http://127.1",
        "http://127.0.0.1%20.evil.example",
        "http://127.0.0.1@evil.example",
        "http://localhost:8787@evil.example",
        "http://127.0.0.1:8787:x@evil.example",
        "http://evil.example\\@127.0.0.1",
        "http://evil.example#@127.0.0.1",
        "http://evil.example?@127.0.0.1",
        "http:///127.0.0.1",
        "http:127.0.0.1",
        "ftp://127.0.0.1",
        "file:///etc/passwd",
        "not a url",
        "",
    ],
)
def test_plain_http_to_anything_but_loopback_is_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)
    with pytest.raises(ConfigError):
        ApiClient(api_key=API_KEY, base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.workos.com",
        "https://api.workos.com/",
        "https://10.0.0.1:8443",
        "http://127.0.0.1:8787",
        "http://127.0.0.2",
        "http://localhost:1",
        "http://LOCALHOST:8787",
        "http://[::1]:2",
    ],
)
def test_https_anywhere_and_plain_http_to_loopback_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999",
        "http://[::1]:65536",
        "http://localhost:0",
        "https://api.workos.com:-443",
        "https://api.workos.com:x",
        "https://api.workos.com:99999999999999999999",
        "https://",
        "https://:443",
        "https://xn--zz.com",
        "https://api.workos.com\n",
        " https://api.workos.com",
        "https://api.workos.com/a b",
        "https://api\u202e.workos.com",
        "https://api_workos!.com",
    ],
)
def test_a_malformed_url_is_a_config_error_never_a_crash(url: str) -> None:
    with pytest.raises(ConfigError, match="API URL"):
        check_base_url(url)
    with pytest.raises(ConfigError, match="API URL"):
        ApiClient(api_key=API_KEY, base_url=url)


def test_credentials_in_the_url_are_refused_without_being_repeated() -> None:
    for url in ("https://user:hunter2pass@api.workos.com", "http://sk_live_x:@127.0.0.1:8787"):
        with pytest.raises(ConfigError) as caught:
            check_base_url(url)
        assert "hunter2pass" not in str(caught.value)
        assert "sk_live_x" not in str(caught.value)


# -- TLS: on, and no way to turn it off --------------------------------------------------


def _context_of(client: ApiClient) -> ssl.SSLContext:
    """The SSL context of the connection pool the client really uses (httpx internals)."""
    transport = client._http._transport
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    context = transport._pool._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def test_the_client_has_no_option_that_touches_tls() -> None:
    parameters = set(inspect.signature(ApiClient).parameters)
    for word in ("verify", "ssl", "tls", "cert", "insecure", "trust", "http2", "proxy", "mounts"):
        assert not [name for name in parameters if word in name.lower()], word


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SSL_CERT_FILE": certifi.where()},
        {"SSL_CERT_DIR": "/nonexistent"},
        {
            "PYTHONHTTPSVERIFY": "0",
            "CURL_CA_BUNDLE": "",
            "REQUESTS_CA_BUNDLE": "",
            "HTTPX_VERIFY": "0",
            "SSL_VERIFY": "false",
            "NODE_TLS_REJECT_UNAUTHORIZED": "0",
        },
    ],
    ids=["default", "ssl-cert-file", "ssl-cert-dir", "would-be-off-switches"],
)
def test_tls_is_verified_whatever_the_environment(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    client = ApiClient(api_key=API_KEY)
    try:
        context = _context_of(client)
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
    finally:
        run(client.aclose())


# -- TLS against a real server -----------------------------------------------------------


def _make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` (and its key), made by ``openssl``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """The emulator over HTTPS on 127.0.0.1 with a self-signed certificate: (port, cert)."""
    cert, key = _make_certificate(tmp_path_factory.mktemp("tls"))
    app = create_app(api_key=API_KEY)
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="critical",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the TLS server did not start"
        time.sleep(0.02)
    yield port, cert
    server.should_exit = True
    thread.join(timeout=10)
    store_of(app).close()


def _list_over_tls(url: str) -> int:
    async def scenario() -> int:
        async with ApiClient(
            api_key=API_KEY, base_url=url, max_retries=0, sleep=RecordingSleep()
        ) as client:
            return len(await client.list_integrations())

    return asyncio.run(scenario())


def test_an_untrusted_certificate_is_refused(
    tls_emulator: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = tls_emulator
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("PYTHONHTTPSVERIFY", "0")
    with pytest.raises(ApiUnreachableError, match="CERTIFICATE_VERIFY_FAILED"):
        _list_over_tls(f"https://localhost:{port}")


def test_ssl_cert_file_trusts_a_certificate_but_the_host_name_is_still_checked(
    tls_emulator: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert = tls_emulator
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert _list_over_tls(f"https://localhost:{port}") == 0
    with pytest.raises(ApiUnreachableError, match="CERTIFICATE_VERIFY_FAILED"):
        _list_over_tls(f"https://127.0.0.1:{port}")  # the certificate names localhost only
