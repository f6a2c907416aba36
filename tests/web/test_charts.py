"""The SVG chart helper: accessible markup, escaped labels, bars to scale."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app.web.charts import BarRow, StackRow, coverage_bars, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"


def test_chart_is_an_accessible_image_with_title_and_description() -> None:
    svg = str(coverage_bars([BarRow("Torture", 10, 4), BarRow("Women's rights", 5, 5)], title="Coverage", chart_id="c"))
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title" and root.get("aria-describedby") == "c-desc"
    assert root.find(f"{SVG}title").text == "Coverage"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert desc == (
        "Torture: 4 of 10 recommendations covered (40%). Women's rights: 5 of 5 recommendations covered (100%)."
    )


def test_bars_are_scaled_to_the_largest_total() -> None:
    svg = str(coverage_bars([BarRow("A", 10, 5), BarRow("B", 5, 0)], title="t", chart_id="c"))
    totals = [int(w) for w in re.findall(r'class="chart-total"[^>]*width="(\d+)"', svg)]
    covered = [int(w) for w in re.findall(r'class="chart-covered"[^>]*width="(\d+)"', svg)]
    assert totals == [300, 150] and covered == [150, 0]


def test_labels_are_escaped_and_clipped() -> None:
    svg = str(
        coverage_bars(
            [BarRow("<script>x</script> & a very long theme label indeed, longer", 1, 1)], title="<t>", chart_id="c"
        )
    )
    ET.fromstring(svg)  # still well-formed XML
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "…" in svg


def test_no_rows_says_so() -> None:
    svg = str(coverage_bars([], title="t", chart_id="c"))
    assert "No data" in svg
    ET.fromstring(svg)


def test_chart_id_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="chart_id"):
        coverage_bars([], title="t", chart_id='x" onload="alert(1)')


def test_covered_is_clamped_to_total() -> None:
    assert "3 of 2 " not in str(coverage_bars([BarRow("A", 2, 3)], title="t", chart_id="c"))


def test_stacked_bars_write_their_numbers_at_both_widths() -> None:
    rows = [StackRow("Torture and other CID treatment", (21959, 41)), StackRow("Women's rights", (3, 1))]
    for narrow in (False, True):
        svg = str(stacked_bars(rows, parts=("to do", "done"), title="t", chart_id="s", narrow=narrow))
        values = re.findall(r'<text class="chart-value"[^>]*>([^<]*)</text>', svg)
        assert values == ["22,000", "4"], (narrow, values)
        height = int(re.search(r'height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
        ys = [int(y) for y in re.findall(r'<text class="chart-value" x="[\d.]+" y="(\d+)"', svg)]
        assert all(y <= height for y in ys)  # inside the drawing
    phone = str(stacked_bars(rows, parts=("to do", "done"), title="t", chart_id="s", narrow=True))
    grouped = str(stacked_bars(rows, parts=("a", "b"), title="t", chart_id="g", narrow=True, grouped=True))
    assert re.findall(r'<text class="chart-value"[^>]*>([^<]*)</text>', grouped) == ["21,959 / 41", "3 / 1"]
    # on a phone each number is under its bar, left-aligned, and every row is taller than its bar
    label_y = [int(y) for y in re.findall(r'<text class="chart-label" x="0" y="(\d+)"', phone)]
    value_y = [int(y) for y in re.findall(r'<text class="chart-value" x="0" y="(\d+)"', phone)]
    assert label_y[0] < value_y[0] < label_y[1] < value_y[1]
