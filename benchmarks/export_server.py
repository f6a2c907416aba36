"""A local stand-in for OHCHR's export server: one file over HTTP, with validators, ranges and faults.

Run:  python benchmarks/export_server.py FILE [--port 8765] [--mode MODE]

Serves FILE at /export-full-en.json (and any path ending in .json) on 127.0.0.1 with an
`ETag` (size and modification time, as nginx makes it), `Last-Modified`, 304 for a matching
`If-None-Match` / `If-Modified-Since`, `Accept-Ranges: bytes`, 206 for `Range: bytes=N-`
(unless `If-Range` names another version: then 200 and the whole file). It records every
request's headers and counts the body bytes it sent. `mode` (settable while it runs) injects
one fault:

- `disconnect-once`: the next full transfer stops half-way and the connection is closed;
- `disconnect`: every transfer does (no download ever completes);
- `lying-length`: announces 1,000 bytes more than it sends, then closes;
- `html`: answers 200 with an HTML error page (`text/html`);
- `truncated`: sends the first 60% of the file as if it were all of it (honest length, own ETag);
- `no-ranges`: ignores `Range` (always 200, no `Accept-Ranges`).

The sync tests and `benchmarks/sync.py` use it in-process (`ExportServer`).
"""

from __future__ import annotations

import argparse
import os
import threading
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNK = 1 << 16
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body>Down for maintenance</body></html>"
)
MODES = ("", "disconnect-once", "disconnect", "lying-length", "html", "truncated", "no-ranges")


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int = 0
    sent: int = 0


@dataclass
class ExportServer:
    """The server, in a thread: `url`, `requests`, `bytes_sent`; `file` and `mode` may change while it runs."""

    file: Path
    mode: str = ""
    port: int = 0
    log: bool = False
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/export-full-en.json"

    @property
    def bytes_sent(self) -> int:
        with self.lock:
            return sum(r.sent for r in self.requests)

    def __enter__(self) -> ExportServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def validators(self) -> tuple[str, str]:
        stat = self.file.stat()
        return f'"{int(stat.st_mtime):x}-{stat.st_size:x}"', formatdate(stat.st_mtime, usegmt=True)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        request = Request(handler.path, {k.lower(): v for k, v in handler.headers.items()})
        try:
            self._handle(handler, request)
        finally:
            if self.log:
                asked = {k: request.headers[k] for k in ("if-none-match", "range", "if-range") if k in request.headers}
                print(f"GET {request.path} {asked} -> {request.status}, {request.sent:,} body bytes sent", flush=True)

    def _handle(self, handler: BaseHTTPRequestHandler, request: Request) -> None:
        with self.lock:
            self.requests.append(request)
            mode = self.mode
            if mode == "disconnect-once":
                self.mode = ""
        if not handler.path.split("?")[0].endswith(".json"):
            self._answer(handler, request, 404, b"not found", "text/plain")
            return
        if mode == "html":
            self._answer(handler, request, 200, HTML_PAGE, "text/html; charset=utf-8")
            return
        size = self.file.stat().st_size
        etag, modified = self.validators()
        if mode == "truncated":
            size = size * 6 // 10
            etag = f'"truncated-{size:x}"'
        if self._not_modified(request.headers, etag, modified):
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.send_header("Last-Modified", modified)
            handler.end_headers()
            request.status = 304
            return
        start = self._range_start(request.headers, etag, modified, size, ranges=mode != "no-ranges")
        length = size - start
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", modified)
        if mode != "no-ranges":
            handler.send_header("Accept-Ranges", "bytes")
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        announced = length + (1000 if mode == "lying-length" else 0)
        handler.send_header("Content-Length", str(announced))
        handler.end_headers()
        request.status = 206 if start else 200
        cut = length // 2 if mode in ("disconnect", "disconnect-once") else length
        try:
            with self.file.open("rb") as source:
                source.seek(start)
                left = cut
                while left > 0:
                    piece = source.read(min(CHUNK, left))
                    if not piece:
                        break
                    handler.wfile.write(piece)
                    left -= len(piece)
                    with self.lock:
                        request.sent += len(piece)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if cut < length or announced != length:
            handler.close_connection = True
            handler.connection.shutdown(2)

    @staticmethod
    def _not_modified(headers: dict[str, str], etag: str, modified: str) -> bool:
        if "if-none-match" in headers:
            return etag in [t.strip() for t in headers["if-none-match"].split(",")]
        since = headers.get("if-modified-since")
        if since:
            try:
                return parsedate_to_datetime(since) >= parsedate_to_datetime(modified)
            except (TypeError, ValueError):
                return False
        return False

    @staticmethod
    def _range_start(headers: dict[str, str], etag: str, modified: str, size: int, *, ranges: bool) -> int:
        asked = headers.get("range", "")
        if not ranges or not asked.startswith("bytes=") or not asked.endswith("-"):
            return 0
        if_range = headers.get("if-range")
        if if_range is not None and if_range not in (etag, modified):
            return 0  # another version: the whole file
        try:
            start = int(asked[len("bytes=") : -1])
        except ValueError:
            return 0
        return start if 0 < start < size else 0

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, request: Request, status: int, body: bytes, kind: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        request.status = status
        request.sent = len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--mode", choices=MODES, default="")
    args = parser.parse_args()
    server = ExportServer(args.file.resolve(), mode=args.mode, port=args.port, log=True)
    print(f"serving {args.file} at {server.url} (mode {args.mode or 'normal'}); pid {os.getpid()}", flush=True)
    with server:
        server.thread.join()


if __name__ == "__main__":
    main()
