#!/usr/bin/env python3
"""A webhook receiver to try the service's webhooks on one machine: it keeps what it is sent and shows it.

    python scripts/webhook_receiver.py --port 8765      # POST anything to http://127.0.0.1:8765/...

Every POST is answered `204` and kept in memory (headers and body, as received); `GET /received`
answers them as a JSON list, so a Standard Webhooks verifier can check them. For local tests and
the README walkthrough only: the service calls a loopback address only with WEBHOOK_ALLOW_PRIVATE=true.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVED: list[dict[str, object]] = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with LOCK:
            RECEIVED.append({"path": self.path, "headers": dict(self.headers.items()), "body": body.decode("utf-8")})
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        with LOCK:
            payload = json.dumps(RECEIVED).encode("utf-8")
        self.send_response(200 if self.path == "/received" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: object) -> None:
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
