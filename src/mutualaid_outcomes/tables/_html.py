"""HTML and Markdown renderers of a :class:`~mutualaid_outcomes.tables.Table`.

The HTML carries every style inline: Jupyter's stylesheet right-aligns table cells,
fixes the table layout and strips padding, which would right-align the labels and hide
the indentation of level rows. Rules follow the journal layout (a heavy rule above the
headers, a light one below them and under each spanner, a heavy one under the last row).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .table import Table

__all__ = ["to_html", "to_markdown", "TABLE_CSS", "LABEL_CAP_CH"]

_HEAVY = "1.5px solid #000"
_LIGHT = "0.75px solid #000"
_CELL = "padding:2px 10px;vertical-align:top;line-height:1.3;border:none;"
_PAGE_CSS = "body{font-family:'Times New Roman',Times,'Liberation Serif',serif;margin:2em}"
#: Widest label column (characters): shorter labels never wrap, longer ones wrap at it.
LABEL_CAP_CH = 40
#: Rules behind the inline styles, for pages that style the classes (the report).
TABLE_CSS = (
    ".mutualaid-table td.mutualaid-label,.mutualaid-table th.mutualaid-label"
    "{text-align:left}"
    ".mutualaid-table td.mutualaid-nowrap{white-space:nowrap}"
    ".mutualaid-table td.mutualaid-num{white-space:nowrap;text-align:center}"
    + "".join(
        f".mutualaid-table td.mutualaid-indent-{k}{{padding-left:{0.6 + 1.5 * k:.1f}em}}"
        for k in (1, 2, 3)
    )
)


def _sup(marker: str) -> str:
    return f"<sup style='line-height:0'>{html.escape(marker)}</sup>" if marker else ""


def _caption(t: Table) -> str:
    number, caption = t.number_and_caption
    esc = html.escape
    if not number and not caption:
        return ""
    style = "caption-side:top;text-align:left;padding:0 0 6px 0;font-size:100%;color:inherit;"
    if t.style.name == "apa" and number:
        inner = f"<b>{esc(number)}</b><br><i>{esc(caption)}</i>"
    elif number:
        inner = f"<b>{esc(number)}.</b> {esc(caption)}"
    else:
        inner = f"<b>{esc(caption)}</b>"
    return f"<caption style='{style}'>{inner}</caption>"


def _keep_n(header: str) -> str:
    """A header whose "n = 575" never breaks."""
    return header.replace(" = ", "\u00a0=\u00a0")


def _label_width(t: Table) -> int:
    """Characters the label column needs: its longest label (indent included), capped."""
    widths = [len(t.stub_header)] + [len(label) + 3 * level for label, _, level in t.rows()]
    return min(max(widths), LABEL_CAP_CH)


def _last_top_comma(label: str) -> int:
    """Index after the last ", " outside brackets (-1 when none).

    That is where the statistic of a Table 1 label ("M (SD)", "Mdn [Q1, Q3]", "n (%)")
    starts.
    """
    depth, cut = 0, -1
    for i, ch in enumerate(label):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif depth == 0 and label.startswith(", ", i):
            cut = i + 2
    return cut


def _label_cell(label: str, level: int, extra: str, marker: str) -> str:
    """A body label: left-aligned, indented by level, unbroken unless longer than the cap."""
    classes = ["mutualaid-label"]
    wrap = "white-space:normal;"
    text = html.escape(label)
    if len(label) + 3 * level <= LABEL_CAP_CH:
        classes.append("mutualaid-nowrap")
        wrap = "white-space:nowrap;"
    else:  # a wrapping label keeps its statistic ("Mdn [Q1, Q3]") on one line
        cut = _last_top_comma(label)
        if cut > 0 and len(label) - cut <= 16:
            head, stat = label[:cut], label[cut:]
            text = html.escape(head) + html.escape(stat).replace(" ", "&nbsp;")
    if level:
        classes.append(f"mutualaid-indent-{level}")
    pad = f"padding-left:{0.6 + 1.5 * level:.1f}em;"
    return (
        f"<td class='{' '.join(classes)}' style='{_CELL}{extra}{pad}{wrap}text-align:left;'>"
        f"{text}{_sup(marker)}</td>"
    )


def _header_rows(t: Table) -> list[str]:
    esc = html.escape
    ncol = len(t.columns)
    spanners = t.spanners
    rows = []
    top = f"border-top:{_HEAVY};"
    if spanners:
        cells = [f"<th style='{_CELL}{top}'></th>"]
        j = 0
        for label, first, last in spanners:
            if first > j:
                cells.append(f"<th colspan='{first - j}' style='{_CELL}{top}'></th>")
            cells.append(
                f"<th colspan='{last - first + 1}' style='{_CELL}{top}text-align:center;"
                f"font-weight:normal;'><span style='display:block;border-bottom:{_LIGHT};"
                f"padding-bottom:2px'>{esc(label)}</span></th>"
            )
            j = last + 1
        if j < ncol:
            cells.append(f"<th colspan='{ncol - j}' style='{_CELL}{top}'></th>")
        rows.append("<tr style='background:transparent'>" + "".join(cells) + "</tr>")
        top = ""
    bottom = f"border-bottom:{_LIGHT};"
    cells = [
        f"<th class='mutualaid-label' style='{_CELL}{top}{bottom}text-align:left;"
        f"font-weight:normal;min-width:{_label_width(t)}ch;'>{esc(t.stub_header)}</th>"
    ]
    cells += [
        f"<th style='{_CELL}{top}{bottom}text-align:center;font-weight:normal;'>{esc(_keep_n(c))}</th>"
        for c in t.columns
    ]
    rows.append("<tr style='background:transparent'>" + "".join(cells) + "</tr>")
    return rows


def _body_rows(t: Table) -> list[str]:
    esc = html.escape
    rows = t.rows()
    out = []
    for i, (label, cells, level) in enumerate(rows):
        last = f"border-bottom:{_HEAVY};" if i == len(rows) - 1 else ""
        parts = [_label_cell(label, level, last, t.marker(i, -1))]
        for j, c in enumerate(cells):
            parts.append(
                f"<td class='mutualaid-num' style='{_CELL}{last}text-align:center;"
                f"white-space:nowrap;'>{esc(c)}"
                f"{_sup(t.marker(i, j))}</td>"
            )
        out.append("<tr style='background:transparent'>" + "".join(parts) + "</tr>")
    return out


def _notes_html(t: Table) -> str:
    esc = html.escape
    notes = t.notes()
    if not notes:
        return ""
    span = len(t.columns) + 1
    general = [n for m, n in notes if not m]
    lines = []
    if general:
        if t.style.name == "apa":
            lines.append("<i>Note.</i> " + " ".join(esc(n) for n in general))
        else:
            lines += [esc(n) for n in general]
    lines += [f"{_sup(m)}{esc(n)}" for m, n in notes if m]
    style = f"{_CELL}text-align:left;white-space:normal;font-size:90%;padding-top:6px;"
    return (
        f"<tfoot><tr style='background:transparent'><td colspan='{span}' style='{style}'>"
        + "<br>".join(lines)
        + "</td></tr></tfoot>"
    )


def to_html(t: Table, *, standalone: bool = False) -> str:
    """The table as an HTML ``<table>`` with inline styles (a page when ``standalone``)."""
    table_style = (
        "border-collapse:collapse;border:none;table-layout:auto;width:auto;"
        "margin-left:0;margin-right:auto;font-size:inherit;"
    )
    parts = [f"<table class='mutualaid-table' style='{table_style}'>", _caption(t)]
    parts.append("<thead>" + "".join(_header_rows(t)) + "</thead>")
    parts.append("<tbody>" + "".join(_body_rows(t)) + "</tbody>")
    parts.append(_notes_html(t))
    parts.append("</table>")
    text = "".join(parts)
    if standalone:
        title = html.escape(t.title or "Table")
        text = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_PAGE_CSS}{TABLE_CSS}</style></head><body>{text}</body></html>"
        )
    return text


def to_markdown(t: Table) -> str:
    """The table as a GitHub-flavoured Markdown pipe table with its title and notes."""

    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    def sup(m: str) -> str:
        return f"<sup>{m}</sup>" if m else ""

    spans = {j: lab for lab, first, last in t.spanners for j in range(first, last + 1)}
    header = [t.stub_header] + [
        f"{spans[j]}: {c}" if j in spans else c for j, c in enumerate(t.columns)
    ]
    lines = []
    number, caption = t.number_and_caption
    if number:
        lines += [f"**{number}.** {caption}", ""]
    elif caption:
        lines += [f"**{caption}**", ""]
    lines.append("| " + " | ".join(cell(h) for h in header) + " |")
    lines.append("|" + "|".join([":---"] + [":---:"] * len(t.columns)) + "|")
    for i, (label, cells, level) in enumerate(t.rows()):
        lab = "&nbsp;&nbsp;&nbsp;&nbsp;" * level + cell(label) + sup(t.marker(i, -1))
        vals = [cell(c) + sup(t.marker(i, j)) for j, c in enumerate(cells)]
        lines.append("| " + " | ".join([lab, *vals]) + " |")
    notes = t.notes()
    if notes:
        lines.append("")
        general = [n for m, n in notes if not m]
        if general and t.style.name == "apa":
            lines.append("*Note.* " + " ".join(general))
        else:
            lines += [f"{n}  " for n in general]
        lines += [f"{sup(m)}{n}  " for m, n in notes if m]
    return "\n".join(lines) + "\n"
