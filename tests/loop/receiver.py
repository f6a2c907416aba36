"""A local webhook receiver for the tests: records every request; answers as told (fail, hang, redirect...)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook as Verifier


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


# What to answer to the n-th request (0-based) and its Received: (status, body, extra headers, seconds to hang).
Behaviour = Callable[[int, Received], tuple[int, bytes, dict[str, str], float]]


def ok(_n: int, _r: Received) -> tuple[int, bytes, dict[str, str], float]:
    return 204, b"", {}, 0.0


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    behaviour: Behaviour = ok
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self, secret: str) -> list[Any]:
        """Every body a Standard Webhooks verifier accepts with `secret` (raises on the first it refuses)."""
        verifier = Verifier(secret)
        return [verifier.verify(r.body, r.headers) for r in self.received]


@contextmanager
def receiver(behaviour: Behaviour = ok) -> Iterator[Receiver]:
    """A threaded HTTP server on 127.0.0.1 (a free port) for the duration of the block."""
    state = Receiver(url="")
    state.behaviour = behaviour

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("content-length") or 0)
            got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            with state.lock:
                n = len(state.received)
                state.received.append(got)
            status, body, headers, hang = state.behaviour(n, got)
            if hang:
                time.sleep(hang)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
