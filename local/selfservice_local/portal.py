"""The portal's static files (`portal/` next to the template), served by the local run at `/` without
authentication, as the deployment serves them from S3 through CloudFront. Only GET and HEAD, only
regular files inside `portal/`, never a hidden file, and never a path that leaves the directory."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from selfservice_local.gateway import GatewayResponse, IncomingRequest

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

# What CloudFront's response headers policy adds in the cloud (docs/portal.md); here the API is the
# same origin, so 'self' covers every fetch.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
]


class PortalFiles:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def available(self) -> bool:
        return (self.root / "index.html").is_file()

    def file_for(self, raw_path: str) -> Path | None:
        """The file a request path names, or None (then the request goes on to the API routes)."""
        path = unquote(raw_path)
        if path in ("", "/"):
            path = "/index.html"
        if "\\" in path or "\x00" in path or not path.startswith("/"):
            return None
        parts = path[1:].split("/")
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            return None
        candidate = self.root.joinpath(*parts)
        if candidate.suffix.lower() not in CONTENT_TYPES:
            return None
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

    def response(self, request: IncomingRequest) -> GatewayResponse | None:
        if request.method not in ("GET", "HEAD"):
            return None
        found = self.file_for(request.raw_path)
        if found is None:
            return None
        headers = [("Content-Type", CONTENT_TYPES[found.suffix.lower()]), ("Cache-Control", "no-cache"),
                   *SECURITY_HEADERS]
        return GatewayResponse(200, headers, found.read_bytes())
