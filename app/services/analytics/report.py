"""A State's gaps report, for a national mechanism's follow-up meeting: one shareable file.

`state_report` gathers the measures for one State (the same services as the API and `/gaps`,
as an administrator sees them unless told otherwise) with the period and sources the data
covers; `markdown` writes it as Markdown. The HTML form is drawn by `app/web/report.py` with the
dashboard's charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.core.identity import Principal
from app.core.pagination import PageParams
from app.match_index.index import MatchIndex
from app.models.analytics import FundingPage, PipelinePage, SupplyDemandPage, UnservedPage
from app.models.common import utcnow
from app.models.coverage import StateDataCoverage
from app.reference.countries import display_name
from app.services import coverage as coverage_service
from app.services.analytics import needs, pipeline
from app.services.analytics.pipeline import sdg_label
from app.services.analytics.reference import GROUP_LABELS, group_members, group_source, region_of, theme_sdg_source
from app.services.analytics.slices import Slice
from app.services.coverage import session_with_year

ALL = PageParams(limit=1000, offset=0)


@dataclass(frozen=True, slots=True)
class StateReport:
    state: str
    name: str
    region: str | None
    groups: list[str]
    generated_at: datetime
    data: StateDataCoverage
    sources: list[str]
    pipeline: PipelinePage
    unserved: UnservedPage
    supply: SupplyDemandPage
    funding: FundingPage


def state_report(
    session: Session, *, state: str, principal: Principal | None = None, index: MatchIndex | None = None
) -> StateReport:
    """Every measure for one State (404 for a code that is not a State)."""
    data = coverage_service.state_coverage(session, state=state)
    code = data.state
    caller = principal or Principal(role="admin", name="upr-match report")
    piece = Slice.of(states=[code])
    sources = [f"Recommendations: {coverage_service.source_label(s)}" for s in data.sources] + [
        "Needs, providers, engagements and confirmed activities recorded in this repository",
        "Funding: " + pipeline.funding_source(session)[0],
        "SDG links of themes: " + theme_sdg_source(),
    ]
    groups = [g for g in GROUP_LABELS if code in group_members(g)]
    sources += [f"{GROUP_LABELS[g]}: {group_source(g)}" for g in groups]
    return StateReport(
        state=code,
        name=display_name(code),
        region=region_of(code),
        groups=[GROUP_LABELS[g] for g in groups],
        generated_at=utcnow(),
        data=data,
        sources=sources,
        pipeline=pipeline.get_pipeline(session, principal=caller, piece=piece, by="theme", page=ALL),
        unserved=needs.get_unserved(session, principal=caller, piece=piece, by="theme", page=ALL),
        supply=needs.get_supply_demand(session, principal=caller, piece=piece, index=index, page=ALL),
        funding=pipeline.get_funding(session, principal=caller, piece=piece, page=ALL),
    )


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def usd(value: float | None) -> str:
    if value is None:
        return "not stated"
    return f"{value / 1e6:,.1f} million" if value >= 1e5 else f"{value:,.0f}"


def markdown(report: StateReport) -> str:
    """The report as one Markdown file."""
    p = report.pipeline.totals
    out = [
        f"# Where help is missing: {report.name}",
        "",
        f"Generated {report.generated_at:%d %B %Y %H:%M} UTC. {report.data.summary}",
        "",
        "## Implementation pipeline",
        "",
        f"Of {p.supported} supported recommendations, {p.requested} are requested in an open need, "
        f"{p.under_way} under way in a confirmed activity and {p.done} done; {p.not_started} are not started. "
        "Each counts once, at the furthest stage it reached; a recommendation with several themes is under each.",
        "",
    ]
    out += _table(
        ["Theme", "Supported", "Not started", "Requested", "Under way", "Done"],
        [[r.label, r.supported, r.not_started, r.requested, r.under_way, r.done] for r in report.pipeline.items]
        + [["All", p.supported, p.not_started, p.requested, p.under_way, p.done]],
    )
    u = report.unserved
    out += [
        "",
        "## Unserved needs",
        "",
        f"{u.unserved_needs} of {u.open_needs} open needs are unserved: best match below {u.strong_threshold} "
        f"(strong) for {u.days} days or more, or every engagement declined."
        + (f" {u.not_scored} not scored yet." if u.not_scored else ""),
        "",
    ]
    out += _table(
        ["Theme", "Unserved needs", "Weak best match", "All engagements declined"],
        [[r.label, r.needs, r.weak_match, r.all_declined] for r in u.items] or [["None", 0, 0, 0]],
    )
    out += ["", "## Supply and demand by theme", ""]
    out += _table(
        ["Theme", "Open needs", "Providers", "Regions without a provider", "Languages without a provider"],
        [
            [
                r.label or r.theme,
                r.open_needs,
                r.providers,
                ", ".join(r.regions_without_provider) or "-",
                ", ".join(r.languages_without_provider) or "-",
            ]
            for r in report.supply.items
        ]
        or [["No open need", 0, 0, "-", "-"]],
    )
    out += ["", "## Funding context (USD)", "", report.funding.source, ""]
    out += _table(
        ["SDG", "Required", "Available", "Gap", "Supported recommendations", "Open needs"],
        [
            [
                sdg_label(r.sdg),
                usd(r.required),
                usd(r.available),
                usd(r.gap),
                r.supported_recommendations,
                r.open_needs,
            ]
            for r in report.funding.items
        ]
        or [["None", "-", "-", "-", 0, 0]],
    )
    out += ["", "## Period and sources", ""]
    period = ", ".join(session_with_year(s) for s in report.data.sessions) or "none"
    out += [f"- UPR Working Group sessions in the data for {report.name}: {period}"]
    out += [f"- {s}" for s in report.sources]
    return "\n".join(out) + "\n"


__all__ = ["StateReport", "markdown", "state_report", "usd"]
