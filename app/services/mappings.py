"""Document mappings: a document's paragraphs linked to the recommendations each speaks to, reviewed and kept.

A mapping is read from an uploaded .docx, .pdf or .txt (`app.importing.document`), each paragraph ranked as
`POST /v1/recommendations/related` ranks a text (`app.services.related`, same filters), its best links stored
with their scores and reasons, all in one transaction (nothing half-written). It belongs to the key that
made it: only its author (or an admin) sees a private one, reviews its links (accept, reject) and changes or
deletes it; a public one anyone may read and export.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

from sqlalchemy import ColumnElement, delete, func
from sqlmodel import Session, col, select

from app.core.errors import NotFound, Unauthorized, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.importing.document import DocumentError, read_document
from app.match_index.index import MatchIndex
from app.models.mapping import (
    DECISIONS,
    LINKS_PER_ITEM,
    DocumentItem,
    DocumentLink,
    DocumentMapping,
    ItemOut,
    LinkOut,
    MappingFilters,
    MappingOut,
    MappingSummary,
    MappingUpdate,
)
from app.models.recommendation import Recommendation
from app.models.related import RelatedQuery
from app.services import audit
from app.services import related as related_service
from app.services.recommendations import csv_table, xlsx_table
from app.services.versioning import check_version, versioned_delete, versioned_update

__all__ = [
    "EXPORT_HEADER",
    "MIN_LINK_SCORE",
    "create_mapping",
    "decide_link",
    "delete_mapping",
    "export_csv",
    "export_xlsx",
    "get_mapping",
    "list_mappings",
    "update_mapping",
]

#: Links under this score are not kept (the text hardly speaks to the recommendation).
MIN_LINK_SCORE = 0.2
EXPORT_HEADER = (
    "paragraph",
    "number as written",
    "paragraph text",
    "rank",
    "recommendation id",
    "State under review",
    "recommendation",
    "response",
    "score",
    "reasons",
    "decision",
)


def _what(mapping_id: str) -> str:
    return f"Mapping {mapping_id}"


def _visible(principal: Principal, row: DocumentMapping) -> bool:
    return row.public or principal.is_admin or (row.owner_key_id == principal.key_id and principal.key_id is not None)


def _mine(principal: Principal, row: DocumentMapping) -> bool:
    return principal.key_id is not None and row.owner_key_id == principal.key_id


def _load(session: Session, principal: Principal, mapping_id: str, *, write: bool = False) -> DocumentMapping:
    """The mapping if the caller may see it (may change it, with `write`); 404 otherwise (existence not leaked)."""
    row = session.get(DocumentMapping, mapping_id)
    if row is None or not _visible(principal, row) or (write and not (_mine(principal, row) or principal.is_admin)):
        raise NotFound(f"{_what(mapping_id)} does not exist.")
    return row


def create_mapping(
    session: Session,
    index: MatchIndex,
    *,
    principal: Principal,
    data: bytes,
    filename: str,
    title: str | None,
    filters: MappingFilters,
    public: bool,
) -> MappingOut:
    """Read the document, link each paragraph to its best recommendations, keep it all; 422 names the file's fault."""
    if principal.is_anonymous or principal.key_id is None:
        raise Unauthorized("Sign in (an API key) to keep a mapping.")
    try:
        items = read_document(data, filename)
    except DocumentError as exc:
        raise UnprocessableEntity(str(exc), errors=[field_error(["body", "file"], str(exc))]) from None
    mapping = DocumentMapping(
        id=str(uuid.uuid4()),
        owner_key_id=principal.key_id,
        title=(title or filename)[:200],
        filename=filename[:255],
        kind=filename.rsplit(".", 1)[-1].casefold(),
        public=public,
        filters=filters.model_dump(exclude_defaults=True),
        item_count=len(items),
    )
    session.add(mapping)
    session.flush()
    for item in items:
        session.add(DocumentItem(mapping_id=mapping.id, number=item.number, label=item.label, text=item.text))
        query = RelatedQuery(text=item.text, **filters.model_dump(), limit=LINKS_PER_ITEM, min_score=MIN_LINK_SCORE)
        ranked, _, _, _ = related_service.rank_related(session, index, query)
        for rank, found in enumerate(ranked, start=1):
            reasons = related_service.reasons_of(index, item.text, found)
            session.add(
                DocumentLink(
                    mapping_id=mapping.id,
                    item_number=item.number,
                    recommendation_id=found.id,
                    rank=rank,
                    score=round(found.score, 6),
                    reasons=reasons,
                )
            )
    audit.record(
        session,
        principal,
        resource="mapping",
        resource_id=mapping.id,
        action="create",
        version_after=1,
        detail={"file": mapping.filename, "paragraphs": len(items)},
    )
    session.commit()
    return get_mapping(session, principal=principal, mapping_id=mapping.id)


def summary_of(principal: Principal, row: DocumentMapping) -> MappingSummary:
    return MappingSummary(
        id=row.id,
        title=row.title,
        filename=row.filename,
        kind=row.kind,
        public=row.public,
        filters=MappingFilters.model_validate(row.filters),
        item_count=row.item_count,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        mine=_mine(principal, row),
    )


def list_mappings(
    session: Session, *, principal: Principal, page: PageParams, public: bool = False
) -> tuple[list[MappingSummary], int]:
    """The caller's mappings (with `public`: everyone's public ones), newest first."""
    where: ColumnElement[bool]
    if public:
        where = col(DocumentMapping.public).is_(True)
    elif principal.key_id is None:
        raise Unauthorized("Sign in (an API key) to list your mappings; `public=true` lists the public ones.")
    else:
        where = col(DocumentMapping.owner_key_id) == principal.key_id
    total = session.exec(select(func.count()).select_from(DocumentMapping).where(where)).one()
    rows = session.exec(
        select(DocumentMapping)
        .where(where)
        .order_by(col(DocumentMapping.created_at).desc(), col(DocumentMapping.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return [summary_of(principal, r) for r in rows], int(total)


def get_mapping(session: Session, *, principal: Principal, mapping_id: str) -> MappingOut:
    """The mapping with its paragraphs and their links, best first."""
    row = _load(session, principal, mapping_id)
    items = session.exec(
        select(DocumentItem).where(col(DocumentItem.mapping_id) == row.id).order_by(col(DocumentItem.number))
    ).all()
    links = session.exec(
        select(DocumentLink, Recommendation)
        .join(Recommendation, col(Recommendation.id) == col(DocumentLink.recommendation_id), isouter=True)
        .where(col(DocumentLink.mapping_id) == row.id)
        .order_by(col(DocumentLink.item_number), col(DocumentLink.rank))
    ).all()
    by_item: dict[int, list[LinkOut]] = {}
    for link, rec in links:
        by_item.setdefault(link.item_number, []).append(
            LinkOut(
                recommendation_id=link.recommendation_id,
                state_under_review=rec.state_under_review if rec is not None else "",
                text=rec.text if rec is not None else "(no longer in the repository)",
                response=rec.response if rec is not None else "",
                rank=link.rank,
                score=link.score,
                reasons=list(link.reasons),
                decision=link.decision,
            )
        )
    summary = summary_of(principal, row)
    return MappingOut(
        **summary.model_dump(),
        items=[ItemOut(number=i.number, label=i.label, text=i.text, links=by_item.get(i.number, [])) for i in items],
    )


def update_mapping(
    session: Session, *, principal: Principal, mapping_id: str, data: MappingUpdate, expected: frozenset[int]
) -> MappingOut:
    """Rename it or make it public (or private again). Its author or an admin; `If-Match`."""
    row = _load(session, principal, mapping_id, write=True)
    check_version(row.version, expected, _what(mapping_id))
    values = data.model_dump(exclude_none=True)
    _changed(session, principal, row, values, detail=audit.changed_fields(values))
    session.commit()
    session.refresh(row)
    return get_mapping(session, principal=principal, mapping_id=mapping_id)


def _changed(
    session: Session, principal: Principal, row: DocumentMapping, values: dict[str, object], *, detail: object
) -> None:
    """Write `values` at the version read (412 if someone wrote first) and its audit row."""
    version = versioned_update(
        session, DocumentMapping, row_id=row.id, read_version=row.version, values=values, what=_what(row.id)
    )
    audit.record(
        session,
        principal,
        resource="mapping",
        resource_id=row.id,
        action="update",
        version_before=version - 1,
        version_after=version,
        detail=detail if isinstance(detail, dict) else {},
    )


def decide_link(
    session: Session,
    *,
    principal: Principal,
    mapping_id: str,
    item_number: int,
    recommendation_id: str,
    decision: str | None,
    expected: frozenset[int],
) -> MappingOut:
    """Accept or reject one link (None: undecided again). Its author or an admin; `If-Match` on the mapping."""
    row = _load(session, principal, mapping_id, write=True)
    check_version(row.version, expected, _what(mapping_id))
    if decision is not None and decision not in DECISIONS:
        raise UnprocessableEntity(
            f"Unknown decision {decision!r}.",
            errors=[field_error(["body", "decision"], "must be accepted, rejected or null")],
        )
    link = session.get(DocumentLink, (row.id, item_number, recommendation_id))
    if link is None:
        raise NotFound(f"Paragraph {item_number} of {_what(mapping_id)} has no link to {recommendation_id}.")
    detail = {"paragraph": item_number, "recommendation_id": recommendation_id, "decision": decision}
    _changed(session, principal, row, {}, detail=detail)
    link.decision = decision
    session.add(link)
    session.commit()
    return get_mapping(session, principal=principal, mapping_id=mapping_id)


def delete_mapping(session: Session, *, principal: Principal, mapping_id: str, expected: frozenset[int]) -> None:
    row = _load(session, principal, mapping_id, write=True)
    check_version(row.version, expected, _what(mapping_id))
    session.exec(delete(DocumentLink).where(col(DocumentLink.mapping_id) == row.id))
    session.exec(delete(DocumentItem).where(col(DocumentItem.mapping_id) == row.id))
    versioned_delete(session, DocumentMapping, row_id=row.id, read_version=row.version, what=_what(row.id))
    audit.record(
        session, principal, resource="mapping", resource_id=row.id, action="delete", version_before=row.version
    )
    session.commit()


def _export_rows(mapping: MappingOut) -> Iterator[Sequence[object]]:
    for item in mapping.items:
        if not item.links:
            yield (item.number, item.label or "", item.text, "", "", "", "", "", "", "", "")
        for link in item.links:
            yield (
                item.number,
                item.label or "",
                item.text,
                link.rank,
                link.recommendation_id,
                link.state_under_review,
                link.text,
                link.response,
                link.score,
                " ".join(link.reasons),
                link.decision or "",
            )


def export_csv(session: Session, *, principal: Principal, mapping_id: str) -> tuple[str, bytes]:
    """(file name, CSV with a byte-order mark, so spreadsheet programs read it as UTF-8)."""
    mapping = get_mapping(session, principal=principal, mapping_id=mapping_id)
    return f"mapping-{mapping.id}.csv", b"\xef\xbb\xbf" + csv_table(EXPORT_HEADER, _export_rows(mapping))


def export_xlsx(session: Session, *, principal: Principal, mapping_id: str) -> tuple[str, bytes]:
    mapping = get_mapping(session, principal=principal, mapping_id=mapping_id)
    body = b"".join(xlsx_table("Mapping", EXPORT_HEADER, _export_rows(mapping)))
    return f"mapping-{mapping.id}.xlsx", body
