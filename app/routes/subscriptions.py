"""Alerts: /v1/subscriptions. A provider hears of new or changed needs that fit it (inbox, webhook, e-mail)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.core.pagination import Page
from app.http.auth import AuthenticatedDep
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.webhook import SubscriptionCreate, SubscriptionPublic, SubscriptionUpdate
from app.services import subscriptions as subscription_service

router = APIRouter(prefix="/subscriptions", tags=["alerts"])


@router.post(
    "",
    response_model=SubscriptionPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_subscription",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 409, 413, 422)},
)
def create_subscription(
    body: SubscriptionCreate, response: Response, session: SessionDep, principal: AuthenticatedDep
) -> SubscriptionPublic:
    """Save an alert: needs you may see, filed or changed from now on, that fit the filters and score at least
    `min_score` for your provider, reach your inbox (`need.matched`), your webhooks and your e-mail, once each."""
    row = subscription_service.create_subscription(session, principal=principal, data=body)
    response.headers["ETag"] = make_etag(row.version)
    response.headers["Location"] = f"/v1/subscriptions/{row.id}"
    return subscription_service.present_subscription(row)


@router.get(
    "", response_model=Page[SubscriptionPublic], operation_id="list_subscriptions", responses=problems(401, 422)
)
def list_subscriptions(
    session: SessionDep, principal: AuthenticatedDep, page: PageParamsDep
) -> Page[SubscriptionPublic]:
    """Your provider's alerts (all, for admins), oldest first."""
    rows, total = subscription_service.list_subscriptions(session, principal=principal, page=page)
    return Page.build([subscription_service.present_subscription(r) for r in rows], total, page)


@router.get(
    "/{subscription_id}",
    response_model=SubscriptionPublic,
    operation_id="get_subscription",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 404)},
)
def get_subscription(
    subscription_id: str, request: Request, response: Response, session: SessionDep, principal: AuthenticatedDep
) -> SubscriptionPublic | Response:
    """One of your alerts, with its `ETag`."""
    row = subscription_service.get_subscription(session, principal=principal, subscription_id=subscription_id)
    body = subscription_service.present_subscription(row)
    return conditional(request, response, etag=make_etag(row.version), body=body)


@router.patch(
    "/{subscription_id}",
    response_model=SubscriptionPublic,
    operation_id="update_subscription",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 404, 412, 413, 422, 428)},
)
def update_subscription(
    subscription_id: str,
    body: SubscriptionUpdate,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
) -> SubscriptionPublic:
    """Change an alert's filters or minimum score. Requires `If-Match`."""
    row = subscription_service.update_subscription(
        session, principal=principal, subscription_id=subscription_id, data=body, expected=expected
    )
    response.headers["ETag"] = make_etag(row.version)
    return subscription_service.present_subscription(row)


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_subscription",
    responses=problems(401, 404, 412, 428),
)
def delete_subscription(
    subscription_id: str, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep
) -> Response:
    """Stop an alert. Requires `If-Match`."""
    subscription_service.delete_subscription(
        session, principal=principal, subscription_id=subscription_id, expected=expected
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
