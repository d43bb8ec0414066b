"""The emulator never echoes nor logs a secret: canaries in bodies good and bad, over
ASGI and over loopback (uvicorn's own logging included).

Error answers name fields and never quote values; a body that is not JSON,
not UTF-8 or too large comes back as none of its text. The emulator's own API
key is printed only by its last 4 (the public default key excepted).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.command import shown_key
from reconciler.emulator.middleware import MAX_BODY_BYTES
from tests.conftest import REPO_ROOT
from tests.emulator import contract
from tests.emulator.contract import CANARY, CANARY_ROTATED, ApiClient, custom_credentials, github

SECRET = "canary-emulator-secret-Hk27"
API_KEY = "sk_test_canary-emulator-key-Pw93"
FRAGMENTS = (SECRET, "emulator-secret", API_KEY, "canary-emulator-key")
AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
GOOD = (
    '{"provider": "github", "credentials": '
    '{"type": "custom", "client_id": "id", "client_secret": "' + SECRET + '"}}'
)
HOSTILE_BODIES: list[bytes] = [
    GOOD[:-2].encode(),  # cut short: not JSON
    (GOOD + "}").encode(),  # one brace too many
    (GOOD + " trailing").encode(),
    GOOD.replace('"id",', '"id"').encode(),  # a comma missing
    GOOD.replace(SECRET, SECRET + "\x01").encode(),  # a control character in a string
    GOOD.replace(SECRET, SECRET + "\\ud800").encode(),  # a lone surrogate
    GOOD.encode("utf-16"),
    b"\xff\xfe" + SECRET.encode(),
    SECRET.encode("latin-1") + b"\xe9",
    SECRET.encode(),
    f'"{SECRET}"'.encode(),
    f'["{SECRET}"]'.encode(),
    GOOD.replace('"custom"', f'"{SECRET}"').encode(),  # the secret as an enum value
    GOOD.replace('"github"', f'"{SECRET}"').encode(),  # ... as a slug
    GOOD.replace('"id"', f'["{SECRET}"]').encode(),  # ... in a list where a string goes
    GOOD.replace(f'"{SECRET}"', f'{{"value": "{SECRET}"}}').encode(),  # ... in an object
    GOOD.replace('"provider"', f'"enabled": "{SECRET}", "provider"').encode(),
    GOOD.replace('"provider"', f'"scopes": "{SECRET}", "provider"').encode(),
    GOOD.replace('"provider"', f'"auth_methods": ["{SECRET}"], "provider"').encode(),
    GOOD.replace('"provider"', f'"config": {{"a": ["{SECRET}"]}}, "provider"').encode(),
    GOOD.replace('"provider"', f'"ownership": "{SECRET}", "provider"').encode(),
    (
        '{"provider": "acme", "custom_provider": {"name": "x", "token_url": "http://'
        + SECRET
        + '"}, "credentials": {"type": "organization"}}'
    ).encode(),
    GOOD.encode() + b" " * MAX_BODY_BYTES,  # too large
]
TARGETS = [
    ("POST", "/data-integrations"),
    ("PUT", "/data-integrations/github"),
    ("PUT", "/data-integrations/github/organization"),
]


def assert_clean(text: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text, text[:2000]


def test_no_answer_nor_log_record_quotes_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(api_key=API_KEY)
    statuses: set[int] = set()

    async def scenario() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost", headers=AUTH
        ) as http:
            created = await http.post("/data-integrations", content=GOOD)
            assert created.status_code == 201
            assert_clean(created.text)
            for body in HOSTILE_BODIES:
                for method, path in TARGETS:
                    for content_type in ("application/json", "text/plain"):
                        answer = await http.request(
                            method, path, content=body, headers={"Content-Type": content_type}
                        )
                        statuses.add(answer.status_code)
                        assert 400 <= answer.status_code < 500, answer.text
                        assert_clean(answer.text)
                        assert_clean(str(answer.headers))
            wrong_key = {"Authorization": f"Bearer {SECRET}"}
            refused = await http.post("/data-integrations", content=GOOD, headers=wrong_key)
            assert refused.status_code == 401
            assert_clean(refused.text + str(refused.headers))
            store_of(app).close()  # every request from here on fails unexpectedly
            broken = await http.post("/data-integrations", content=GOOD)
            assert broken.status_code == 500
            assert_clean(broken.text)

    asyncio.run(scenario())
    assert {413, 422} <= statuses
    assert "unhandled error" in caplog.text  # the 500 above was logged, with its traceback
    assert_clean(caplog.text)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def emulator_output(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``reconciler emulator`` process keyed with the canary; (base URL, its output file)."""
    port = _free_port()
    log = tmp_path / "emulator.log"
    env = {**os.environ, "RECONCILER_EMULATOR_API_KEY": API_KEY}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler.emulator", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                try:
                    stats = httpx.get(f"{base_url}/_emulator/stats", headers=AUTH, timeout=1)
                    if stats.status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield base_url, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _raw(base_url: str, request: bytes) -> bytes:
    """Send raw bytes on a fresh connection; return whatever comes back."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_over_loopback_neither_answers_nor_server_logs_hold_a_secret(
    emulator_output: tuple[str, Path],
) -> None:
    base_url, log = emulator_output
    answers: list[str] = []
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as http:
        created = http.post("/data-integrations", content=GOOD)
        assert created.status_code == 201
        answers.append(created.text)
        for body in HOSTILE_BODIES:
            answer = http.post("/data-integrations", content=body)
            assert 400 <= answer.status_code < 500
            answers.append(answer.text + str(answer.headers))
        answers.append(http.get("/data-integrations", headers={"Authorization": SECRET}).text)
    raw_requests = [
        f"POST /data-integrations HTTP/1.1\r\nHost: x\r\nContent-Length: nope{SECRET}\r\n\r\n",
        f"GARBAGE {SECRET}\r\n\r\n",
        f"GET /data-integrations HTTP/1.1\r\nHost: x\r\nBad Header: {SECRET}\r\n\r\n",
        (
            "POST /data-integrations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"Authorization: Bearer {API_KEY}\r\n\r\nZZ\r\n{SECRET}\r\n0\r\n\r\n"
        ),
    ]
    for request in raw_requests:
        answers.append(_raw(base_url, request.encode()).decode(errors="replace"))
    for text in answers:
        assert_clean(text)
    time.sleep(0.2)  # let the server write what it logs
    output = log.read_text(errors="replace")
    assert "Emulator listening on" in output
    assert f"(API key {shown_key(API_KEY)})" in output and "Pw93" in output
    assert_clean(output)


def test_the_emulator_prints_its_key_by_the_last_4_unless_it_is_the_public_default() -> None:
    assert shown_key("sk_test_emulator") == "sk_test_emulator"
    assert shown_key(API_KEY) == "…Pw93"
    assert shown_key("short") == "…"


def test_the_client_secret_is_never_returned_logged_or_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "emulator.db"
    app = create_app(db_path=str(db))
    texts: list[str] = []
    with ApiClient(app, headers=contract.AUTH) as test_client:
        key = {"Idempotency-Key": "secret-test"}
        for response in (
            test_client.post("/data-integrations", json=github(), headers=key),
            test_client.post("/data-integrations", json=github(), headers=key),
            test_client.post("/data-integrations", json=github()),
            test_client.post(
                "/data-integrations",
                json=github(
                    ownership="organization",
                    credentials={"type": "organization", "client_secret": CANARY},
                ),
            ),
            test_client.put(
                "/data-integrations/github",
                json={"credentials": custom_credentials(CANARY_ROTATED)},
            ),
            test_client.put(
                "/data-integrations/github",
                json={"credentials": {"type": "custom", "client_secret": CANARY}},
            ),
            test_client.get("/data-integrations/github"),
            test_client.get("/data-integrations"),
        ):
            texts.append(response.text)
    store_of(app).close()
    everything = "\n".join(texts) + caplog.text
    assert "QRST" in everything
    for secret in (CANARY, CANARY_ROTATED):
        assert secret not in everything
        assert secret[:-4] not in everything
        for path in tmp_path.iterdir():
            assert secret.encode() not in path.read_bytes(), path
