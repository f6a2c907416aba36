"""Share what worked: good practices, their feeds, and the public bulk download.

- `/practices`: completed, confirmed activities that say what was achieved (`app.services.practices`),
  filtered by theme, State, UN regional group, provider kind, SDG and words; `/practices/{id}` is the
  permanent page a delegate cites.
- `/feeds/practices.atom` (newly confirmed public activities, good practices marked) and
  `/feeds/needs.atom` (new public needs open to providers): Atom 1.0, no sign-in.
- `/data`: the bulk download (`app.services.bulk`), streamed, with its licence and date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.core.config import get_settings
from app.core.errors import NotFound
from app.http.deps import PageParamsDep, SessionDep, SettingsDep
from app.http.streaming import BoundedStreamingResponse
from app.reference.regions import regional_groups
from app.reference.vocab import PROVIDER_KINDS, SDG_NAMES, sdg_names
from app.services import overview as overview_service
from app.services import practices as practice_service
from app.services.bulk import DATASETS, FORMATS, LICENCE, LICENCE_NOTE, LICENCE_URL, filename, stream
from app.web.i18n import current_language
from app.web.labels import state_name
from app.web.templating import Pager, render

router = APIRouter(include_in_schema=False)

Values = Annotated[list[str], Query(max_length=20)]
Text = Annotated[str | None, Query(max_length=200)]
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50


@router.get("/practices", response_class=HTMLResponse)
def list_practices(
    request: Request,
    session: SessionDep,
    page: PageParamsDep,
    theme: Values = [],  # noqa: B006  (FastAPI copies query defaults)
    state: Values = [],  # noqa: B006
    region: Values = [],  # noqa: B006
    kind: Values = [],  # noqa: B006
    sdg: Values = [],  # noqa: B006
    q: Text = None,
) -> HTMLResponse:
    """Good practices, newest first, with their filters."""
    groups = sorted(set(regional_groups().values()))
    filters = practice_service.PracticeFilters(
        themes=[t for t in theme if t.strip()][:20],
        states=[s.strip().upper() for s in state if s.strip()][:20],
        regions=[r for r in region if r in groups],
        kinds=[k for k in kind if k in PROVIDER_KINDS],
        sdgs=[int(s) for s in sdg if s.isdigit() and int(s) in SDG_NAMES],
        q=(q or "").strip() or None,
    )
    rows, total = practice_service.list_practices(session, filters=filters, page=page)
    return render(
        request,
        "practices/list.html",
        {
            "practices": rows,
            "filters": filters,
            "providers": overview_service.get_providers_by_ids(session, ids=[a.provider_id for a in rows]),
            "state_choices": sorted(practice_service.practice_states(session), key=state_name),
            "regions": groups,
            "kinds": PROVIDER_KINDS,
            "sdg_names": sdg_names(current_language()),
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
        },
    )


@router.get("/practices/{activity_id}", response_class=HTMLResponse)
def read_practice(request: Request, activity_id: str, session: SessionDep) -> HTMLResponse:
    """One good practice: what was done, achieved and hard, the lessons, documents and recommendations."""
    practice = practice_service.get_practice(session, activity_id=activity_id)
    return render(
        request,
        "practices/detail.html",
        {
            "a": practice,
            "provider": overview_service.get_providers_by_ids(session, ids=[practice.provider_id]).get(
                practice.provider_id
            ),
            "recommendations": overview_service.get_recommendations_by_ids(session, ids=practice.recommendation_ids),
            "cite_url": f"{get_settings().PUBLIC_URL.rstrip('/')}/practices/{practice.id}",
        },
    )


# --- feeds ------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _feed(path: str, title: str, entries: list[dict[str, str | datetime]]) -> Response:
    """An Atom 1.0 document (RFC 4287): feed id, title, updated, self link, author; entries likewise."""
    base = get_settings().PUBLIC_URL.rstrip("/")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base + path
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    newest = max((e["updated"] for e in entries if isinstance(e["updated"], datetime)), default=datetime.now(UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(newest)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=base + path, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=base + "/", type="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "UPR cooperation repository"
    for entry in entries:
        item = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(item, f"{{{ATOM}}}id").text = f"urn:uuid:{entry['id']}"
        ET.SubElement(item, f"{{{ATOM}}}title").text = str(entry["title"])
        ET.SubElement(item, f"{{{ATOM}}}updated").text = _stamp(entry["updated"])  # type: ignore[arg-type]
        ET.SubElement(item, f"{{{ATOM}}}link", rel="alternate", href=base + str(entry["path"]), type="text/html")
        if entry.get("category"):
            ET.SubElement(item, f"{{{ATOM}}}category", term=str(entry["category"]))
        ET.SubElement(item, f"{{{ATOM}}}summary", type="text").text = str(entry["summary"])[:1000]
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/feeds/practices.atom", response_class=Response)
def practices_feed(session: SessionDep) -> Response:
    """Newly confirmed public activities, good practices marked by their category."""
    entries: list[dict[str, str | datetime]] = []
    for activity, is_practice in practice_service.newest_public_activities(session, limit=FEED_SIZE):
        entries.append(
            {
                "id": activity.id,
                "title": f"{activity.title} ({state_name(activity.state)})",
                "updated": activity.confirmed_at or activity.updated_at,
                "path": f"/practices/{activity.id}" if is_practice else f"/activities/{activity.id}",
                "category": "good-practice" if is_practice else f"activity-{activity.status}",
                "summary": activity.outcomes or activity.description or activity.title,
            }
        )
    return _feed("/feeds/practices.atom", "Cooperation activities and good practices", entries)


@router.get("/feeds/needs.atom", response_class=Response)
def needs_feed(session: SessionDep) -> Response:
    """New public needs open to providers."""
    entries: list[dict[str, str | datetime]] = [
        {
            "id": need.id,
            "title": f"{need.title} ({state_name(need.state)})",
            "updated": need.created_at,
            "path": f"/needs/{need.id}",
            "category": "need",
            "summary": need.description or need.title,
        }
        for need in practice_service.newest_open_needs(session, limit=FEED_SIZE)
    ]
    return _feed("/feeds/needs.atom", "Needs open to providers", entries)


# --- bulk download ------------------------------------------------------------------------


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request) -> HTMLResponse:
    """What can be downloaded, under which licence."""
    return render(
        request,
        "data.html",
        {
            "datasets": DATASETS,
            "formats": FORMATS,
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "licence_note": LICENCE_NOTE,
            "today": datetime.now(UTC).date(),
        },
    )


@router.get("/data/{name}", response_class=BoundedStreamingResponse)
def download(request: Request, name: str, settings: SettingsDep) -> BoundedStreamingResponse:
    """One dataset as CSV or JSON, streamed (`/data/needs.csv`)."""
    dataset, _, fmt = name.partition(".")
    if dataset not in DATASETS or fmt not in FORMATS:
        raise NotFound(f"No download {name}: see /data for what can be downloaded.")
    media = {"csv": "text/csv; charset=utf-8", "json": "application/json"}[fmt]
    return BoundedStreamingResponse(
        stream(request.app.state.engine, dataset=dataset, fmt=fmt),
        slots=request.app.state.export_slots,
        send_timeout=settings.EXPORT_SEND_TIMEOUT_S,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename(dataset, fmt)}"',
            "Link": f'<{LICENCE_URL}>; rel="license"',
        },
    )
