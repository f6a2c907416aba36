"""Server-drawn SVG charts: accessible, no JavaScript, no external resources.

`coverage_bars` draws one horizontal bar per row: the full bar is the total, the
darker part the share covered, with the numbers written beside it. The SVG has
`role="img"`, a `<title>` and a `<desc>` that says every number in words (linked
with `aria-labelledby` / `aria-describedby`), so a screen reader gets the data
and the picture adds nothing it cannot hear. Colours come from the stylesheet
(classes `chart-*`), since the pages' CSP forbids inline styles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 240
BAR_WIDTH = 300
VALUE_WIDTH = 110
TOP = 8
MAX_LABEL_CHARS = 34
# The phone layout: labels above the bars, so the whole chart fits 340 px.
NARROW_WIDTH = 340
NARROW_BAR_WIDTH = 250
NARROW_LABEL_HEIGHT = 18
NARROW_ROW_HEIGHT = NARROW_LABEL_HEIGHT + ROW_HEIGHT
NARROW_LABEL_CHARS = 46


@dataclass(frozen=True, slots=True)
class BarRow:
    """One bar: a label, its total and how much of it is covered (0 <= covered <= total)."""

    label: str
    total: int
    covered: int


def _clip(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def coverage_bars(
    rows: Sequence[BarRow], *, title: str, chart_id: str, unit: str = "recommendations", narrow: bool = False
) -> Markup:
    """An SVG string: horizontal bars of `covered` out of `total` per row, scaled to the largest total.

    `narrow` draws it for a phone (340 units wide): each label on its own line above its bar.

    >>> svg = coverage_bars([BarRow("Torture", 10, 4)], title="Coverage", chart_id="c1")
    >>> svg.startswith('<svg role="img" aria-labelledby="c1-title"')
    True
    >>> "Torture: 4 of 10 recommendations covered (40%)." in svg
    True
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,40}", chart_id):
        raise ValueError(f"chart_id must be a simple identifier, got {chart_id!r}")
    largest = max((row.total for row in rows), default=0)
    label_width, bar_width, row_height = (
        (0, NARROW_BAR_WIDTH, NARROW_ROW_HEIGHT)
        if narrow
        else (
            LABEL_WIDTH,
            BAR_WIDTH,
            ROW_HEIGHT,
        )
    )
    width = NARROW_WIDTH if narrow else LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = TOP * 2 + row_height * max(len(rows), 1)
    sentences = []
    parts = []
    for index, row in enumerate(rows):
        covered = max(0, min(row.covered, row.total))
        share = round(100 * covered / row.total) if row.total else 0
        sentences.append(f"{row.label}: {covered} of {row.total} {unit} covered ({share}%).")
        y = TOP + index * row_height
        full = round(bar_width * row.total / largest) if largest else 0
        done = round(bar_width * covered / largest) if largest else 0
        if narrow:
            label = (
                f'<text class="chart-label" x="0" y="{y + 13}">{escape(_clip(row.label, NARROW_LABEL_CHARS))}</text>'
            )
            y += NARROW_LABEL_HEIGHT
        else:
            label = (
                f'<text class="chart-label" x="{label_width - 8}" y="{y + BAR_HEIGHT - 4}" text-anchor="end">'
                f"{escape(_clip(row.label))}</text>"
            )
        text_y = y + BAR_HEIGHT - 4
        parts.append(
            f'<g class="chart-row">{label}'
            f'<rect class="chart-total" x="{label_width}" y="{y}" width="{max(full, 1)}" height="{BAR_HEIGHT}"/>'
            f'<rect class="chart-covered" x="{label_width}" y="{y}" width="{done}" height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{label_width + max(full, 1) + 6}" y="{text_y}">'
            f"{covered} / {row.total}</text>"
            f"</g>"
        )
    if not rows:
        sentences.append("No data.")
        parts.append(f'<text class="chart-label" x="8" y="{TOP + BAR_HEIGHT - 4}">No data</text>')
    description = " ".join(sentences)
    layout = "chart-narrow" if narrow else "chart-wide"
    return Markup(
        f'<svg role="img" aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" class="chart {layout}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )


__all__ = ["BarRow", "coverage_bars"]
