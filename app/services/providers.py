"""Providers: list, get, create (incl. self-registration by an unbound provider key), update, delete."""

from __future__ import annotations

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, or_, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.activity import Activity
from app.models.api_key import ApiKey
from app.models.common import utcnow
from app.models.provider import (
    Provider,
    ProviderCreate,
    ProviderFacet,
    ProviderPrivate,
    ProviderPublic,
    ProviderUpdate,
)
from app.reference.themes import choose_themes, controlled_themes, resolve_theme, spellings_of
from app.services import access, audit
from app.services.themes import profile_themes
from app.services.versioning import check_version, reject_nulls, versioned_delete, versioned_update
from matching.texts import provider_text
from matching.theme_space import ThemeSpace

# List fields mirrored into provider_facet, and the facet name each is filed under.
FACETS = {
    "themes": "theme",
    "languages": "language",
    "modalities": "modality",
    "regions": "region",
    "countries": "country",
}
_REQUIRED = ("name", "kind", "description", "themes", "sdgs", "countries", "regions", "languages", "modalities")
# The fields the tagger reads: a change to one of them predicts the profile's themes again.
_READ_FIELDS = ("name", "acronym", "description")


def present_provider(row: Provider, principal: Principal) -> ProviderPublic | ProviderPrivate:
    """The provider as this caller may see it: with the contact e-mail only when authenticated."""
    if access.can_see_contact(principal):
        return ProviderPrivate.model_validate(row, from_attributes=True)
    return ProviderPublic.model_validate(row.model_dump(exclude={"contact_email"}))


def _normalise_filter(facet: str, value: str) -> str:
    """A filter value in the form facets are stored in (themes case-folded, codes in their case)."""
    value = " ".join(value.split())
    if facet == "theme":
        return value.casefold()
    return value.upper() if facet == "country" else value.lower() if facet == "language" else value


def _facet_value(facet: str, value: str) -> str:
    return value.casefold() if facet == "theme" else value


def write_facets(session: Session, provider: Provider) -> None:
    """Mirror the list fields into provider_facet; a profile without declared themes is found by its predicted ones."""
    session.exec(delete(ProviderFacet).where(col(ProviderFacet.provider_id) == provider.id))
    seen: set[tuple[str, str]] = set()
    for field, facet in FACETS.items():
        values = getattr(provider, field)
        if field == "themes" and not values:
            values = provider.themes_predicted
        for value in values:
            key = (facet, _facet_value(facet, value))
            if key not in seen:
                seen.add(key)
                session.add(ProviderFacet(provider_id=provider.id, facet=key[0], value=key[1]))


def _check_slug_free(session: Session, slug: str | None, *, exclude_id: str | None = None) -> None:
    if slug is None:
        return
    existing = session.exec(select(Provider.id).where(Provider.slug == slug)).first()
    if existing is not None and existing != exclude_id:
        raise Conflict(f"The slug {slug!r} is taken by provider {existing}.", existing_id=existing)


def get_provider(session: Session, *, provider_id: str) -> Provider:
    """Return one provider (providers are public) or raise 404."""
    row = session.get(Provider, provider_id)
    if row is None:
        raise NotFound(f"Provider {provider_id} does not exist.")
    return row


def list_providers(
    session: Session,
    *,
    page: PageParams,
    kind: str | None = None,
    theme: str | None = None,
    language: str | None = None,
    modality: str | None = None,
    region: str | None = None,
    country: str | None = None,
    q: str | None = None,
    expertise: str | None = None,
) -> tuple[list[Provider], int]:
    """List providers matching every given filter, oldest first (stable order).

    `q` looks in the name and acronym; `expertise` wants each of its words in the name, acronym or description.
    """
    conditions: list[ColumnElement[bool]] = []
    if kind:
        conditions.append(col(Provider.kind) == kind)
    for facet, value in (
        ("theme", theme),
        ("language", language),
        ("modality", modality),
        ("region", region),
        ("country", country),
    ):
        if value:
            normalised = _normalise_filter(facet, value)
            # A theme finds every spelling of the controlled theme(s) it is (a code, a label, a source's label).
            wanted = sorted(spellings_of(resolve_theme(value)) | {normalised}) if facet == "theme" else [normalised]
            conditions.append(
                col(Provider.id).in_(
                    select(ProviderFacet.provider_id).where(
                        ProviderFacet.facet == facet, col(ProviderFacet.value).in_(wanted)
                    )
                )
            )
    if q:
        needle = q.strip().lower()
        conditions.append(
            or_(
                func.lower(Provider.name).contains(needle, autoescape=True),
                func.lower(func.coalesce(Provider.acronym, "")).contains(needle, autoescape=True),
            )
        )
    if expertise:
        haystack = func.lower(
            Provider.name + " " + func.coalesce(Provider.acronym, "") + " " + col(Provider.description)
        )
        for word in expertise.lower().split()[:20]:
            conditions.append(haystack.contains(word, autoescape=True))
    total = session.exec(select(func.count()).select_from(Provider).where(*conditions)).one()
    rows = session.exec(
        select(Provider)
        .where(*conditions)
        .order_by(col(Provider.created_at), col(Provider.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def predicted_themes(space: ThemeSpace | None, name: str, acronym: str | None, description: str) -> list[str]:
    """The themes the tagger reads in a profile (its name, acronym and description), best first."""
    return profile_themes(space, provider_text(name, acronym, description, []))


def check_themes(posted: list[str], existing: list[str] | None = None) -> None:
    """422 unless every theme is one of the controlled list (a code, its label, or a source's label for it).

    A label the profile already had stays acceptable (`existing`), so a profile saved unchanged is
    never refused. The problem names each unknown value and offers the accepted codes and labels.
    """
    unknown = set(choose_themes(posted, existing or []).unknown)
    if not unknown:
        return
    errors = [
        field_error(
            ["body", "themes", index],
            f"{value!r} is not a theme of the controlled list: send a code or a label from `accepted`",
        )
        for index, value in enumerate(posted)
        if " ".join(value.split()) in unknown
    ]
    raise UnprocessableEntity(
        f'themes: {len(errors)} value(s) are not themes of the controlled list; send codes ("D25") or labels.',
        errors=errors,
        accepted=[{"code": t.code, "label": t.label} for t in controlled_themes()],
    )


def create_provider(
    session: Session,
    *,
    principal: Principal,
    data: ProviderCreate,
    is_demo: bool = False,
    theme_space: ThemeSpace | None = None,
) -> Provider:
    """Create a provider; when an unbound provider key registers, bind the key to it (once).

    `is_demo` is server-owned: only the demo loader sets it, never a request body. With the
    service's `theme_space`, the themes read in the profile are stored as `themes_predicted`.
    """
    if not access.can_create_provider(principal):
        if principal.role == "provider":
            raise Forbidden(
                f"This key already acts for provider {principal.provider_id}; "
                "a provider key registers one provider only. Edit it with PATCH instead."
            )
        raise Forbidden("Only administrators and unbound provider keys may create providers.")
    _check_slug_free(session, data.slug)
    check_themes(data.themes)
    predicted = predicted_themes(theme_space, data.name, data.acronym, data.description)
    row = Provider(**data.model_dump(), is_demo=is_demo, themes_predicted=predicted)
    session.add(row)
    try:
        session.flush()
        write_facets(session, row)
        if principal.role == "provider":
            # Bind atomically: of two concurrent registrations with one key, only one finds it unbound.
            bound = session.exec(
                update(ApiKey)
                .where(col(ApiKey.id) == principal.key_id, col(ApiKey.provider_id).is_(None))
                .values(provider_id=row.id)
                .execution_options(synchronize_session=False)
            )
            if bound.rowcount != 1:
                session.rollback()
                raise Conflict("This key registered a provider meanwhile; it may register one only.")
        detail = {"bound_key_id": principal.key_id} if principal.role == "provider" else {}
        audit.record(
            session, principal, resource="provider", resource_id=row.id, action="create", version_after=1, detail=detail
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        _check_slug_free(session, data.slug)
        raise
    session.refresh(row)
    return row


def update_provider(
    session: Session,
    *,
    principal: Principal,
    provider_id: str,
    data: ProviderUpdate,
    expected: frozenset[int],
    theme_space: ThemeSpace | None = None,
) -> Provider:
    """Apply the fields sent to a provider the caller owns, if its ETag is still current.

    A new name, acronym or description is read again for `themes_predicted` (with `theme_space`).
    """
    row = get_provider(session, provider_id=provider_id)
    if not access.can_write_provider(principal, row):
        raise Forbidden(f"This key may not change provider {provider_id}.")
    check_version(row.version, expected, f"Provider {provider_id}")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, _REQUIRED)
    if "themes" in changes:
        check_themes(changes["themes"], row.themes)
    if "slug" in changes:
        _check_slug_free(session, changes["slug"], exclude_id=row.id)
    sent = audit.changed_fields(changes)
    if theme_space is not None and any(f in changes for f in _READ_FIELDS):
        changes["themes_predicted"] = predicted_themes(
            theme_space,
            changes.get("name", row.name),
            changes.get("acronym", row.acronym),
            changes.get("description", row.description),
        )
    read_version = row.version
    version = versioned_update(
        session, Provider, row_id=row.id, read_version=read_version, values=changes, what=f"Provider {provider_id}"
    )
    try:
        if (FACETS.keys() | {"themes_predicted"}) & changes.keys():
            session.expire(row)
            write_facets(session, row)
        audit.record(
            session,
            principal,
            resource="provider",
            resource_id=provider_id,
            action="update",
            version_before=read_version,
            version_after=version,
            detail=sent,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        _check_slug_free(session, changes.get("slug"), exclude_id=provider_id)
        raise
    session.refresh(row)
    return row


def delete_provider(session: Session, *, principal: Principal, provider_id: str, expected: frozenset[int]) -> None:
    """Delete a provider without activities; keys bound to it are revoked, since they act for nobody now."""
    row = get_provider(session, provider_id=provider_id)
    if not access.can_write_provider(principal, row):
        raise Forbidden(f"This key may not delete provider {provider_id}.")
    check_version(row.version, expected, f"Provider {provider_id}")
    dependants = session.exec(
        select(func.count()).select_from(Activity).where(Activity.provider_id == provider_id)
    ).one()
    if dependants:
        raise Conflict(
            f"Provider {provider_id} has {dependants} cooperation activit{'y' if dependants == 1 else 'ies'} "
            "depending on it; delete or reassign those first.",
            dependent_activities=dependants,
        )
    try:
        versioned_delete(
            session, Provider, row_id=provider_id, read_version=row.version, what=f"Provider {provider_id}"
        )
    except IntegrityError:
        session.rollback()
        raise Conflict(f"Provider {provider_id} gained a dependent activity meanwhile; nothing was deleted.") from None
    revoked = (
        session.execute(
            update(ApiKey)
            .where(col(ApiKey.provider_id) == provider_id, col(ApiKey.revoked_at).is_(None))
            .values(revoked_at=utcnow())
            .returning(col(ApiKey.id))
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    audit.record(
        session,
        principal,
        resource="provider",
        resource_id=provider_id,
        action="delete",
        version_before=row.version,
        detail={"revoked_key_ids": sorted(revoked)},
    )
    session.commit()
