"""Webhook throughput: deliveries per second of one worker to a receiver that answers at once.

Builds a fresh SQLite database (or uses `--database-url`, e.g. PostgreSQL), registers one
endpoint on a local receiver (an asyncio server answering `204` at once), queues N
messages, and runs one `Worker` (the `upr-match worker` loop: claim, sign, send with
`WORKER_CONCURRENCY` threads, record) until every delivery has succeeded. Prints the
deliveries per second against the target (>= 200/s with one worker) and checks every
delivery arrived with a valid Standard Webhooks signature.

Always exits 0 unless a message is lost: this is a report, not a gate.

    python benchmarks/webhooks.py                      # 2,000 messages on a temporary SQLite file
    python benchmarks/webhooks.py --messages 5000 --concurrency 32
    python benchmarks/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1:55433/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, col, func, select  # noqa: E402
from standardwebhooks.webhooks import Webhook as Verifier  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.models.common import utcnow  # noqa: E402
from app.models.provider import Provider  # noqa: E402
from app.models.webhook import Webhook, WebhookDelivery  # noqa: E402
from app.services.webhooks import body_of, message_id, new_secret  # noqa: E402
from app.worker.loop import Worker  # noqa: E402

TARGET = 200.0


class Receiver:
    """A minimal HTTP/1.1 server on asyncio: reads each request, keeps its headers and body, answers 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append((headers, body))
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def start(self) -> None:
        def run() -> None:
            asyncio.set_event_loop(self._loop)
            server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        self._ready.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="WORKER_CONCURRENCY (threads sending at once)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temporary folder")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="upr-webhooks-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    os.environ["DATABASE_URL"] = url
    from alembic import command

    from app.commands.server import alembic_config

    command.upgrade(alembic_config(), "head")
    settings = Settings(
        DATABASE_URL=url,
        WEBHOOK_ALLOW_PRIVATE=True,
        WORKER_CONCURRENCY=args.concurrency,
        MODEL_DIR=Path(folder) / "models",
        _env_file=None,
    )
    receiver = Receiver()
    receiver.start()
    runner = Worker(settings)
    secret = new_secret()
    with Session(runner.db) as session:
        provider = Provider(name="Bench", kind="ngo", description="A provider for the webhook benchmark.")
        session.add(provider)
        session.flush()
        hook = Webhook(
            party=f"provider:{provider.id}",
            url=f"http://127.0.0.1:{receiver.port}/in",
            events=["engagement.*"],
            secret=secret,
        )
        session.add(hook)
        session.flush()
        now = utcnow()
        for n in range(args.messages):
            data = {"engagement": {"id": str(uuid.uuid4()), "n": n}}
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id,
                    msg_id=message_id("bench", str(n)),
                    event_type="engagement.proposed",
                    payload=body_of("engagement.proposed", data, now),
                )
            )
        session.commit()

    def succeeded() -> int:
        with Session(runner.db) as session:
            return int(
                session.exec(
                    select(func.count()).select_from(WebhookDelivery).where(col(WebhookDelivery.status) == "succeeded")
                ).one()
            )

    started = time.perf_counter()
    rounds = 0
    while runner.deliver() > 0:
        rounds += 1
    elapsed = time.perf_counter() - started
    runner.close()
    done = succeeded()
    verifier = Verifier(secret)
    valid = sum(1 for headers, body in receiver.received if verifier.verify(body, headers, json_parse=False) is None)
    rate = done / elapsed if elapsed else 0.0
    load = os.getloadavg()
    print(f"database        {url.split('://')[0]}")
    print(f"messages        {args.messages}  (one endpoint, receiver answers 204 at once)")
    print(f"concurrency     {args.concurrency} threads, {rounds} claim/send/record rounds")
    print(f"delivered       {done} in {elapsed:.2f} s, {len(receiver.received)} requests, {valid} valid signatures")
    print(
        f"throughput      {rate:.0f} deliveries/s  (target >= {TARGET:.0f}/s: {'met' if rate >= TARGET else 'NOT met'})"
    )
    print(f"load average    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2-core machine)")
    return 0 if done == args.messages and valid >= done else 1


if __name__ == "__main__":
    raise SystemExit(main())
