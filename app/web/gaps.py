"""The gaps dashboard's content, shared by `/gaps`, the State page and `upr-match report --format html`.

`dashboard` calls the analytics services once per measure (with the visitor's principal, so
the counts are those the API gives the same caller) and draws each chart twice, for wide screens
and for phones; every chart has its text alternative and the page shows the table behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup
from sqlmodel import Session

from app.core.identity import Principal
from app.core.pagination import PageParams
from app.match_index.index import MatchIndex
from app.models.analytics import FundingPage, PipelinePage, SupplyDemandPage, UnservedPage
from app.reference.regions import REGIONAL_GROUPS
from app.reference.themes import translated_label
from app.reference.vocab import sdg_names
from app.services.analytics import needs, pipeline
from app.services.analytics.pipeline import PipelineBy, sdg_label
from app.services.analytics.reference import theme_sdg_source
from app.services.analytics.slices import Slice
from app.web.charts import StackRow, stacked_bars, usd_text
from app.web.i18n import DEFAULT_LANGUAGE, N_, country_name, current_language, gettext

STAGE_NAMES = (N_("not started"), N_("requested"), N_("under way"), N_("done"))
# What the pipeline is grouped by, in the charts' titles.
BY_WORDS = {"theme": N_("theme"), "state": N_("State"), "region": N_("region"), "sdg": N_("SDG")}
CHART_ROWS = 12
TABLE = PageParams(limit=250, offset=0)  # every State (and so every theme, region and SDG) in one table


@dataclass(frozen=True, slots=True)
class Chart:
    wide: Markup
    narrow: Markup
    shown: int
    total: int
    listed: int  # rows of the table under the chart


def _chart(
    rows: list[StackRow],
    total: int,
    *,
    parts: Sequence[str],
    title: str,
    chart_id: str,
    unit: str,
    listed: int,
    grouped: bool = False,
) -> Chart:
    # The chart's words in the request's language: the parts' names, and the controlled labels of the rows.
    language = current_language()
    shown = [StackRow(translated_label(r.label, language), r.parts, r.shown) for r in rows[:CHART_ROWS]]
    parts = [gettext(p) for p in parts]
    return Chart(
        wide=stacked_bars(shown, chart_id=chart_id, parts=parts, title=title, unit=unit, grouped=grouped),
        narrow=stacked_bars(
            shown, narrow=True, chart_id=chart_id + "-narrow", parts=parts, title=title, unit=unit, grouped=grouped
        ),
        shown=len(shown),
        total=total,
        listed=listed,
    )


def sdg_title(sdg: int) -> str:
    """ "SDG 3: Good health and well-being", in the page language (the UN's own titles)."""
    name = sdg_names(current_language()).get(sdg)
    return gettext("SDG %(number)s: %(name)s") % {"number": sdg, "name": name} if name else sdg_label(sdg)


def _row_name(by: str, key: str, label: str) -> str:
    """A pipeline row's group in the page language: a State's name from CLDR, a UN regional group's or an
    SDG's from the catalogue; themes are put in the page language where they are shown."""
    if by == "state":
        return country_name(key, label)
    if by == "region" and key in REGIONAL_GROUPS:
        return gettext(REGIONAL_GROUPS[key])
    if by == "sdg" and key.isdigit():
        return sdg_title(int(key))
    return label


def in_page_language(page: PipelinePage, by: str) -> PipelinePage:
    """The pipeline with its rows named in the page language (the cached page is left as the API gives it)."""
    if current_language() == DEFAULT_LANGUAGE or by == "theme":
        return page
    items = [r.model_copy(update={"label": _row_name(by, r.key, r.label)}) for r in page.items]
    return page.model_copy(update={"items": items})


def pipeline_chart(page: PipelinePage, *, title: str, chart_id: str) -> Chart:
    rows = [StackRow(r.label, (r.not_started, r.requested, r.under_way, r.done)) for r in page.items]
    return _chart(
        rows,
        page.total,
        parts=STAGE_NAMES,
        title=title,
        chart_id=chart_id,
        unit=N_("recommendations"),
        listed=len(page.items),
    )


def funding_chart(page: FundingPage, *, title: str, chart_id: str) -> Chart:
    """Per SDG one bar as long as the money required: the part available, then the gap; the words say "required"."""
    rows = [
        StackRow(
            sdg_title(r.sdg),
            (min(r.available or 0.0, r.required), max(r.required - (r.available or 0.0), 0.0)),
            shown=gettext("required %(amount)s") % {"amount": usd_text(r.required)},
        )
        for r in page.items
        if r.required is not None
    ]
    parts = (N_("available"), N_("gap"))
    return _chart(rows, len(rows), parts=parts, title=title, chart_id=chart_id, unit="USD", listed=len(rows))


def unserved_chart(page: UnservedPage, *, title: str, chart_id: str) -> Chart:
    rows = [StackRow(r.label, (r.needs - r.all_declined, r.all_declined)) for r in page.items]
    parts = (N_("weak match only"), N_("all requests declined"))
    return _chart(
        rows, page.total, parts=parts, title=title, chart_id=chart_id, unit=N_("needs"), listed=len(page.items)
    )


def supply_chart(page: SupplyDemandPage, *, title: str, chart_id: str) -> Chart:
    rows = [StackRow(r.label or r.theme, (r.open_needs, r.providers)) for r in page.items]
    return _chart(
        rows,
        page.total,
        parts=(N_("open needs"), N_("providers")),
        title=title,
        chart_id=chart_id,
        unit="",
        listed=len(page.items),
        grouped=True,
    )


@dataclass(frozen=True, slots=True)
class Dashboard:
    piece: Slice
    by: str
    pipeline: PipelinePage
    pipeline_chart: Chart
    regions: PipelinePage
    unserved: UnservedPage
    unserved_chart: Chart
    supply: SupplyDemandPage
    supply_chart: Chart
    funding: FundingPage
    funding_chart: Chart
    sdg_source: str


def dashboard(
    session: Session, *, principal: Principal, piece: Slice, by: PipelineBy = "theme", index: MatchIndex | None = None
) -> Dashboard:
    """Every measure of the slice, with its charts."""
    where = piece.describe()
    flow = in_page_language(pipeline.get_pipeline(session, principal=principal, piece=piece, by=by, page=TABLE), by)
    regions = in_page_language(
        pipeline.get_pipeline(session, principal=principal, piece=piece, by="region", page=TABLE), "region"
    )
    unserved = needs.get_unserved(session, principal=principal, piece=piece, by="theme", page=TABLE)
    supply = needs.get_supply_demand(session, principal=principal, piece=piece, index=index, page=TABLE)
    funding = pipeline.get_funding(session, principal=principal, piece=piece, page=TABLE)
    return Dashboard(
        piece=piece,
        by=by,
        pipeline=flow,
        pipeline_chart=pipeline_chart(
            flow,
            title=gettext("Implementation pipeline of supported recommendations by %(by)s (%(where)s)")
            % {"by": gettext(BY_WORDS.get(by, by)), "where": where},
            chart_id="pipeline",
        ),
        regions=regions,
        unserved=unserved,
        unserved_chart=unserved_chart(
            unserved, title=gettext("Unserved open needs by theme (%(where)s)") % {"where": where}, chart_id="unserved"
        ),
        supply=supply,
        supply_chart=supply_chart(
            supply, title=gettext("Open needs and providers by theme (%(where)s)") % {"where": where}, chart_id="supply"
        ),
        funding=funding,
        funding_chart=funding_chart(
            funding,
            title=gettext("Funding available and gap per SDG, USD (%(where)s)") % {"where": where},
            chart_id="funding",
        ),
        sdg_source=theme_sdg_source(),
    )


__all__ = ["STAGE_NAMES", "Chart", "Dashboard", "dashboard", "funding_chart", "pipeline_chart"]
