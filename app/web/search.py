"""The search page's filters: read from the query string, shown as choices, links that add or remove one.

Every filter takes several values, as on the API (`state=MEX&state=GTM`). The
form sends a State by its name (a list of the States in the data), cycles,
responses, SDGs, action categories and regions as checkboxes. Facet counts link
to the same search with one more value; each active value has a link that
removes just it; every link keeps the order chosen (`sort`). The export links
carry the same filters to `GET /v1/recommendations/export`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import Request

from app.core.jsontypes import JsonObject
from app.models.recommendation import RecommendationFacets
from app.models.translation import TRANSLATION_LANGUAGES
from app.reference.regions import REGIONAL_GROUPS
from app.reference.themes import affected_group_labels, resolve_theme, theme_name
from app.reference.vocab import SDG_NAMES
from app.services.coverage import source_label
from app.services.recommendation_filters import MAX_QUERY_LENGTH, MAX_VALUES, FilterValue, RecommendationFilters
from app.services.recommendations import SORTS, RecommendationSort
from app.web.i18n import N_, page_language

MAX_VALUE_LENGTH = 255
# (query name, kind) of the page's filters, in the order the active list shows them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("state", "text"),
    ("cycle", "int"),
    ("session", "int"),
    ("response", "text"),
    ("theme", "text"),
    ("sdg", "int"),
    ("sdg_target", "text"),
    ("action_category", "int"),
    ("affected_group", "text"),
    ("recommending_state", "text"),
    ("recommending_region", "text"),
    ("source", "text"),
    ("source_document", "text"),
)
TITLES = {
    "state": "State under review",
    "cycle": "Cycle",
    "session": "Session",
    "response": "Response",
    "theme": "Theme",
    "sdg": "SDG",
    "sdg_target": "SDG target",
    "action_category": "Action asked",
    "affected_group": "Affected persons",
    "recommending_state": "Recommending State",
    "recommending_region": "Recommending region",
    "source": "Source",
    "source_document": "Document",
    "published_from": "Published from",
    "published_to": "Published until",
    "q": "Words",
}
# UPR Info's categories of the action a recommendation asks for, from the least to the most specific.
ACTION_CATEGORIES = {
    1: "Asks for help or to share information",
    2: "Continue what is being done",
    3: "Consider a change",
    4: "A general action",
    5: "A specific action",
}
SORT_LABELS: dict[RecommendationSort, str] = {"relevance": N_("Best match first"), "newest": N_("Newest review first")}


@dataclass(frozen=True, slots=True)
class Active:
    """One value of one filter in force, with the link that removes it."""

    title: str
    shown: str
    remove_url: str


def _values(request: Request, name: str, kind: str) -> tuple[FilterValue, ...]:
    found: list[FilterValue] = []
    for raw in request.query_params.getlist(name)[:MAX_VALUES]:
        value = " ".join(raw.split())[:MAX_VALUE_LENGTH]
        if not value:
            continue  # an empty form field means "no filter"
        if kind == "int":
            if not value.isdigit() or len(value) > 4:
                continue
            found.append(int(value))
        else:
            found.append(value.upper() if name in ("state", "recommending_state") else value)
    return tuple(dict.fromkeys(found))


def _date(request: Request, name: str) -> date | None:
    raw = (request.query_params.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def read_filters(request: Request) -> RecommendationFilters:
    """The page's filters from its query string; blanks and values of the wrong kind are dropped."""
    values: JsonObject = {name: _values(request, name, kind) for name, kind in FIELDS}
    q = " ".join((request.query_params.get("q") or "").split())[:MAX_QUERY_LENGTH] or None
    return RecommendationFilters(
        **values,
        q=q,
        published_from=_date(request, "published_from"),
        published_to=_date(request, "published_to"),
    )


def read_lang(request: Request) -> str | None:
    """The language the texts are shown in: the page's (`?lang=`, the switch's cookie, `Accept-Language`)
    when the data has texts in it (`fr`, `es`); otherwise the originals."""
    if request.query_params.get("text") == "original":
        return None  # "the original" links: the page stays in its language, the text is the source's
    value = page_language(request)
    return value if value in TRANSLATION_LANGUAGES else None


def read_sort(request: Request) -> RecommendationSort:
    """The order asked for; anything else is the default."""
    value = request.query_params.get("sort") or ""
    return next((s for s in SORTS if s == value), "relevance")


def query_pairs(filters: RecommendationFilters, sort: RecommendationSort = "relevance") -> list[tuple[str, str]]:
    """The search as (name, value) pairs: the hidden fields of the page's other forms."""
    return _query(filters) + ([("sort", sort)] if sort != "relevance" else [])


def _query(filters: RecommendationFilters) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if filters.q:
        params.append(("q", filters.q))
    for name, _ in FIELDS:
        params += [(name, str(v)) for v in getattr(filters, name)]
    for name in ("published_from", "published_to"):
        value = getattr(filters, name)
        if value is not None:
            params.append((name, value.isoformat()))
    return params


def url(
    filters: RecommendationFilters,
    path: str = "/recommendations",
    sort: RecommendationSort = "relevance",
    **extra: str,
) -> str:
    params = query_pairs(filters, sort) + list(extra.items())
    return path + ("?" + urlencode(params) if params else "")


def with_value(
    filters: RecommendationFilters, name: str, value: FilterValue, sort: RecommendationSort = "relevance"
) -> str:
    """The search with one more value of a filter (the page link of a facet count)."""
    current = getattr(filters, name)
    if value in current:
        return url(filters, sort=sort)
    return url(_changed(filters, name, (*current, value)), sort=sort)


def without(filters: RecommendationFilters, name: str) -> RecommendationFilters:
    """The search without one filter: where that filter's choices come from, so several can be chosen."""
    return _changed(filters, name, ())


def _changed(filters: RecommendationFilters, name: str, value: object) -> RecommendationFilters:
    fields: JsonObject = {n: getattr(filters, n) for n in RecommendationFilters.__dataclass_fields__}
    fields[name] = value
    return RecommendationFilters(**fields)


def active(
    filters: RecommendationFilters, names: dict[str, str], sort: RecommendationSort = "relevance"
) -> list[Active]:
    """Every value in force, in words, with a link that removes only it."""
    found: list[Active] = []
    if filters.q:
        found.append(Active(TITLES["q"], filters.q, url(_changed(filters, "q", None), sort=sort)))
    for name, _ in FIELDS:
        values = getattr(filters, name)
        for value in values:
            shown = _shown(name, value, names)
            rest = tuple(v for v in values if v != value)
            found.append(Active(TITLES[name], shown, url(_changed(filters, name, rest), sort=sort)))
    for name in ("published_from", "published_to"):
        value = getattr(filters, name)
        if value is not None:
            found.append(Active(TITLES[name], value.isoformat(), url(_changed(filters, name, None), sort=sort)))
    return found


def _shown(name: str, value: FilterValue, names: dict[str, str], *, facet: bool = False) -> str:
    """A filter's value in words: in the list of filters in force ("Cycle: 2"), or alone in a facet ("Cycle 2")."""
    if name in ("state", "recommending_state"):
        return names.get(str(value), str(value))
    if name == "recommending_region":
        return REGIONAL_GROUPS.get(str(value), str(value))
    if name == "cycle":
        return f"Cycle {value}" if facet else str(value)
    if name == "sdg":
        return f"SDG {value}: {SDG_NAMES[value]}" if value in SDG_NAMES else f"SDG {value}"
    if name == "action_category":
        return ACTION_CATEGORIES.get(value, str(value)) if isinstance(value, int) else str(value)
    if name == "source":
        return source_label(str(value))
    if name == "theme":
        return "; ".join(theme_name(v) for v in resolve_theme(str(value)))
    if name == "affected_group":
        return "; ".join(affected_group_labels(str(value)))
    return str(value).capitalize() if name == "response" else str(value)


def export_url(filters: RecommendationFilters, fmt: str) -> str:
    """The API export of the same search (the API takes exactly these filter names)."""
    return url(filters, "/v1/recommendations/export", format=fmt)


def facet_links(
    filters: RecommendationFilters,
    facets: RecommendationFacets | None,
    names: dict[str, str],
    sort: RecommendationSort = "relevance",
) -> list[tuple[str, list[tuple[str, int, str]]]]:
    """(title, [(value in words, count, link adding it)]) for the sidebar's facet lists."""
    if facets is None:
        return []
    groups = (
        ("response", facets.responses, 5),
        ("cycle", facets.cycles, 10),
        ("theme", facets.themes, 12),
        ("state", facets.states, 12),
        ("sdg", facets.sdgs, 17),
        ("affected_group", facets.affected_groups, 12),
        ("source", facets.sources, 8),
    )
    out = []
    for name, items, limit in groups:
        links = [
            (_shown(name, f.value, names, facet=True), f.count, with_value(filters, name, f.value, sort))
            for f in items[:limit]
        ]
        if links:
            out.append((TITLES[name], links))
    return out


__all__ = [
    "ACTION_CATEGORIES",
    "SDG_NAMES",
    "SORT_LABELS",
    "Active",
    "active",
    "export_url",
    "facet_links",
    "query_pairs",
    "read_filters",
    "read_sort",
    "url",
    "with_value",
    "without",
]
