"""`upr-match report --format html`: a State's gaps report as one self-contained HTML file.

The page's stylesheet is inlined and the charts are the dashboard's SVG (each with its text
alternative and its table), so the file opens anywhere, offline, and can be mailed as it is.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from app.models.analytics import FundingPage
from app.reference.vocab import SDG_NAMES
from app.services.analytics.report import StateReport, usd
from app.web.gaps import funding_chart, pipeline_chart, supply_chart, unserved_chart
from app.web.templating import environment

STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "site.css"


def html(report: StateReport) -> str:
    """The report as one HTML document."""
    funding: FundingPage = report.funding
    return environment.get_template("report.html").render(
        report=report,
        stylesheet=Markup(STYLESHEET.read_text(encoding="utf-8")),
        pipeline_chart=pipeline_chart(
            report.pipeline, title=f"Implementation pipeline of {report.name} by theme", chart_id="pipeline"
        ),
        unserved_chart=unserved_chart(report.unserved, title="Unserved open needs by theme", chart_id="unserved"),
        supply_chart=supply_chart(report.supply, title="Open needs and providers by theme", chart_id="supply"),
        funding_chart=funding_chart(funding, title="Funding available and gap per SDG, USD", chart_id="funding"),
        sdg_names=SDG_NAMES,
        sdg_source="; ".join(s for s in report.sources if s.startswith("SDG links")),
        usd=usd,
        web=None,
    )


__all__ = ["html"]
