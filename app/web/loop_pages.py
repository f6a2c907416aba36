"""The cooperation loop's pages: ask a partner, offer help, the inbox with its answer forms.

Every form posts to a handler here, which calls the same service as the API
(`POST /v1/needs/{id}/engagements`, `.../accept`, `.../decline`, `.../withdraw`,
`POST /v1/activities/{id}/confirm|decline`, `POST /v1/inbox/read`) with the version the
page showed as `If-Match`, then goes back where the visitor was. CSRF is checked by the
pages' router, as for every form.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from app.core.errors import Conflict, PreconditionFailed, UnprocessableEntity
from app.core.pagination import PageParams
from app.http.deps import PageParamsDep, SessionDep
from app.models.activity import ActivityDecline
from app.models.engagement import DECLINE_REASONS, EngagementAccept, EngagementCreate, EngagementDecline
from app.models.events import InboxRead
from app.services import activities as activity_service
from app.services import engagements as engagement_service
from app.services import inbox as inbox_service
from app.services import overview as overview_service
from app.web.flash import Flash
from app.web.forms import first
from app.web.i18n import N_, gettext
from app.web.session import FormDep, SignedInDep
from app.web.templating import Pager, redirect, render

router = APIRouter(include_in_schema=False)

REASON_LABELS = {
    "out_of_scope": N_("It is outside our field of work"),
    "no_capacity": N_("We have no capacity now"),
    "no_funding": N_("We have no funding for it"),
    "timing": N_("The timing does not suit us"),
    "other": N_("Another reason"),
}
STALE = N_("Someone answered or changed this meanwhile. The page now shows where it stands.")


def _version(form: FormData) -> frozenset[int]:
    value = first(form, "version")
    return frozenset({int(value)}) if value.isdigit() else frozenset()


def _back(request: Request, form: FormData, default: str, *, flash: Flash | None = None) -> RedirectResponse:
    target = first(form, "back")
    good = target.startswith("/") and not target.startswith("//")
    return redirect(request, target if good else default, flash=flash)


def _refused(exc: Exception) -> Conflict:
    """A stale or refused answer, said in words on the error page."""
    if isinstance(exc, PreconditionFailed):
        return Conflict(gettext(STALE))
    return Conflict(str(getattr(exc, "detail", exc)))


@router.post("/needs/{need_id}/engagements", response_model=None)
def ask_or_offer(
    request: Request, need_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse:
    """ "Ask this partner" (a State, with the provider) or "Offer help" (a provider), then back to the need."""
    message = first(form, "message")
    provider_id = first(form, "provider_id") or None
    if not message:
        raise UnprocessableEntity(
            gettext("Write a few words to the other party (what you hope for, when), then send again.")
        )
    data = EngagementCreate(provider_id=provider_id, message=message[:5000])
    engagement_service.create_engagement(session, principal=principal, need_id=need_id, data=data)
    return redirect(request, f"/needs/{need_id}#engagements", flash="request_sent")


@router.post("/engagements/{engagement_id}/{action}", response_model=None)
def answer_engagement(
    request: Request, engagement_id: str, action: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse:
    """Accept, decline or withdraw an engagement from the inbox or the need page."""
    expected = _version(form)
    message = first(form, "message")[:5000] or None
    try:
        if action == "accept":
            engagement_service.accept_engagement(
                session,
                principal=principal,
                engagement_id=engagement_id,
                data=EngagementAccept(message=message),
                expected=expected,
            )
        elif action == "decline":
            reason = first(form, "reason")
            if reason not in DECLINE_REASONS:
                raise UnprocessableEntity(gettext("Choose why you decline, then send again."))
            engagement_service.decline_engagement(
                session,
                principal=principal,
                engagement_id=engagement_id,
                data=EngagementDecline.model_validate({"reason": reason, "message": message}),
                expected=expected,
            )
        elif action == "withdraw":
            engagement_service.withdraw_engagement(
                session, principal=principal, engagement_id=engagement_id, expected=expected
            )
        else:
            raise UnprocessableEntity(
                gettext("%(action)s is not an answer to an engagement.") % {"action": repr(action)}
            )
    except (PreconditionFailed, Conflict) as exc:
        raise _refused(exc) from exc
    answered: dict[str, Flash] = {
        "accept": "request_accepted",
        "decline": "request_declined",
        "withdraw": "request_withdrawn",
    }
    return _back(request, form, "/inbox", flash=answered[action])


@router.post("/activities/{activity_id}/answer", response_model=None)
def answer_activity(
    request: Request, activity_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse:
    """Confirm or decline an activity the other party recorded."""
    expected = _version(form)
    confirm = first(form, "answer") == "confirm"
    try:
        if confirm:
            activity_service.confirm_activity(session, principal=principal, activity_id=activity_id, expected=expected)
        else:
            reason = first(form, "reason")
            if len(reason) < 3:
                raise UnprocessableEntity(
                    gettext("Say in a few words why the activity did not take place as recorded.")
                )
            activity_service.decline_activity(
                session,
                principal=principal,
                activity_id=activity_id,
                data=ActivityDecline(reason=reason[:1000]),
                expected=expected,
            )
    except (PreconditionFailed, Conflict) as exc:
        raise _refused(exc) from exc
    return _back(request, form, "/inbox", flash="activity_confirmed" if confirm else "activity_declined")


@router.get("/inbox", response_class=HTMLResponse)
def read_inbox(request: Request, session: SessionDep, principal: SignedInDep, page: PageParamsDep) -> HTMLResponse:
    """What waits on the visitor (answer forms), the activities to confirm, and what happened, newest first."""
    box = inbox_service.list_inbox(session, principal=principal, page=page)
    waiting_ids = inbox_service.waiting_activity_ids(session, principal=principal)
    rows, _ = activity_service.list_activities(
        session, principal=principal, page=PageParams(limit=50, offset=0), confirmation="unconfirmed"
    )
    to_confirm = [a for a in rows if a.id in waiting_ids]
    engagement_ids = [i.resource_id for i in box.items if i.resource == "engagement" and i.action_required]
    engagements = {
        e.id: e
        for e in engagement_service.present_engagements(
            [engagement_service.get_engagement(session, principal=principal, engagement_id=i) for i in engagement_ids]
        )
    }
    providers = overview_service.get_providers_by_ids(
        session, ids=[a.provider_id for a in to_confirm] + [e.provider_id for e in engagements.values()]
    )
    return render(
        request,
        "inbox.html",
        {
            "box": box,
            "engagements": engagements,
            "to_confirm": to_confirm,
            "providers": providers,
            "reasons": REASON_LABELS,
            "pager": Pager(total=box.total, limit=page.limit, offset=page.offset),
        },
    )


@router.post("/inbox/read", response_model=None)
def mark_read(request: Request, session: SessionDep, principal: SignedInDep, form: FormDep) -> RedirectResponse:
    """Mark every item read."""
    inbox_service.mark_read(session, principal=principal, data=InboxRead(all=True))
    return redirect(request, "/inbox")
