"""Every table of `/gaps` and of a State's page adds up as its headings say, and each count has one definition.

The tables are read from the HTML as a reader sees them (the cells' `data-label` names the column), so a
template that shows a column from another sum, or a caption promising rows the table lacks, fails here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.analytics import FundingResource
from app.services.analytics import cache
from tests.analytics.fixture import build


class _Tables(HTMLParser):
    """Each <table>: its rows, each row a dict from column name (the cell's data-label) to its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[dict[str, str]]] = []
        self._cell: str | None = None
        self._row: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = {}
        elif tag == "th" and self._row is not None and a.get("scope") == "row":
            self._cell = "_row"
        elif tag == "td" and self._row is not None and a.get("data-label"):
            self._cell = a["data-label"] or ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self._row is not None:
            self._row[self._cell] = self._row.get(self._cell, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"}:
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) > 1:
                self.tables[-1].append({k: v.strip() for k, v in self._row.items()})
            self._row = None


def tables(page: str) -> list[list[dict[str, str]]]:
    reader = _Tables()
    reader.feed(page)
    return [t for t in reader.tables if t]


def number(text: str) -> float:
    """A cell's number: "1,234", "-75", "12.5 million"."""
    value = float(text.replace(",", "").replace("million", "").strip())
    return value * 1e6 if "million" in text else value


STAGES = ("Not started", "Requested", "Under way", "Done")


def assert_tables_add_up(page: str) -> int:
    """Check every pipeline, unserved and funding table of a page; answer how many tables were checked."""
    checked = 0
    for table in tables(page):
        columns = set(table[0])
        if {"Supported", *STAGES} <= columns:
            for row in table:
                assert number(row["Supported"]) == sum(number(row[s]) for s in STAGES), row
            checked += 1
        elif {"Required (USD)", "Available (USD)", "Gap (USD)"} <= columns:
            for row in table:
                if row["Gap (USD)"] == "not stated":
                    assert row["Required (USD)"] == row["Available (USD)"] == "not stated", row
                    assert row["States"] == "0", row
                    continue
                required, available, gap = (number(row[c]) for c in ("Required (USD)", "Available (USD)", "Gap (USD)"))
                assert abs(required - available - gap) <= 1, row  # amounts shown to the dollar
            checked += 1
        elif {"Unserved needs", "Weak best match", "All requests declined"} <= columns:
            for row in table:
                reasons = ("Unserved needs", "Weak best match", "All requests declined")
                needs, weak, declined = (number(row[c]) for c in reasons)
                # Each unserved need has one reason or both.
                assert max(weak, declined) <= needs <= weak + declined, row
            checked += 1
    # "The chart shows the first 12 of N ...; the table below lists all N": the table under it holds N rows.
    for total in re.findall(r"the table below lists all ([\d,]+)", page):
        assert any(len(t) == int(total.replace(",", "")) for t in tables(page)), total
    return checked


def test_every_gaps_table_adds_up(web: TestClient, session: Session) -> None:
    cache.clear()
    build(session)
    # A State stating only the required amount: left out of all three sums, so the columns still add up.
    session.add(FundingResource(state="MEX", sdg=3, required=70, available=None, country_name="Mexico", source="t"))
    session.commit()
    for query in ({}, {"state": "MEX"}, {"by": "region"}, {"by": "sdg"}):
        page = web.get("/gaps", params=query).text
        assert assert_tables_add_up(page) == 4, query  # pipeline, regions, unserved, funding
    page = web.get("/gaps").text
    assert "Gap = Required − Available on every row" in page
    assert "does not give each framework&#39;s years" in page or "does not give each framework's years" in page
    assert "state groups" not in page


def test_the_state_page_tables_add_up_and_the_funding_bars_say_required(web: TestClient, session: Session) -> None:
    cache.clear()
    build(session)
    page = web.get("/states/MEX").text
    assert assert_tables_add_up(page) == 2  # pipeline and funding
    # The bar is as long as the money required, and its words say so; the legend names its two parts.
    chart = re.search(r'<svg role="img" aria-labelledby="funding-title".*?</svg>', page, re.DOTALL)
    assert chart and "required USD 100" in chart.group(0) and ">gap<" in chart.group(0)


def test_a_long_amount_beside_a_bar_is_not_cut() -> None:
    from app.web.charts import StackRow, stacked_bars

    svg = stacked_bars(
        [StackRow("SDG 16", (19.6e6, 27.1e6), shown="required USD 46.8 million")],
        parts=("available", "gap"),
        title="t",
        chart_id="f",
        unit="USD",
    )
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))  # type: ignore[union-attr]
    x = float(re.search(r'class="chart-value" x="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert x + 7 * len("required USD 46.8 million") <= width


def _count(pattern: str, page: str) -> int:
    found = re.search(pattern, page)
    assert found, pattern
    return int(found.group(1).replace(",", ""))


def test_the_counts_have_one_definition_on_every_page(web: TestClient, session: Session) -> None:
    """A recommendation counts once (another source's copy, m1copy, is not counted); a State counts when it
    received a counted recommendation. Home, /recommendations, /states and the State page agree."""
    cache.clear()
    build(session)
    home = web.get("/").text
    recommendations = _count(r"([\d,]+) recommendations to [\d,]+ States", home)
    states = _count(r"[\d,]+ recommendations to ([\d,]+) States", home)
    listing = web.get("/recommendations").text
    assert _count(r'id="results-heading">([\d,]+) recommendations?<', listing) == recommendations
    rows = tables(web.get("/states", params={"limit": 100}).text)[0]
    assert sum(number(r["Recommendations"]) for r in rows) == recommendations
    assert sum(1 for r in rows if number(r["Recommendations"])) == states
    assert "Each recommendation counts once" in home  # the sentence saying why the records are more
    mexico = web.get("/states/MEX").text
    listed = next(r for r in rows if r["_row"] == "Mexico")
    assert _count(r"<strong>([\d,]+)</strong> recommendations received", mexico) == number(listed["Recommendations"])


def test_a_long_legend_wraps_inside_the_chart() -> None:
    """Translated part names are longer: the legend goes on as many lines as needed, none past the edge."""
    from app.web.charts import LEGEND_CHAR, StackRow, stacked_bars

    names = ("correspondance faible seulement", "toutes les demandes refusées")
    svg = stacked_bars([StackRow("Torture", (1, 2))], parts=names, title="t", chart_id="u", narrow=True)
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))  # type: ignore[union-attr]
    entries = re.findall(r'<text class="chart-label" x="([\d.]+)" y="([\d.]+)">([^<]+)</text>', svg)[: len(names)]
    assert [name for _, _, name in entries] == list(names)
    assert len({y for _, y, _ in entries}) == 2  # two lines
    assert all(float(x) + LEGEND_CHAR * len(name) <= width for x, _, name in entries)
