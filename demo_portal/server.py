"""Serve a generated portal on 127.0.0.1 in a background thread.

    with serve_portal(out_dir / "site") as server:
        crawl(server.base_url + "/")

Faults come from site/_faults.json (written by the generator):
{"not_found": ["/a/b.html"], "fail_once": ["/c/d.html"]} — `not_found` paths answer
404, `fail_once` paths answer 500 on their first request and 200 afterwards.
HTML pages are sent with the charset their <meta> declares.

Rounds: the portal changes between crawls. `server.set_round(2)` (or `serve --round 2`) serves,
from then on, the files of the directory `site_round2/` beside the site (written by the generator:
reports edited in place, without notice) instead of the site's own at the same paths; round 1
serves the site as generated.
"""
from __future__ import annotations

import json
import re
import sys
import threading
from http import HTTPStatus
import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

META_CHARSET = re.compile(rb"charset=[\"']?([A-Za-z0-9_-]+)", re.I)
CONTENT_TYPES = {".pdf": "application/pdf", ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".json": "application/json", ".jpg": "image/jpeg", ".png": "image/png",
                 ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ".doc": "application/msword", ".xls": "application/vnd.ms-excel"}   # .wps: octet-stream, as portals do
HIDDEN = {"/_faults.json"}


def content_type(path: Path, data: bytes) -> str:
    if path.suffix in (".html", ".htm"):
        match = META_CHARSET.search(data[:2048])
        charset = match.group(1).decode().lower() if match else "utf-8"
        return f"text/html; charset={charset}"
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")


class PortalHandler(BaseHTTPRequestHandler):
    server: "PortalServer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        self.respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self.respond(send_body=False)

    def respond(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.server.record(path)
        status, data, ctype = self.server.resolve(path)
        # Like a real static server: an ETag, and 304 to a request that already holds this version.
        etag = f'"{hashlib.sha256(data).hexdigest()[:20]}"'
        if status == HTTPStatus.OK and self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if status == HTTPStatus.OK:
            self.send_header("ETag", etag)
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # quiet
        pass


class PortalServer(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # a crawler killed or stopped mid-request
            return
        super().handle_error(request, client_address)

    def __init__(self, site_dir: Path, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), PortalHandler)
        self.site_dir = Path(site_dir).resolve()
        faults_file = self.site_dir / "_faults.json"
        faults = json.loads(faults_file.read_text()) if faults_file.exists() else {}
        self.not_found = set(faults.get("not_found", []))
        self.fail_once = set(faults.get("fail_once", []))
        self.requests: list[str] = []          # every path asked for, in order
        self.round = 1
        self._lock = threading.Lock()
        self._failed: set[str] = set()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def set_round(self, number: int) -> None:
        """Serve round `number`: the files of site_round2 .. site_round<number> over the site's."""
        if number < 1:
            raise ValueError("rounds start at 1")
        self.round = number

    def _overlay(self, relative: str) -> Path | None:
        for n in range(self.round, 1, -1):
            root = (self.site_dir.parent / f"site_round{n}").resolve()
            file = (root / relative).resolve()
            if file.is_relative_to(root) and file.is_file():
                return file
        return None

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def resolve(self, path: str) -> tuple[int, bytes, str]:
        if path in self.not_found or path in HIDDEN:
            return self.error(HTTPStatus.NOT_FOUND)
        with self._lock:
            if path in self.fail_once and path not in self._failed:
                self._failed.add(path)
                return self.error(HTTPStatus.INTERNAL_SERVER_ERROR)
        file = (self.site_dir / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.site_dir):
            return self.error(HTTPStatus.NOT_FOUND)
        if file.is_dir():
            file = file / "index.html"
        file = self._overlay(str(file.relative_to(self.site_dir))) or file
        if not file.is_file():
            return self.error(HTTPStatus.NOT_FOUND)
        data = file.read_bytes()
        return HTTPStatus.OK, data, content_type(file, data)

    @staticmethod
    def error(status: HTTPStatus) -> tuple[int, bytes, str]:
        body = f"<html><body><h1>{status.value} {status.phrase}</h1></body></html>".encode()
        return status, body, "text/html; charset=utf-8"

    def start(self) -> "PortalServer":
        self._thread = threading.Thread(target=self.serve_forever, name="demo-portal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "PortalServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_portal(site_dir: Path, host: str = "127.0.0.1", port: int = 0) -> PortalServer:
    """Start serving site_dir in a background thread; use as a context manager or call .stop()."""
    return PortalServer(site_dir, host, port).start()
