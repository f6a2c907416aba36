"""Needs: list, get, create, update, delete, with the rules on cited recommendations.

A need cites 1-200 recommendations; each must exist, be addressed to the need's
State and have been *supported* by it. A refusal is a 422 whose `errors` name each
bad id by its position (`/body/recommendation_ids/2`) and say why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.activity import Activity
from app.models.need import Need, NeedCreate, NeedPublic, NeedRecommendation, NeedTheme, NeedUpdate
from app.models.recommendation import Recommendation
from app.reference.themes import resolve_theme, spellings_of
from app.reference.vocab import MAX_NEED_THEMES, THEME_MAX_CHARS
from app.services import access, audit, events
from app.services.themes import recommendation_themes
from app.services.versioning import check_version, reject_nulls, versioned_delete, versioned_update
from matching.theme_space import ThemeSpace

_REQUIRED = (
    "title",
    "description",
    "recommendation_ids",
    "themes",
    "languages",
    "modalities",
    "priority",
    "status",
    "visibility",
)


def check_recommendations(
    session: Session,
    ids: Sequence[str],
    *,
    state: str,
    supported_only: bool,
    loc: list[str | int],
    refuse_withdrawn: bool = False,
    already: Collection[str] = (),
) -> list[Recommendation]:
    """Load the cited recommendations in order, or raise a 422 naming every bad id and why.

    With `refuse_withdrawn` (needs), a recommendation withdrawn from its source's export may not be
    cited anew; one in `already` (cited before it was withdrawn) may stay.
    """
    found = {r.id: r for r in session.exec(select(Recommendation).where(col(Recommendation.id).in_(set(ids))))}
    errors = []
    seen: set[str] = set()
    # (the id that counts, source) -> cited id: two sources' copies of one recommendation are one
    # recommendation; two records of the same source are two, even when another source merged them.
    counted: dict[str, tuple[str, str]] = {}
    for index, rid in enumerate(ids):
        rec = found.get(rid)
        first = counted.get(rec.canonical_id or rec.id) if rec is not None else None
        same = first[0] if first is not None and rec is not None and first[1] != rec.source else None
        if rid in seen:
            reason = f"recommendation {rid} is listed twice"
        elif same is not None:
            reason = f"recommendation {rid} is the same recommendation as {same} (from another source); cite it once"
        elif rec is None:
            reason = f"recommendation {rid} does not exist"
        elif rec.state_under_review != state:
            reason = f"recommendation {rid} is addressed to {rec.state_under_review}, not {state}"
        elif supported_only and rec.response != "supported":
            verb = "was noted by" if rec.response == "noted" else f"is {rec.response} with"
            reason = f"recommendation {rid} {verb} {state}; needs may cite supported recommendations only"
        elif refuse_withdrawn and rec.withdrawn_at is not None and rid not in already:
            reason = (
                f"recommendation {rid} was withdrawn from its source on {rec.withdrawn_at:%Y-%m-%d}; "
                "it may not be cited anew"
            )
        else:
            reason = None
        seen.add(rid)
        if rec is not None:
            counted.setdefault(rec.canonical_id or rec.id, (rid, rec.source))
        if reason:
            errors.append(field_error([*loc, index], reason))
    if errors:
        raise UnprocessableEntity(
            f"{len(errors)} cited recommendation(s) refused: " + "; ".join(e["detail"] for e in errors[:5]) + ".",
            errors=errors,
        )
    return [found[rid] for rid in ids]


def default_themes(recommendations: Sequence[Recommendation]) -> list[str]:
    """The union of the recommendations' human labels, in first-seen order, at most MAX_NEED_THEMES.

    Themes the tagger predicted for a recommendation are not declared for the need: they show in its
    `themes_predicted`, and the ranking reads them from the recommendations with their probabilities.
    """
    themes: list[str] = []
    seen: set[str] = set()
    for rec in recommendations:
        if rec.themes_predicted:
            continue
        # The source's own labels: a need's declared themes are a ranking input, kept as they were.
        for theme in rec.themes_source or rec.themes or []:
            text = " ".join(str(theme).split())[:THEME_MAX_CHARS]
            if text and text.casefold() not in seen:
                seen.add(text.casefold())
                themes.append(text)
    return themes[:MAX_NEED_THEMES]


def dedupe_key(*, state: str, recommendation_ids: Sequence[str], title: str, status: str) -> str | None:
    """Identity of a need for duplicate detection; None once closed (a closed need blocks nothing)."""
    if status == "closed":
        return None
    canonical = "\n".join([state, ",".join(sorted(set(recommendation_ids))), " ".join(title.split()).casefold()])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _raise_if_duplicate(session: Session, key: str | None, *, exclude_id: str | None = None) -> None:
    if key is None:
        return
    existing = session.exec(select(Need.id).where(Need.dedupe_key == key)).first()
    if existing is not None and existing != exclude_id:
        raise Conflict(
            f"Need {existing} already asks this: same State, same recommendations and same title. "
            "Update that need instead.",
            existing_id=existing,
        )


def predicted_themes(space: ThemeSpace | None, recommendations: Sequence[Recommendation], title: str) -> list[str]:
    """The themes the tagger reads in the cited recommendations, best first."""
    return recommendation_themes(space, [r.text for r in recommendations], title)


def _write_links(
    session: Session, need_id: str, recommendation_ids: Sequence[str] | None, themes: Sequence[str] | None
) -> None:
    """The cited recommendations in order, and the themes the `theme` filter finds the need by."""
    if recommendation_ids is not None:
        session.exec(delete(NeedRecommendation).where(col(NeedRecommendation.need_id) == need_id))
        for position, rid in enumerate(recommendation_ids):
            session.add(NeedRecommendation(need_id=need_id, recommendation_id=rid, position=position))
    if themes is not None:
        session.exec(delete(NeedTheme).where(col(NeedTheme.need_id) == need_id))
        for theme in {t.casefold() for t in themes}:
            session.add(NeedTheme(need_id=need_id, theme=theme))


def write_theme_index(session: Session, need: Need) -> None:
    """The rows the `theme` filter finds a need by: its declared themes, or its predicted ones if none is declared."""
    _write_links(session, need.id, None, need.themes or need.themes_predicted)


def recommendation_ids_of(session: Session, need_ids: Sequence[str]) -> dict[str, list[str]]:
    """The cited recommendation ids of each need, in the order the need lists them."""
    links: dict[str, list[str]] = {nid: [] for nid in need_ids}
    if need_ids:
        rows = session.exec(
            select(NeedRecommendation)
            .where(col(NeedRecommendation.need_id).in_(need_ids))
            .order_by(col(NeedRecommendation.need_id), col(NeedRecommendation.position))
        ).all()
        for link in rows:
            links[link.need_id].append(link.recommendation_id)
    return links


def present_needs(session: Session, rows: Sequence[Need]) -> list[NeedPublic]:
    """Needs as the API shows them, with their cited recommendation ids."""
    links = recommendation_ids_of(session, [r.id for r in rows])
    return [NeedPublic.model_validate({**r.model_dump(), "recommendation_ids": links[r.id]}) for r in rows]


def get_need(session: Session, *, principal: Principal, need_id: str) -> Need:
    """Return a need the caller may see; 404 both when missing and when hidden from this caller."""
    row = session.get(Need, need_id)
    if row is None or not access.can_read_need(principal, row):
        raise NotFound(f"Need {need_id} does not exist.")
    return row


def list_needs(
    session: Session,
    *,
    principal: Principal,
    page: PageParams,
    state: str | None = None,
    status: str | None = None,
    theme: str | None = None,
    priority: str | None = None,
    recommendation_id: str | None = None,
) -> tuple[list[Need], int]:
    """List the needs this caller may see, matching every given filter, oldest first."""
    conditions: list[ColumnElement[bool]] = [access.need_read_clause(principal)]
    if state:
        conditions.append(col(Need.state) == state.strip().upper())
    if status:
        conditions.append(col(Need.status) == status)
    if priority:
        conditions.append(col(Need.priority) == priority)
    if theme:
        normalised = " ".join(theme.split()).casefold()
        # Every spelling of the controlled theme(s) it is (a code, a controlled label or a source's label).
        wanted = sorted(spellings_of(resolve_theme(theme)) | {normalised})
        conditions.append(col(Need.id).in_(select(NeedTheme.need_id).where(col(NeedTheme.theme).in_(wanted))))
    if recommendation_id:
        conditions.append(
            col(Need.id).in_(
                select(NeedRecommendation.need_id).where(NeedRecommendation.recommendation_id == recommendation_id)
            )
        )
    total = session.exec(select(func.count()).select_from(Need).where(*conditions)).one()
    rows = session.exec(
        select(Need)
        .where(*conditions)
        .order_by(col(Need.created_at), col(Need.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def filing_state(principal: Principal, state: str | None) -> str | None:
    """The State `principal` files a need for (`state`, else its own), or 403: State keys file for their own
    State, administrators for any (None until an administrator names one)."""
    if principal.role not in ("state", "admin"):
        raise Forbidden("Only State keys (for their own State) and administrators file needs.")
    chosen = state or principal.state
    if chosen is not None and not access.can_create_need(principal, chosen):
        raise Forbidden(f"This key acts for {principal.state}; it may not file needs for {chosen}.")
    return chosen


def check_cited(
    session: Session, ids: Sequence[str], *, state: str, already: Collection[str] = ()
) -> list[Recommendation]:
    """The recommendations a need of `state` cites, or a 422 naming every one it may not cite and why.

    `already`: what the need cited before (a recommendation withdrawn since may stay).
    """
    return check_recommendations(
        session,
        ids,
        state=state,
        supported_only=True,
        loc=["body", "recommendation_ids"],
        refuse_withdrawn=True,
        already=already,
    )


def create_need(
    session: Session,
    *,
    principal: Principal,
    data: NeedCreate,
    is_demo: bool = False,
    theme_space: ThemeSpace | None = None,
) -> Need:
    """File a need for a State (a State key: its own), citing supported recommendations.

    `is_demo` is server-owned: only the demo loader sets it, never a request body. With the
    service's `theme_space`, the themes read in the recommendations are stored as `themes_predicted`.
    """
    state = filing_state(principal, data.state)
    if state is None:
        raise UnprocessableEntity(
            "`state` is required.", errors=[field_error(["body", "state"], "required (ISO3 of the State in need)")]
        )
    recs = check_cited(session, data.recommendation_ids, state=state)
    themes = data.themes if data.themes is not None else default_themes(recs)
    predicted = predicted_themes(theme_space, recs, data.title)
    key = dedupe_key(state=state, recommendation_ids=data.recommendation_ids, title=data.title, status=data.status)
    _raise_if_duplicate(session, key)
    values = data.model_dump(exclude={"state", "recommendation_ids", "themes"})
    row = Need(**values, state=state, themes=themes, themes_predicted=predicted, dedupe_key=key, is_demo=is_demo)
    session.add(row)
    try:
        session.flush()
        _write_links(session, row.id, data.recommendation_ids, themes or predicted)
        audit.record(session, principal, resource="need", resource_id=row.id, action="create", version_after=1)
        _emit(session, principal, row, "need.filed")
        session.commit()
    except IntegrityError:
        # A concurrent request filed the same need first (unique dedupe_key): name it.
        session.rollback()
        _raise_if_duplicate(session, key)
        raise
    session.refresh(row)
    return row


def update_need(
    session: Session,
    *,
    principal: Principal,
    need_id: str,
    data: NeedUpdate,
    expected: frozenset[int],
    theme_space: ThemeSpace | None = None,
) -> Need:
    """Apply the fields sent to a need of the caller's State, if its ETag is still current.

    New recommendations are read again for `themes_predicted` (with `theme_space`).
    """
    row = get_need(session, principal=principal, need_id=need_id)
    if not access.can_write_need(principal, row):
        raise Forbidden(f"Need {need_id} belongs to {row.state}; this key may not change it.")
    check_version(row.version, expected, f"Need {need_id}")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, _REQUIRED)
    sent = audit.changed_fields(changes)
    current_ids = recommendation_ids_of(session, [row.id])[row.id]
    new_ids = changes.pop("recommendation_ids", None)
    if new_ids is not None:
        recs = check_cited(session, new_ids, state=row.state, already=set(current_ids))
        if "themes" not in changes:
            # Themes follow the recommendations unless the State chose its own.
            old_recs = session.exec(select(Recommendation).where(col(Recommendation.id).in_(current_ids))).all()
            by_id = {r.id: r for r in old_recs}
            if row.themes == default_themes([by_id[i] for i in current_ids if i in by_id]):
                changes["themes"] = default_themes(recs)
        if theme_space is not None:
            changes["themes_predicted"] = predicted_themes(theme_space, recs, changes.get("title", row.title))
    key = dedupe_key(
        state=row.state,
        recommendation_ids=new_ids if new_ids is not None else current_ids,
        title=changes.get("title", row.title),
        status=changes.get("status", row.status),
    )
    _raise_if_duplicate(session, key, exclude_id=row.id)
    changes["dedupe_key"] = key
    try:
        version = versioned_update(
            session, Need, row_id=row.id, read_version=row.version, values=changes, what=f"Need {need_id}"
        )
        if "themes" in changes or "themes_predicted" in changes:
            declared = changes.get("themes", row.themes)
            filed_by = declared or changes.get("themes_predicted", row.themes_predicted)
            _write_links(session, row.id, new_ids, filed_by)
        else:
            _write_links(session, row.id, new_ids, None)
        audit.record(
            session,
            principal,
            resource="need",
            resource_id=row.id,
            action="update",
            version_before=row.version,
            version_after=version,
            detail=sent,
        )
        _emit(session, principal, row, "need.changed")
        session.commit()
    except IntegrityError:
        session.rollback()
        _raise_if_duplicate(session, key, exclude_id=need_id)
        raise
    session.refresh(row)
    return row


def _emit(session: Session, principal: Principal, row: Need, kind: str) -> None:
    """Wake the providers' alerts (the worker ranks the need and tells the subscriptions it fits)."""
    events.emit(
        session,
        principal,
        type=kind,
        resource="need",
        resource_id=row.id,
        parties=[events.state_party(row.state)],
        data={"need_id": row.id},
        actor_party=events.party_of(principal, state=row.state),
    )


def delete_need(session: Session, *, principal: Principal, need_id: str, expected: frozenset[int]) -> None:
    """Delete a need without activities; its recommendation links go with it."""
    row = get_need(session, principal=principal, need_id=need_id)
    if not access.can_write_need(principal, row):
        raise Forbidden(f"Need {need_id} belongs to {row.state}; this key may not delete it.")
    check_version(row.version, expected, f"Need {need_id}")
    dependants = session.exec(select(func.count()).select_from(Activity).where(Activity.need_id == need_id)).one()
    if dependants:
        raise Conflict(
            f"Need {need_id} has {dependants} cooperation activit{'y' if dependants == 1 else 'ies'} "
            "depending on it; close the need (status closed) or detach those first.",
            dependent_activities=dependants,
        )
    try:
        versioned_delete(session, Need, row_id=need_id, read_version=row.version, what=f"Need {need_id}")
        audit.record(
            session, principal, resource="need", resource_id=need_id, action="delete", version_before=row.version
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"Need {need_id} gained a dependent activity meanwhile; nothing was deleted.") from None
