"""The portal's static files in the local run: the right file with the right type, and nothing outside
portal/ (no traversal, no hidden files, no directory listings, no writes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selfservice_local.gateway import IncomingRequest
from selfservice_local.portal import PortalFiles

PORTAL = Path(__file__).resolve().parents[3] / "portal"


def get(path: str, method: str = "GET") -> IncomingRequest:
    return IncomingRequest(method=method, raw_path=path, raw_query="", headers=[], body=b"", source_ip="127.0.0.1")


@pytest.fixture
def site(tmp_path: Path) -> PortalFiles:
    root = tmp_path / "portal"
    (root / "screens").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>x</title>")
    (root / "app.js").write_text("export {};")
    (root / "screens" / "a.js").write_text("export {};")
    (root / ".env").write_text("SECRET=1")
    (root / "notes.md").write_text("not served")
    (tmp_path / "secret.js").write_text("outside")
    (root / "link.js").symlink_to(tmp_path / "secret.js")
    return PortalFiles(root)


@pytest.mark.parametrize(("path", "content_type"), [
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/app.js", "text/javascript; charset=utf-8"),
    ("/screens/a.js", "text/javascript; charset=utf-8"),
])
def test_files_are_served_with_their_type(site: PortalFiles, path: str, content_type: str) -> None:
    response = site.response(get(path))
    assert response is not None and response.status == 200
    headers = dict(response.headers)
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert site.response(get(path, "HEAD")) is not None


@pytest.mark.parametrize("path", [
    "/../secret.js", "/screens/../../secret.js", "/%2e%2e/secret.js", "/screens/..%2f..%2fsecret.js",
    "/screens%2f..%2f..%2fsecret.js", "/..\\secret.js", "/link.js", "/.env", "/screens/", "/screens",
    "/notes.md", "/missing.js", "//app.js", "/app.js%00.html", "/./app.js",
])
def test_nothing_outside_the_portal_or_unlisted_is_served(site: PortalFiles, path: str) -> None:
    assert site.response(get(path)) is None  # the request then goes on to the API routes: 404


def test_only_reads(site: PortalFiles) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        assert site.response(get("/index.html", method)) is None


def test_the_real_portal_has_every_file_it_loads() -> None:
    site = PortalFiles(PORTAL)
    assert site.available
    for path in ("/", "/app.js", "/api.js", "/i18n.js", "/ui.js", "/config.js", "/styles.css", "/favicon.svg"):
        assert site.response(get(path)) is not None, path
    for module in sorted((PORTAL / "screens").glob("*.js")):
        assert site.response(get(f"/screens/{module.name}")) is not None, module
