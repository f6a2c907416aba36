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

from app.web.i18n import gettext, number, percent

ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 240
BAR_WIDTH = 300
VALUE_WIDTH = 110
TOP = 8
MAX_LABEL_CHARS = 30  # ~7 px a character: the longest State names stay inside the 232 px label column
# The phone layout: labels above the bars, so the whole chart fits 340 px.
NARROW_WIDTH = 340
NARROW_BAR_WIDTH = 250
NARROW_LABEL_HEIGHT = 18
NARROW_ROW_HEIGHT = NARROW_LABEL_HEIGHT + ROW_HEIGHT
NARROW_LABEL_CHARS = 46
# On a phone a stacked bar fills the width, so its numbers go on a line of their own under it.
NARROW_VALUE_HEIGHT = 16
LEGEND_LINE = 22
LEGEND_CHAR = 7.5  # units a legend character takes, generously: a name never runs into the next one


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
        sentences.append(
            gettext("%(label)s: %(covered)s of %(total)s %(unit)s covered (%(share)s).")
            % {
                "label": row.label,
                "covered": number(covered),
                "total": number(row.total),
                "unit": gettext(unit),
                "share": percent(share / 100),
            }
        )
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
            f"{number(covered)} / {number(row.total)}</text>"
            f"</g>"
        )
    if not rows:
        sentences.append(gettext("No data."))
        empty = escape(gettext("No data"))
        parts.append(f'<text class="chart-label" x="8" y="{TOP + BAR_HEIGHT - 4}">{empty}</text>')
    return _svg(chart_id, title, " ".join(sentences), parts, width=width, height=height, narrow=narrow)


def _svg(
    chart_id: str, title: str, description: str, parts: Sequence[str], *, width: int, height: int, narrow: bool
) -> Markup:
    """The chart's <svg>: an image with its title and its description (every number in words)."""
    layout = "chart-narrow" if narrow else "chart-wide"
    return Markup(
        f'<svg role="img" aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" class="chart {layout}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )


@dataclass(frozen=True, slots=True)
class StackRow:
    """One bar made of parts (e.g. not started, requested, under way, done), each a count."""

    label: str
    parts: tuple[float, ...]
    shown: str = ""  # the words beside the bar, when its total alone would mislead (e.g. "required USD 5 million")


def usd_text(value: float) -> str:
    """An amount as the charts write it, in the page's language: "USD 46.8 million", or whole dollars under 100,000."""
    if value >= 1e5:
        return gettext("USD %(amount)s million") % {"amount": number(value / 1e6, 1)}
    return gettext("USD %(amount)s") % {"amount": number(value, 0)}


def _number(value: float, unit: str) -> str:
    return usd_text(value) if unit == "USD" else number(value, 0)


def _value_text(row: StackRow, unit: str, *, grouped: bool) -> str:
    if row.shown:
        return row.shown
    return " / ".join(_number(v, unit) for v in row.parts) if grouped else _number(sum(row.parts), unit)


def stacked_bars(
    rows: Sequence[StackRow],
    *,
    parts: Sequence[str],
    title: str,
    chart_id: str,
    unit: str = "",
    grouped: bool = False,
    narrow: bool = False,
) -> Markup:
    """An SVG string: one bar per row, its parts side by side in one bar (stacked) or as thin bars (`grouped`).

    The description says every number of every row in words; parts are coloured by position
    (classes `chart-part-0`...), and a legend names them. Each bar's numbers are written beside it
    or, `narrow` (for a phone, 340 units wide), on a line under it, its label on a line above.

    >>> svg = stacked_bars([StackRow("Torture", (3, 1))], parts=("to do", "done"), title="T", chart_id="s1")
    >>> "Torture: to do 3, done 1 (total 4)." in svg
    True
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,40}", chart_id):
        raise ValueError(f"chart_id must be a simple identifier, got {chart_id!r}")
    label_width, bar_width = (0, NARROW_BAR_WIDTH) if narrow else (LABEL_WIDTH, BAR_WIDTH)
    band = BAR_HEIGHT if not grouped else max(8, BAR_HEIGHT // max(len(parts), 1)) * len(parts)
    row_height = band + 10 + (NARROW_LABEL_HEIGHT + NARROW_VALUE_HEIGHT if narrow else 0)
    largest = max(((max(r.parts, default=0) if grouped else sum(r.parts)) for r in rows), default=0) or 1
    texts = [_value_text(r, unit, grouped=grouped) for r in rows]
    # Room for the longest number beside a bar (~7 units a character), so none is cut off.
    value_width = max([VALUE_WIDTH] + [7 * len(t) + 12 for t in texts])
    width = NARROW_WIDTH if narrow else LABEL_WIDTH + BAR_WIDTH + value_width
    # The legend: one entry per part, on as many lines as the chart's width needs (names grow in translation).
    legend = []
    x: float = label_width
    line = 0
    for name in parts:
        advance = 24 + LEGEND_CHAR * len(name)
        if x > label_width and x + advance > width:
            x, line = float(label_width), line + 1
        legend.append((x, line, name))
        x += advance
    legend_height = LEGEND_LINE * (line + 1)
    height = TOP * 2 + legend_height + row_height * max(len(rows), 1)
    out = []
    for k, (x, line, name) in enumerate(legend):
        top = TOP + line * LEGEND_LINE
        out.append(
            f'<rect class="chart-part-{k}" x="{x}" y="{top}" width="12" height="12"/>'
            f'<text class="chart-label" x="{x + 16}" y="{top + 11}">{escape(name)}</text>'
        )
    sentences = []
    for index, row in enumerate(rows):
        y = TOP + legend_height + index * row_height
        words = ", ".join(f"{name} {_number(v, unit)}" for name, v in zip(parts, row.parts, strict=True))
        total = sum(row.parts)
        sentences.append(
            gettext("%(label)s: %(parts)s.") % {"label": row.label, "parts": words}
            if grouped
            else gettext("%(label)s: %(parts)s (total %(total)s).")
            % {"label": row.label, "parts": words, "total": _number(total, unit)}
        )
        if narrow:
            out.append(
                f'<text class="chart-label" x="0" y="{y + 13}">{escape(_clip(row.label, NARROW_LABEL_CHARS))}</text>'
            )
            y += NARROW_LABEL_HEIGHT
        else:
            out.append(
                f'<text class="chart-label" x="{label_width - 8}" y="{y + band // 2 + 4}" text-anchor="end">'
                f"{escape(_clip(row.label))}</text>"
            )
        cursor = float(label_width)
        thin = band / max(len(parts), 1)
        for k, part in enumerate(row.parts):
            w = bar_width * part / largest
            if grouped:
                out.append(
                    f'<rect class="chart-part-{k}" x="{label_width}" y="{y + k * thin:.1f}" '
                    f'width="{max(w, 1):.1f}" height="{thin - 1:.1f}"/>'
                )
            elif w > 0:
                out.append(f'<rect class="chart-part-{k}" x="{cursor:.1f}" y="{y}" width="{w:.1f}" height="{band}"/>')
                cursor += w
        end = label_width + (bar_width * max(row.parts, default=0) / largest if grouped else cursor - label_width)
        shown = texts[index]
        if narrow:
            out.append(f'<text class="chart-value" x="0" y="{y + band + 13}">{escape(shown)}</text>')
        else:
            out.append(f'<text class="chart-value" x="{end + 6:.1f}" y="{y + band // 2 + 4}">{escape(shown)}</text>')
    if not rows:
        sentences.append(gettext("No data."))
        empty = escape(gettext("No data"))
        out.append(f'<text class="chart-label" x="8" y="{TOP + legend_height + 13}">{empty}</text>')
    return _svg(chart_id, title, " ".join(sentences), out, width=width, height=height, narrow=narrow)


__all__ = ["BarRow", "StackRow", "coverage_bars", "stacked_bars", "usd_text"]
