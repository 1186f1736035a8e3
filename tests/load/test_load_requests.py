"""The load mode sends the profile's request (method, headers, body) and speaks verified TLS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conformance.load.cli import build_parser, config_from_args, main
from conformance.load.runner import LoadConfig, run_load
from tests.load.test_runner_errors import HEAD, chunk

Seen = list[tuple[bytes, dict[str, str], bytes]]


@contextlib.asynccontextmanager
async def recording_server(
    seen: Seen, *, context: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """Answers every request with a 3-event stream and records (request line, headers, body)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            head = await reader.readuntil(b"\r\n\r\n")
            line, *rest = head[:-4].split(b"\r\n")
            headers = {}
            for item in rest:
                name, _, value = item.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            seen.append((line, headers, body))
            writer.write(HEAD)
            for n in range(3):
                writer.write(chunk(b'id: %d\ndata: {"n": %d}\n\n' % (n, n)))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def config(argv: list[str]) -> LoadConfig:
    return config_from_args(build_parser().parse_args(argv))


async def test_openai_chat_profile_posts_its_json_body_and_headers() -> None:
    seen: Seen = []
    async with recording_server(seen) as port:
        cfg = config(
            [
                f"http://127.0.0.1:{port}/v1/chat/completions",
                "--profile",
                "openai-chat",
                "-H",
                "Authorization: Bearer k",
                "--streams",
                "2",
                "--duration",
                "0.3",
            ]
        )
        report = await run_load(cfg)
    assert report.steps[0].errors == {}
    line, headers, body = seen[0]
    assert line == b"POST /v1/chat/completions HTTP/1.1"
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == "Bearer k"
    assert headers["accept"] == "text/event-stream"
    assert json.loads(body)["stream"] is True
    assert int(headers["content-length"]) == len(body)


async def test_flags_replace_the_profile_request() -> None:
    seen: Seen = []
    async with recording_server(seen) as port:
        cfg = config(
            [
                f"http://127.0.0.1:{port}/x",
                "--profile",
                "openai-chat",
                "--data",
                '{"model": "m", "stream": true}',
                "-H",
                "Content-Type: application/vnd.test+json",
                "--last-event-id",
                "7",
                "--streams",
                "1",
                "--duration",
                "0.2",
            ]
        )
        await run_load(cfg)
    _, headers, body = seen[0]
    assert body == b'{"model": "m", "stream": true}'
    assert headers["content-type"] == "application/vnd.test+json"
    assert headers["last-event-id"] == "7"


def test_the_profile_interval_and_timeout_reach_the_load_mode() -> None:
    ram = config(["http://127.0.0.1:1/api/stream", "--profile", "ram-monitor"])
    assert (ram.method, ram.interval, ram.body, ram.timeout) == ("GET", 1.0, None, 10.0)
    chat = config(["http://127.0.0.1:1/", "--profile", "openai-chat", "--interval", "0.05"])
    assert (chat.method, chat.interval, chat.timeout) == ("POST", 0.05, 60.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "nope"], "unknown profile"),
        (["--arrival-rate", "5,1"], "must not decrease"),
        (["--arrival-rate", "0"], "> 0"),
        (["--arrival-rate", "2", "--steps", "1,2"], "exclude each other"),
        (["--insecure"], "for https:// URLs"),
        (["--ttft-limit", "0"], "--ttft-limit"),
        (["-H", "nocolon"], "Name: value"),
    ],
)
def test_load_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["http://127.0.0.1:1/", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize(
    ("flags", "kind"), [([], "tls"), (["--cacert", "CERT"], None), (["--insecure"], None)]
)
async def test_https_is_verified_unless_told_otherwise(
    certificate: tuple[Path, Path], flags: list[str], kind: str | None
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    seen: Seen = []
    flags = [str(cert) if f == "CERT" else f for f in flags]
    async with recording_server(seen, context=server_context) as port:
        cfg = config(
            [f"https://127.0.0.1:{port}/s", "--streams", "1", "--duration", "0.3",
             "--timeout", "1", *flags]
        )  # fmt: skip
        report = await run_load(cfg)
    step = report.steps[0]
    if kind is None:
        assert step.errors == {}
        assert step.events > 0
    else:
        assert set(step.errors) == {kind}
        assert not seen
