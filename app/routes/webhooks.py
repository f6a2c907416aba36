"""Webhooks: /v1/webhooks. Signed (Standard Webhooks) deliveries of your events to other systems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.core.pagination import Page
from app.core.secret_box import secret_box
from app.http.auth import AuthenticatedDep
from app.http.deps import PageParamsDep, SessionDep, SettingsDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.webhook import (
    DeliveryPublic,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookUpdate,
)
from app.services import webhooks as webhook_service

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_webhook",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 409, 413, 422)},
)
def create_webhook(
    body: WebhookCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    settings: SettingsDep,
) -> WebhookCreated:
    """Register an https endpoint for events of your State or provider; the signing secret is in this answer only.

    Deliveries carry `webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard Webhooks: `v1,` and the
    base64 HMAC-SHA256 of `id.timestamp.body` under the secret); the body is `{"type", "timestamp", "data"}`.
    With an `Idempotency-Key`, a replay answers the same endpoint with `secret` null: the secret is never saved
    in clear.
    """
    row, secret = webhook_service.create_webhook(
        session,
        principal=principal,
        data=body,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
        box=secret_box(settings),
    )
    request.state.idempotency_redact = ("secret",)  # the saved answer for a replay leaves it out
    response.headers["ETag"] = make_etag(row.version)
    response.headers["Location"] = f"/v1/webhooks/{row.id}"
    return WebhookCreated(**webhook_service.present_webhook(row).model_dump(), secret=secret)


@router.get("", response_model=Page[WebhookPublic], operation_id="list_webhooks", responses=problems(401, 422))
def list_webhooks(session: SessionDep, principal: AuthenticatedDep, page: PageParamsDep) -> Page[WebhookPublic]:
    """Your endpoints (all, for admins), oldest first; never their secrets."""
    rows, total = webhook_service.list_webhooks(session, principal=principal, page=page)
    return Page.build([webhook_service.present_webhook(r) for r in rows], total, page)


@router.get(
    "/{webhook_id}",
    response_model=WebhookPublic,
    operation_id="get_webhook",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 404)},
)
def get_webhook(
    webhook_id: str, request: Request, response: Response, session: SessionDep, principal: AuthenticatedDep
) -> WebhookPublic | Response:
    """One of your endpoints, with its `ETag`."""
    row = webhook_service.get_webhook(session, principal=principal, webhook_id=webhook_id)
    body = webhook_service.present_webhook(row)
    return conditional(request, response, etag=make_etag(row.version), body=body)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookPublic,
    operation_id="update_webhook",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 404, 412, 413, 422, 428)},
)
def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
    settings: SettingsDep,
) -> WebhookPublic:
    """Change the URL, events or description; `enabled: true` turns a disabled endpoint on again (`If-Match`)."""
    row = webhook_service.update_webhook(
        session,
        principal=principal,
        webhook_id=webhook_id,
        data=body,
        expected=expected,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
    )
    response.headers["ETag"] = make_etag(row.version)
    return webhook_service.present_webhook(row)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_webhook",
    responses=problems(401, 404, 412, 428),
)
def delete_webhook(webhook_id: str, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep) -> Response:
    """Delete an endpoint and its deliveries. Requires `If-Match`."""
    webhook_service.delete_webhook(session, principal=principal, webhook_id=webhook_id, expected=expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryPublic,
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="test_webhook",
    responses=problems(401, 404, 409),
)
def test_webhook(webhook_id: str, session: SessionDep, principal: AuthenticatedDep) -> DeliveryPublic:
    """Queue a signed `webhook.test` message to the endpoint; the worker delivers it within seconds."""
    row = webhook_service.send_test(session, principal=principal, webhook_id=webhook_id)
    return webhook_service.present_deliveries(session, [row])[0]


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryPublic],
    operation_id="list_webhook_deliveries",
    responses=problems(401, 404, 422),
)
def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    principal: AuthenticatedDep,
    page: PageParamsDep,
    status: Annotated[DeliveryStatus | None, Query(description="pending, succeeded or failed.")] = None,
) -> Page[DeliveryPublic]:
    """The endpoint's deliveries, newest first, each with its latest attempts (status, time, answer's start)."""
    items, total = webhook_service.list_deliveries(
        session, principal=principal, webhook_id=webhook_id, page=page, status=status
    )
    return Page.build(items, total, page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryPublic,
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="retry_webhook_delivery",
    responses=problems(401, 404, 409),
)
def retry_delivery(
    webhook_id: str, delivery_id: str, session: SessionDep, principal: AuthenticatedDep
) -> DeliveryPublic:
    """Send a failed or delivered message again now, with the same `webhook-id`; 409 while it is still pending."""
    row = webhook_service.retry_delivery(session, principal=principal, webhook_id=webhook_id, delivery_id=delivery_id)
    return webhook_service.present_deliveries(session, [row])[0]
