"""`upr-match purge` deletes events, deliveries and e-mails finished over 30 days ago, and nothing else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models.common import utcnow
from app.models.events import OutboxEvent
from app.models.mail import EmailMessage
from app.models.webhook import Webhook, WebhookDelivery
from app.worker.outbox import purge_done


def test_purge_keeps_what_is_recent_or_unfinished(session: Session, engine: Engine) -> None:
    old, recent = utcnow() - timedelta(days=31), utcnow() - timedelta(days=1)
    hook = Webhook(party="state:FRA", url="https://hooks.example.org", events=["engagement.*"], secret="whsec_eA==")
    session.add(hook)
    session.flush()
    for name, processed in (("old", old), ("recent", recent), ("waiting", None)):
        session.add(
            OutboxEvent(
                type="need.filed", resource="need", resource_id=name, actor_role="state", processed_at=processed
            )
        )
    for name, status, created in (
        ("old", "succeeded", old),
        ("old-failed", "failed", old),
        ("old-pending", "pending", old),
        ("recent", "succeeded", recent),
    ):
        session.add(
            WebhookDelivery(
                id=name,
                webhook_id=hook.id,
                msg_id=name,
                event_type="x",
                payload="{}",
                status=status,
                created_at=created,
            )
        )
    for status, created in (("sent", old), ("pending", old), ("sent", recent)):
        session.add(
            EmailMessage(
                party="state:FRA", to_address="a@b.example", subject="s", body="b", status=status, created_at=created
            )
        )
    session.commit()
    assert purge_done(engine) == 4
    assert purge_done(engine) == 0
    session.rollback()
    assert sorted(e.resource_id for e in session.exec(select(OutboxEvent)).all()) == ["recent", "waiting"]
    assert sorted(d.id for d in session.exec(select(WebhookDelivery)).all()) == ["old-pending", "recent"]
    assert sorted((m.status, m.created_at > old) for m in session.exec(select(EmailMessage)).all()) == [
        ("pending", False),
        ("sent", True),
    ]
