"""The provider pages: the directory, a profile with the needs it could serve, and the profile form.

An agency whose key is not yet bound to a provider registers its profile at
`/providers/new` (reached from the front page once signed in); its own key edits it
at `/providers/{id}/edit`. Both go through the services of `POST /v1/providers` and
`PATCH /v1/providers/{id}`, so the pages accept exactly what the API accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypedDict

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from app.core.errors import Conflict, Forbidden, PreconditionFailed, UnprocessableEntity
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.http.auth import Principal
from app.http.deps import PageParamsDep, SessionDep
from app.models.provider import Provider, ProviderCreate, ProviderUpdate
from app.reference.countries import resolve_iso3
from app.reference.languages import language_code
from app.reference.themes import choose_themes, theme_codes, theme_index_values
from app.reference.vocab import MODALITIES, PROVIDER_KINDS, REGIONS
from app.services import access, directory
from app.services import activities as activity_service
from app.services import providers as provider_service
from app.services import related as related_service
from app.web import explain
from app.web.forms import (
    FORM,
    FieldError,
    blank,
    confirm_themes,
    first,
    from_problem,
    parse_languages,
    validate_all,
)
from app.web.i18n import N_, gettext
from app.web.labels import state_name, theme_options
from app.web.session import FormDep, SignedInDep, WebDep
from app.web.templating import Pager, language_choices, redirect, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=200)]

LABELS = {
    "name": N_("The name"),
    "acronym": N_("The acronym"),
    "kind": N_("Kind of organisation"),
    "description": N_("The description of your expertise"),
    "themes": N_("Themes"),
    "countries": N_("Countries"),
    "regions": N_("Regions"),
    "languages": N_("Languages"),
    "modalities": N_("Kinds of help"),
    "website": N_("The website"),
    "contact_email": N_("The contact e-mail"),
}
MESSAGES = {
    ("name", "string_too_short"): N_("Give the organisation's name."),
    ("description", "string_too_short"): N_(
        "Describe your expertise in at least 20 characters: the matching reads it."
    ),
    ("description", "missing"): N_("Describe your expertise in at least 20 characters: the matching reads it."),
    ("kind", "literal_error"): N_("Choose the kind of organisation from the list."),
    ("themes", "too_long"): N_("List at most 30 themes."),
}
STALE = N_(
    "Someone changed this profile while you were editing it. "
    "The form now shows the saved profile: make your changes again."
)


# --- the directory ---------------------------------------------------------------------


@router.get("/providers", response_class=HTMLResponse)
def list_providers(
    request: Request,
    session: SessionDep,
    web: WebDep,
    page: PageParamsDep,
    kind: Text = None,
    theme: Text = None,
    region: Text = None,
    language: Text = None,
    q: Text = None,
) -> HTMLResponse:
    """The provider directory: words found in the name or the expertise, and kind, theme, region, language."""
    filters = {
        "kind": blank(kind),
        "theme": blank(theme),
        "region": blank(region),
        "language": language_code(language or "") if blank(language) else None,
        "expertise": blank(q),
    }
    rows, total = provider_service.list_providers(session, page=page, **filters)
    return render(
        request,
        "providers/list.html",
        {
            "providers": [provider_service.present_provider(r, web.principal) for r in rows],
            "filters": {**filters, "q": filters["expertise"]},
            "kinds": PROVIDER_KINDS,
            "regions": REGIONS,
            "themes": directory.provider_themes(session),
            "languages": language_choices([]),
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
        },
    )


# --- registration ----------------------------------------------------------------------


def _check_may_register(principal: Principal) -> None:
    if not access.can_create_provider(principal):
        if principal.role == "provider":
            raise Forbidden(gettext("Your key already has a profile; edit it from “My profile” instead."))
        raise Forbidden(
            gettext("Only an organisation's provider key (before it has a profile) or an administrator registers.")
        )


class ProviderFormValues(TypedDict):
    """The profile form's fields as typed (shown again on a mistake)."""

    name: str
    acronym: str
    kind: str
    description: str
    themes: list[str]  # the controlled codes ticked, and the profile's labels outside the list it keeps
    countries: str
    regions: list[str]
    languages: list[str]
    other_languages: str
    modalities: list[str]
    website: str
    contact_email: str
    version: str


def _form(
    request: Request,
    values: ProviderFormValues,
    errors: list[FieldError],
    *,
    provider: Provider | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "providers/form.html",
        {
            "provider": provider,
            "values": values,
            "errors": errors,
            "kinds": PROVIDER_KINDS,
            "regions": REGIONS,
            "modalities": MODALITIES,
            "languages": language_choices(values["languages"]),
            # The controlled themes, and the profile's labels outside the list (kept while ticked).
            "theme_choices": theme_options()
            + [
                (label, f"{label} (not in the list: untick to remove it)", "Not in the list")
                for label in values["themes"]
                if not theme_codes(label)
            ],
            "theme_labels": [label for _, label, _ in theme_options()],
        },
        status_code=status_code,
    )


def _empty_values(principal: Principal) -> ProviderFormValues:
    return {
        "name": principal.name or "" if principal.role == "provider" else "",
        "acronym": "",
        "kind": "",
        "description": "",
        "themes": [],
        "countries": "",
        "regions": [],
        "languages": [],
        "other_languages": "",
        "modalities": [],
        "website": "",
        "contact_email": "",
        "version": "",
    }


@router.get("/providers/new", response_class=HTMLResponse)
def new_provider(request: Request, principal: SignedInDep) -> HTMLResponse:
    """The registration form of an agency whose key has no profile yet."""
    _check_may_register(principal)
    return _form(request, _empty_values(principal), [])


@router.post("/providers/new", response_model=None)
def create_provider(
    request: Request, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Register the profile through the service of `POST /v1/providers`; the key is then bound to it."""
    _check_may_register(principal)
    values, payload, found = _read(form)
    data, errors = validate_all(ProviderCreate, payload, found, labels=LABELS, messages=MESSAGES)
    if data is not None:
        try:
            row = provider_service.create_provider(
                session, principal=principal, data=data, theme_space=request.app.state.match_index.themes
            )
        except (UnprocessableEntity, Conflict) as exc:
            errors = from_problem(exc)
        else:
            return redirect(request, f"/providers/{row.id}", flash="profile_created")
    return _form(request, values, errors, status_code=422)


# --- one profile -----------------------------------------------------------------------


@router.get("/providers/{provider_id}", response_class=HTMLResponse)
def read_provider(request: Request, provider_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """A provider's profile and the open needs it could serve, ranked by the match service."""
    row = provider_service.get_provider(session, provider_id=provider_id)
    needs = explain.needs_for(session, request.app.state, principal=web.principal, provider=row)
    related = related_service.for_provider(
        session, request.app.state.match_index, principal=web.principal, provider=row
    )
    activities, activities_total = activity_service.list_activities(
        session, principal=web.principal, page=PageParams(limit=10, offset=0), provider_id=row.id
    )
    return render(
        request,
        "providers/detail.html",
        {
            "provider": provider_service.present_provider(row, web.principal),
            "needs": needs,
            "related": related,
            "activities": activities,
            "activities_total": activities_total,
            "can_edit": access.can_write_provider(web.principal, row),
        },
    )


def _values_of(provider: Provider) -> ProviderFormValues:
    return {
        "name": provider.name,
        "acronym": provider.acronym or "",
        "kind": provider.kind,
        "description": provider.description,
        "themes": _shown_choice(provider.themes),
        "countries": ", ".join(state_name(c) for c in provider.countries),
        "regions": list(provider.regions),
        "languages": list(provider.languages),
        "other_languages": "",
        "modalities": list(provider.modalities),
        "website": provider.website or "",
        "contact_email": provider.contact_email or "",
        "version": str(provider.version),
    }


def _outside_the_list(chosen: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """Checkbox options of a profile's labels that are no theme of the list (kept while ticked)."""
    return [
        (label, f"{label} (not in the list: untick to remove it)", "Not in the list")
        for label in chosen
        if not theme_codes(label)
    ]


def _shown_choice(labels: Sequence[str]) -> list[str]:
    """A profile's themes as the form ticks them: their controlled codes, and any label outside the list."""
    choice = choose_themes(theme_index_values(labels), labels)
    return choice.codes + [label for label in labels if not theme_codes(label)]


def _read(form: FormData, existing: Sequence[str] = ()) -> tuple[ProviderFormValues, JsonObject, list[FieldError]]:
    """The form as typed (to show again), the payload for the service, and the mistakes found while reading.

    Themes come from the controlled list (ticked, or typed in its search box): anything else is a mistake on
    the field; `existing` are the profile's labels, kept as they are while their themes stay ticked.
    """
    languages, errors = parse_languages([str(v) for v in form.getlist("languages")], first(form, "other_languages"))
    choice = choose_themes([str(v) for v in form.getlist("themes")], existing)
    for text in choice.unknown:
        errors.append(
            FieldError(
                "themes",
                gettext(
                    "Themes: “%(text)s” is not a theme of the list; "
                    "tick the themes in the list, or type one of its names."
                )
                % {"text": text},
            )
        )
    values: ProviderFormValues = {
        "name": first(form, "name"),
        "acronym": first(form, "acronym"),
        "kind": first(form, "kind"),
        "description": str(form.get("description") or "").strip(),
        "themes": choice.codes + [label for label in choice.labels if not theme_codes(label)],
        "countries": first(form, "countries"),
        "regions": [str(v) for v in form.getlist("regions")],
        "languages": languages,
        "other_languages": "",
        "modalities": [str(v) for v in form.getlist("modalities")],
        "website": first(form, "website"),
        "contact_email": first(form, "contact_email"),
        "version": first(form, "version"),
    }
    countries: list[str] = []
    for name in str(values["countries"]).replace(";", ",").split(","):
        if not name.strip():
            continue
        code = resolve_iso3(name.strip())
        if code is None:
            errors.append(
                FieldError(
                    "countries",
                    gettext("We do not know the country “%(name)s”: write its name.") % {"name": name.strip()},
                )
            )
        elif code not in countries:
            countries.append(code)
    payload: JsonObject = {
        "name": values["name"],
        "acronym": values["acronym"] or None,
        "kind": values["kind"] or None,
        "description": values["description"],
        "themes": choice.labels,
        "countries": countries,
        "regions": values["regions"],
        "languages": languages,
        "modalities": values["modalities"],
        "website": values["website"] or None,
        "contact_email": values["contact_email"] or None,
    }
    if not values["kind"]:
        errors.append(FieldError("kind", gettext("Choose the kind of organisation from the list.")))
    return values, payload, errors


def _own(session: SessionDep, principal: Principal, provider_id: str) -> Provider:
    row = provider_service.get_provider(session, provider_id=provider_id)
    if not access.can_write_provider(principal, row):
        raise Forbidden(
            gettext("You are not signed in for %(name)s; only its own key may edit this profile.") % {"name": row.name}
        )
    return row


@router.get("/providers/{provider_id}/edit", response_class=HTMLResponse)
def edit_provider(request: Request, provider_id: str, session: SessionDep, principal: SignedInDep) -> HTMLResponse:
    """The profile form, for the provider's own key (and administrators)."""
    row = _own(session, principal, provider_id)
    return _form(request, _values_of(row), [], provider=row)


@router.post("/providers/{provider_id}/edit", response_model=None)
def update_provider(
    request: Request, provider_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Save the profile through the same service as `PATCH /v1/providers/{id}` (same rules, same checks)."""
    row = _own(session, principal, provider_id)
    values, payload, found = _read(form, row.themes)
    data, errors = validate_all(ProviderUpdate, payload, found, labels=LABELS, messages=MESSAGES)
    if data is not None:
        try:
            version = int(values["version"]) if values["version"].isdigit() else 0
            provider_service.update_provider(
                session,
                principal=principal,
                provider_id=row.id,
                data=data,
                expected=frozenset({version}),
                theme_space=request.app.state.match_index.themes,
            )
        except (UnprocessableEntity, Conflict) as exc:
            errors = from_problem(exc)
        except PreconditionFailed:
            session.rollback()
            fresh = provider_service.get_provider(session, provider_id=provider_id)
            return _form(
                request, _values_of(fresh), [FieldError(FORM, gettext(STALE))], provider=fresh, status_code=409
            )
        else:
            return redirect(request, f"/providers/{row.id}", flash="profile_saved")
    return _form(request, values, errors, provider=row, status_code=422)


@router.post("/providers/{provider_id}/themes", response_model=None)
def confirm_provider_themes(
    request: Request, provider_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse:
    """Declare the ticked themes (the ones read in the description, confirmed or corrected), as `PATCH themes` does."""
    row = _own(session, principal, provider_id)
    confirm_themes(
        form,
        ProviderUpdate,
        lambda update, expected: provider_service.update_provider(
            session, principal=principal, provider_id=row.id, data=update, expected=expected
        ),
        gettext("Reload the profile and confirm its themes again."),
    )
    return redirect(request, f"/providers/{row.id}", flash="themes_saved")
