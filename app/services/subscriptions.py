"""Alerts: a provider saves what it wants to hear about; the worker tells it when a need fits.

A subscription names themes, States and UN regional groups (each empty means any) and a
minimum match score. When a need is filed or changed, the worker (`app.worker.outbox`)
scores it for every provider with the service's own ranking (`matching.scores_for_need`,
the same as `GET /v1/needs/{id}/matches`), and each subscription whose provider may see the
need, whose filters hold and whose `min_score` the score reaches gets one `need.matched`
notice (inbox, webhook, e-mail), once per need and subscription.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.need import Need
from app.models.provider import Provider
from app.models.webhook import Subscription, SubscriptionCreate, SubscriptionPublic, SubscriptionUpdate
from app.reference.regions import region_of
from app.services import access, audit
from app.services.versioning import check_version, versioned_delete, versioned_update

# Alerts one provider may keep (each is checked against every need filed or changed).
MAX_SUBSCRIPTIONS = 50


def present_subscription(row: Subscription) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(row, from_attributes=True)


def _may_manage(principal: Principal, row: Subscription) -> bool:
    return principal.is_admin or (principal.role == "provider" and principal.provider_id == row.provider_id)


def get_subscription(session: Session, *, principal: Principal, subscription_id: str) -> Subscription:
    """A subscription of the caller's provider (any, for admins); 404 otherwise."""
    row = session.get(Subscription, subscription_id)
    if row is None or not _may_manage(principal, row):
        raise NotFound(f"Subscription {subscription_id} does not exist.")
    return row


def list_subscriptions(session: Session, *, principal: Principal, page: PageParams) -> tuple[list[Subscription], int]:
    """The caller's provider's subscriptions (all, for admins), oldest first."""
    conditions: list[Any] = []
    if not principal.is_admin:
        conditions.append(col(Subscription.provider_id) == (principal.provider_id or ""))
    total = session.exec(select(func.count()).select_from(Subscription).where(*conditions)).one()
    rows = session.exec(
        select(Subscription)
        .where(*conditions)
        .order_by(col(Subscription.created_at), col(Subscription.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def create_subscription(session: Session, *, principal: Principal, data: SubscriptionCreate) -> Subscription:
    """Save an alert for a provider: its own (a provider key) or the one an admin names."""
    if principal.role == "provider":
        if principal.provider_id is None:
            raise Forbidden("This provider key is not bound to a provider yet; register one with POST /v1/providers.")
        if data.provider_id is not None and data.provider_id != principal.provider_id:
            raise Forbidden(f"This key acts for provider {principal.provider_id}; it subscribes for itself only.")
        provider_id = principal.provider_id
    elif principal.is_admin:
        if data.provider_id is None:
            raise UnprocessableEntity(
                "`provider_id` is required: the provider the alert is for.",
                errors=[field_error(["body", "provider_id"], "required for administrators")],
            )
        provider_id = data.provider_id
    else:
        raise Forbidden("Alerts are for providers: a provider key subscribes for itself.")
    if session.get(Provider, provider_id) is None:
        raise UnprocessableEntity(
            f"Provider {provider_id} does not exist.",
            errors=[field_error(["body", "provider_id"], f"no provider with id {provider_id}")],
        )
    count = session.exec(
        select(func.count()).select_from(Subscription).where(col(Subscription.provider_id) == provider_id)
    ).one()
    if count >= MAX_SUBSCRIPTIONS:
        raise Conflict(f"Provider {provider_id} has {count} alerts, the most it may have; delete one first.")
    row = Subscription(
        provider_id=provider_id,
        themes=list(dict.fromkeys(data.themes)),
        states=list(dict.fromkeys(data.states)),
        regions=list(dict.fromkeys(data.regions)),
        min_score=data.min_score,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        resource="subscription",
        resource_id=row.id,
        action="create",
        version_after=1,
        detail={"provider_id": provider_id},
    )
    session.commit()
    session.refresh(row)
    return row


def update_subscription(
    session: Session, *, principal: Principal, subscription_id: str, data: SubscriptionUpdate, expected: frozenset[int]
) -> Subscription:
    """Change the filters or the minimum score sent."""
    row = get_subscription(session, principal=principal, subscription_id=subscription_id)
    check_version(row.version, expected, f"Subscription {subscription_id}")
    changes = data.model_dump(exclude_unset=True)
    bad = [name for name, value in changes.items() if value is None]
    if bad:
        raise UnprocessableEntity(
            f"{', '.join(bad)} may not be null.",
            errors=[field_error(["body", name], "may not be null; send [] for any") for name in bad],
        )
    version = versioned_update(
        session,
        Subscription,
        row_id=row.id,
        read_version=row.version,
        values=changes,
        what=f"Subscription {subscription_id}",
    )
    audit.record(
        session,
        principal,
        resource="subscription",
        resource_id=row.id,
        action="update",
        version_before=row.version,
        version_after=version,
        detail=audit.changed_fields(changes),
    )
    session.commit()
    session.refresh(row)
    return row


def delete_subscription(
    session: Session, *, principal: Principal, subscription_id: str, expected: frozenset[int]
) -> None:
    """Stop an alert."""
    row = get_subscription(session, principal=principal, subscription_id=subscription_id)
    check_version(row.version, expected, f"Subscription {subscription_id}")
    versioned_delete(
        session, Subscription, row_id=row.id, read_version=row.version, what=f"Subscription {subscription_id}"
    )
    audit.record(
        session,
        principal,
        resource="subscription",
        resource_id=subscription_id,
        action="delete",
        version_before=row.version,
    )
    session.commit()


# --- evaluation (the worker) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fit:
    """A subscription a need fits, with the need's score for its provider."""

    subscription: Subscription
    score: float


def filters_hold(row: Subscription, need: Need) -> bool:
    """The need shares a theme (if any are named), is of a named State and in a named region (if named)."""
    if row.themes and not {t.casefold() for t in row.themes} & {t.casefold() for t in need.themes}:
        return False
    if row.states and need.state not in row.states:
        return False
    return not (row.regions and region_of(need.state) not in row.regions)


def fits(session: Session, need: Need, scores: dict[str, float]) -> list[Fit]:
    """The subscriptions `need` fits: their provider may see it, the filters hold, the score is high enough."""
    found = []
    for row in session.exec(select(Subscription).order_by(col(Subscription.created_at), col(Subscription.id))).all():
        score = scores.get(row.provider_id)
        if score is None or score < row.min_score:
            continue
        if not access.can_read_need(Principal(role="provider", provider_id=row.provider_id), need):
            continue
        if filters_hold(row, need):
            found.append(Fit(row, score))
    return found
