"""The authorization matrix: every write operation x every role, as tests/security/authz.yaml expects.

Each case seeds a fresh world (objects owned by State A = FRA and provider X), sends
one request as one role, and checks the status. After every refusal (any non-2xx) a
hash of every row of every table must be unchanged: a denied write leaves no trace.
The table must cover exactly the write operations the app's OpenAPI declares.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app.core.identity import generate_key
from app.models.activity import Activity, ActivityRecommendation
from app.models.activity_history import ActivityProposal
from app.models.api_key import ApiKey
from app.models.common import utcnow
from app.models.engagement import Engagement
from app.models.events import InboxItem
from app.models.mapping import DocumentItem, DocumentLink, DocumentMapping
from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.models.webhook import Subscription, Webhook, WebhookDelivery
from app.services.needs import dedupe_key

TABLE = yaml.safe_load((Path(__file__).parent / "authz.yaml").read_text(encoding="utf-8"))
ROLES: list[str] = TABLE["roles"]
WRITE_METHODS = {"post", "put", "patch", "delete"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
DESCRIPTION = "Training of police and prison staff on the prevention of torture."


def _cases() -> list[Any]:
    return [
        pytest.param(operation, index, id=f"{operation} [{index}]")
        for operation, variants in TABLE["operations"].items()
        for index in range(len(variants))
    ]


def seed_world(session: Session, *, activities: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """Objects owned by FRA / provider X (and strangers), and one key per role; return (ids, secrets).

    Everything is written in one transaction: the matrix seeds a world per case, and a
    commit per row made the PostgreSQL run several times slower.
    """
    session.rollback()
    rec_a = _recommendation("FRA")
    rec_a2 = _recommendation("FRA")
    rec_b = _recommendation("KEN")
    x = Provider(name="Provider X", kind="ngo", description=DESCRIPTION, contact_email="x@provider.example")
    y = Provider(name="Provider Y", kind="ngo", description=DESCRIPTION, contact_email="y@provider.example")
    session.add_all([rec_a, rec_a2, rec_b, x, y])
    session.flush()
    ids = {"rec_a": rec_a.id, "rec_a2": rec_a2.id, "rec_b": rec_b.id, "provider_x": x.id, "provider_y": y.id}
    for name, title, visibility in (
        ("need_a", "Public need of A", "public"),
        ("need_a_private", "Private need of A", "state_only"),
        ("need_a_providers", "Need of A for providers", "providers"),
    ):
        need = Need(
            state="FRA",
            title=title,
            visibility=visibility,
            themes=["Torture"],
            dedupe_key=dedupe_key(state="FRA", recommendation_ids=[rec_a.id], title=title, status="open"),
        )
        session.add(need)
        session.flush()
        session.add(NeedRecommendation(need_id=need.id, recommendation_id=rec_a.id))
        ids[name] = need.id
    if activities:
        for name, status, recorded_by in (
            ("activity_xa", "ongoing", None),
            ("activity_xa_planned", "planned", None),
            ("activity_xa_claimed_by_a", "ongoing", "state"),
            ("activity_xa_claimed_by_x", "ongoing", "provider"),
            ("activity_xa_proposed", "ongoing", None),
            ("activity_xa_deletion", "ongoing", None),
        ):
            activity = Activity(
                provider_id=x.id,
                state="FRA",
                title=f"Activity {name}",
                modality="training",
                status=status,
                confirmation="unconfirmed" if recorded_by else "confirmed",
                recorded_by_role=recorded_by,
            )
            session.add(activity)
            session.flush()
            session.add(ActivityRecommendation(activity_id=activity.id, recommendation_id=rec_a.id))
            ids[name] = activity.id
        _seed_proposals(session, ids)
    _seed_loop(session, ids)
    secrets: dict[str, str] = {}
    keys = {
        "admin": {"role": "admin"},
        "state_a": {"role": "state", "state": "FRA"},
        "state_b": {"role": "state", "state": "KEN"},
        "provider_x": {"role": "provider", "provider_id": x.id},
        "provider_y": {"role": "provider", "provider_id": y.id},
        "provider_unbound": {"role": "provider"},
        "revoked": {"role": "admin", "revoked_at": utcnow()},
        "spare_key": {"role": "state", "state": "KEN"},
    }
    for name, fields in keys.items():
        secret, prefix, digest = generate_key()
        row = ApiKey(name=name, prefix=prefix, key_hash=digest, **fields)
        session.add(row)
        secrets[name] = secret
        ids[f"{name}_key" if not name.endswith("_key") else name] = row.id
    session.flush()
    _seed_mapping(session, ids)
    session.commit()
    return ids, secrets


def _seed_mapping(session: Session, ids: dict[str, str]) -> None:
    """A private document mapping of FRA's key: one paragraph linked to rec_a."""
    mapping = DocumentMapping(
        id=str(uuid.uuid4()), owner_key_id=ids["state_a_key"], title="Asks", filename="a.txt", kind="txt", item_count=1
    )
    session.add(mapping)
    session.flush()
    session.add(DocumentItem(mapping_id=mapping.id, number=1, text="Investigate complaints of torture."))
    session.add(DocumentLink(mapping_id=mapping.id, item_number=1, recommendation_id=ids["rec_a"], rank=1, score=0.5))
    ids["mapping_a"] = mapping.id


def _seed_proposals(session: Session, ids: dict[str, str]) -> None:
    """Pending proposals on two confirmed activities: X proposes a change, FRA asks to delete."""
    for name, activity, kind, role, changes in (
        ("proposal_by_x", "activity_xa_proposed", "change", "provider", {"outcomes": "Forty officers trained."}),
        ("deletion_by_a", "activity_xa_deletion", "deletion", "state", {}),
    ):
        proposal = ActivityProposal(
            activity_id=ids[activity],
            kind=kind,
            changes=changes,
            base_version=1,
            proposed_by_role=role,
            open_key=ids[activity],
        )
        session.add(proposal)
        ids[name] = proposal.id


def _seed_loop(session: Session, ids: dict[str, str]) -> None:
    """Engagements on need_a (FRA asked X; Y offered), X's alert and webhook (with a failed delivery), FRA's inbox."""
    for name, provider, direction in (
        ("engagement_xa", "provider_x", "invitation"),
        ("engagement_ya", "provider_y", "offer"),
    ):
        row = Engagement(
            need_id=ids["need_a"],
            provider_id=ids[provider],
            state="FRA",
            direction=direction,
            message="Could you help?",
            initiated_by_role="state" if direction == "invitation" else "provider",
            open_key=f"{ids['need_a']}:{ids[provider]}",
        )
        session.add(row)
        ids[name] = row.id
    subscription = Subscription(provider_id=ids["provider_x"], themes=["Torture"])
    webhook = Webhook(
        party=f"provider:{ids['provider_x']}",
        url="https://hooks.example.org/x",
        events=["need.*"],
        secret="whsec_c2VjcmV0",
    )
    session.add_all([subscription, webhook])
    session.flush()
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        msg_id="msg_1",
        event_type="need.matched",
        payload='{"type":"need.matched"}',
        status="failed",
    )
    item = InboxItem(
        party="state:FRA",
        type="engagement.proposed",
        resource="engagement",
        resource_id=ids["engagement_ya"],
        title="Y offers help",
        dedupe_key=f"authz:{uuid.uuid4()}",
    )
    session.add_all([delivery, item])
    session.flush()
    ids.update(subscription_x=subscription.id, webhook_x=webhook.id, delivery_x=delivery.id, inbox_a=str(item.id))


def _recommendation(state: str) -> Recommendation:
    return Recommendation(
        id=f"authz-{uuid.uuid4().hex[:12]}",
        source="test",
        cycle=3,
        session=30,
        state_under_review=state,
        text="Strengthen the national preventive mechanism.",
        response="supported",
        themes=["Torture"],
        content_hash=uuid.uuid4().hex,
    )


def headers_for(role: str, secrets: dict[str, str]) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "malformed":
        return {"Authorization": "Bearer upr_zz_not-a-key"}
    return {"Authorization": f"Bearer {secrets[role]}"}


def fill(value: Any, ids: dict[str, str]) -> Any:
    """Replace `{name}` placeholders in strings (recursively) by the world's ids."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: ids[m.group(1)], value)
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def database_fingerprint(engine: Engine) -> str:
    """sha256 over every row of every table, in a canonical order."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = sorted(json.dumps(list(row), default=str, sort_keys=True) for row in conn.execute(select(table)))
            digest.update(table.name.encode())
            for row in rows:
                digest.update(row.encode())
    return digest.hexdigest()


def write_operations(app: FastAPI) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in WRITE_METHODS
    }


def test_table_covers_every_write_operation(app: FastAPI) -> None:
    declared = write_operations(app)
    tabled = set(TABLE["operations"])
    assert declared - tabled == set(), f"write operations missing from authz.yaml: {sorted(declared - tabled)}"
    stale = {op for op in tabled - declared if not all(case.get("elsewhere") for case in TABLE["operations"][op])}
    assert stale == set(), f"authz.yaml names operations the app lacks: {sorted(stale)}"
    for operation, variants in TABLE["operations"].items():
        for index, case in enumerate(variants):
            assert set(case["expect"]) == set(ROLES), f"{operation} [{index}] must give a status for every role"


def test_every_write_route_requires_a_key_in_openapi(app: FastAPI) -> None:
    """The table's 401s are documented: every write operation declares a 401 response."""
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method in WRITE_METHODS:
                assert "401" in operation["responses"], f"{method.upper()} {path} does not document 401"


def _empty(engine: Engine) -> None:
    """Delete every row (children first): cheaper than the fixtures' TRUNCATE between roles.

    The audit trail is append-only (the database refuses DELETE); its rows stay until the
    fixtures truncate it, which the fingerprints before and after each request allow for.
    """
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name != "audit_event":
                conn.execute(table.delete())


def _send(
    client: TestClient, operation: str, case: dict[str, Any], role: str, ids: dict[str, str], secrets: dict[str, str]
) -> Any:
    method, path = operation.split(" ", 1)
    for name, ref in (case.get("path") or {}).items():
        path = path.replace("{" + name + "}", ids.get(ref, ref))
    assert "{" not in path, f"{operation}: a path parameter has no value in authz.yaml"
    headers = headers_for(role, secrets)
    headers["If-Match"] = '"1"'  # the current ETag of every seeded object (creates ignore it)
    kwargs: dict[str, Any] = {"headers": headers}
    if "query" in case:
        kwargs["params"] = fill(case["query"], ids)
    if "raw_body" in case:
        kwargs["content"] = fill(case["raw_body"], ids)
        headers["Content-Type"] = case.get("content_type", "application/octet-stream")
    elif "body" in case:
        kwargs["json"] = fill(case["body"], ids)
    return client.request(method, path, **kwargs)


@pytest.mark.parametrize(("operation", "index"), _cases())
def test_write_matrix(client: TestClient, session: Session, engine: Engine, operation: str, index: int) -> None:
    """Every role in turn; refusals share one world (they must not change it), a success gets a fresh one."""
    case = TABLE["operations"][operation][index]
    if case.get("elsewhere") and operation not in write_operations(client.app):  # type: ignore[arg-type]
        pytest.skip(f"{operation} is built on another branch and not in this app yet")
    activities = case.get("activities", True)
    ids, secrets = seed_world(session, activities=activities)
    mismatches = []
    for role in ROLES:
        expected = case["expect"][role]
        before = database_fingerprint(engine)
        response = _send(client, operation, case, role, ids, secrets)
        if response.status_code != expected:
            mismatches.append(f"as {role}: expected {expected}, got {response.status_code} {response.text[:200]}")
        if response.status_code >= 400:
            if not response.headers["content-type"].startswith("application/problem+json"):
                mismatches.append(f"as {role}: {response.status_code} is not problem+json")
            if database_fingerprint(engine) != before:
                mismatches.append(f"as {role}: refused with {response.status_code} but the database changed")
        else:
            _empty(engine)
            ids, secrets = seed_world(session, activities=activities)
    assert not mismatches, f"{operation} [{index}]:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("template", list(TABLE["reads"]))
def test_read_matrix(client: TestClient, session: Session, template: str) -> None:
    """GETs of non-public objects: the wrong roles get 404, exactly like for a missing object."""
    ids, secrets = seed_world(session)
    mismatches = []
    for role in ROLES:
        expected = TABLE["reads"][template][role]
        response = client.get(fill(template, ids), headers=headers_for(role, secrets))
        if response.status_code != expected:
            mismatches.append(f"as {role}: expected {expected}, got {response.status_code}")
        elif expected == 404:
            missing = client.get(_PLACEHOLDER.sub("no-such-id", template), headers=headers_for(role, secrets))
            hidden, absent = response.json(), missing.json()
            if missing.status_code != 404 or (hidden["title"], hidden["code"]) != (absent["title"], absent["code"]):
                mismatches.append(f"as {role}: a hidden object reads differently from a missing one")
    assert not mismatches, f"GET {template}:\n" + "\n".join(mismatches)
