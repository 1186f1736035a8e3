"""The page and its files: local Vue, the missing-Vue message, no escape from static/, no CORS."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from reference.app import VUE_URL
from tests.reference.helpers import AppFactory, serve

ROOT = Path(__file__).resolve().parents[2]
VUE_INSTALLED = (ROOT / "node_modules" / "vue" / "dist" / "vue.esm-browser.prod.js").is_file()


def client_for(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_index_uses_the_local_vue_through_an_import_map(build: AppFactory) -> None:
    async with client_for(build().app) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<title>RAM Monitor Stream</title>" in page
    assert '<script type="importmap">' in page
    assert f'"vue": "{VUE_URL}"' in page
    assert '<script type="module" src="/static/app.js"></script>' in page
    # Nothing is fetched from another origin: the page must work offline.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "unpkg" not in page


@pytest.mark.skipif(not VUE_INSTALLED, reason="Vue is not installed (npm ci)")
async def test_vue_and_page_files_are_served(build: AppFactory) -> None:
    async with client_for(build().app) as client:
        vue = await client.get(VUE_URL)
        script = await client.get("/static/app.js")
        style = await client.get("/static/style.css")
        config = await client.get("/api/config")
    assert vue.status_code == 200
    assert vue.headers["content-type"].startswith("text/javascript")
    assert b"createApp" in vue.content
    assert script.status_code == 200
    assert 'from "vue"' in script.text
    for hook in (
        'data-testid="start"',
        'data-testid="stop"',
        'data-testid="status"',
        'data-testid="log"',
    ):
        assert hook in script.text
    assert style.status_code == 200
    assert config.json()["total_messages"] == 22


async def test_missing_vue_still_serves_the_page_with_instructions(
    build: AppFactory, tmp_path: Path
) -> None:
    app = build(vue_dir=tmp_path / "no-vue").app
    async with client_for(app) as client:
        page = await client.get("/")
        vue = await client.get(VUE_URL)
        health = await client.get("/healthz")
    assert page.status_code == 200
    assert 'data-testid="setup-error"' in page.text
    assert "npm ci" in page.text
    assert "vue.esm-browser.prod.js is missing" in page.text
    assert vue.status_code == 404
    assert "npm ci" in vue.json()["message"]
    assert health.json()["vue_installed"] is False


async def test_installed_vue_shows_no_setup_error(build: AppFactory) -> None:
    async with client_for(build().app) as client:
        page = await client.get("/")
    assert ('data-testid="setup-error"' in page.text) is not VUE_INSTALLED


async def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """Send the request target byte for byte (httpx would normalise the dots away)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    response = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response


@pytest.mark.parametrize(
    "target",
    [
        "/static/../pyproject.toml",
        "/static/../reference/app.py",
        "/static/%2e%2e/pyproject.toml",
        "/static/..%2fpyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2fetc/passwd",
        "/static/....//pyproject.toml",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/vendor/../pyproject.toml",
        "/vendor/vue.esm-browser.prod.js/../../../pyproject.toml",
    ],
)
async def test_static_serving_cannot_escape(build: AppFactory, target: str) -> None:
    async with serve(build().app) as base:
        status, response = await raw_get(int(base.rsplit(":", 1)[1]), target)
    assert status in (400, 404)
    assert b"[build-system]" not in response
    assert b"root:" not in response
    assert b"create_app" not in response


async def test_no_cors_headers_and_no_preflight(build: AppFactory) -> None:
    async with client_for(build().app) as client:
        simple = await client.get("/api/config", headers={"Origin": "https://evil.example"})
        preflight = await client.options(
            "/api/stream",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert simple.status_code == 200
    assert not any(name.startswith("access-control-") for name in simple.headers)
    assert preflight.status_code == 405
    assert not any(name.startswith("access-control-") for name in preflight.headers)


async def test_healthz_reports_open_streams(build: AppFactory) -> None:
    async with client_for(build().app) as client:
        health = (await client.get("/healthz")).json()
    assert health["status"] == "ok"
    assert health["open_streams"] == 0
    assert health["max_streams"] == 5000


@pytest.mark.parametrize("path", ["/", "/healthz"])
async def test_head_answers_200_like_get(build: AppFactory, path: str) -> None:
    """`curl -I` is how people check that a server is up."""
    async with client_for(build().app) as client:
        head = await client.head(path)
        get = await client.get(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""


def test_the_page_ships_inside_the_package() -> None:
    """The default page folder is the package's own (importlib.resources), so a wheel has it."""
    import reference
    from reference.settings import Settings

    assert Settings().static_dir == Path(reference.__file__).resolve().parent / "static"
    assert (Settings().static_dir / "index.html").is_file()


def test_ram_monitor_version(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance import __version__
    from reference.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"ram-monitor {__version__}\n"
