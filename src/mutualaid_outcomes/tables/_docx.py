"""Word (``.docx``) writer of a :class:`~mutualaid_outcomes.tables.Table` in journal layout.

What a journal (APA 7, AMA, NEJM) expects and Word's defaults do not give:

* horizontal rules only: a heavy rule above the column headers, a light one below
  them and under each spanning header, a heavy one under the last row; no vertical
  lines, no cell grid;
* column widths from the content: the label column as wide as its longest label
  (wrapping only beyond ``MAX_STUB``), each numeric column as wide as its widest cell
  (headers wrap between words, never inside one); a narrow gap column between
  adjacent spanning headers so their rules do not join;
* estimates and intervals that never break: spaces in cells become no-break spaces
  and minus signs Word's no-break hyphen;
* level rows indented with a paragraph indent; header rows repeated on each page;
  rows that do not split;
* a portrait page whenever the table can fit one: the text is set in the journal
  preset's table size (``JournalStyle.table_font_size``), and a table wider than the
  page is compacted (cell margins narrowed, labels and headers wrapped at the
  minimum widths their words allow, the font reduced in half-point steps down to
  ``MIN_FONT_SIZE``) before it is given a landscape section;
* compact rows (one point of paragraph spacing), and the title, every row and the
  notes kept with the next, so a table that fits one page is printed on one page
  with its notes;
* the title and notes in the journal's style (APA: bold "Table 1", italic title,
  "*Note.*" paragraph; AMA/NEJM: "Table 1. Title", one paragraph per note).

Widths are measured with the Times-Roman font metrics (Adobe core-font AFM advance
widths), the font the tables are set in.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .table import Table

__all__ = ["write_docx", "text_width", "docx_layout", "FONT", "FONT_SIZE"]

FONT = "Times New Roman"
FONT_SIZE = 10.0  # points, table text when the style does not say
MIN_FONT_SIZE = 8.0  # points: a wide table is set no smaller than this on a portrait page
PAD = 12.0  # points of left + right cell margin
COMPACT_PAD = 7.0  # the same in a compacted table
MIN_STUB = 108.0  # points (1.5 in): a compacted label column is at least this wide
SLACK = 1.05  # measured widths are stretched by this, as renderers kern and hint differently
MAX_STUB = 216.0  # points (3 in): longer row labels wrap
GAP = 6.0  # points: spacer column between adjacent spanning headers
PAGE = (612.0, 792.0)  # US Letter, points
MARGIN = 72.0
INDENT = 10.0  # points per indent level
HEAVY, LIGHT = 12, 6  # border sizes in eighths of a point

# Times-Roman advance widths (1/1000 em) of ASCII 32..126, from the Adobe core-font AFM.
_TIMES = (
    250, 333, 408, 500, 500, 833, 778, 333, 333, 333, 500, 564, 250, 333, 250, 278, 500,
    500, 500, 500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722,
    667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667,
    556, 611, 722, 722, 944, 722, 722, 611, 333, 278, 333, 469, 500, 333, 444, 500, 444,
    500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389, 278,
    500, 500, 722, 500, 500, 444, 480, 200, 480, 541,
)  # fmt: skip
_OTHER = {"\u00a0": 250, "\u2011": 333, "\u2212": 564, "\u2013": 500, "\u2014": 1000}


def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Width of ``text`` in points when set in Times-Roman at ``size``.

    Examples
    --------
    >>> round(text_width("0.50"), 1)
    18.4
    """
    total = 0
    for ch in text:
        code = ord(ch)
        if 32 <= code <= 126:
            total += _TIMES[code - 32]
        else:
            total += _OTHER.get(ch, 600)
    return total / 1000 * size * (1.05 if bold else 1.0) * SLACK


# ------------------------------------------------------------------ text handling
_PAREN = re.compile(r"\([^()]*\)")


def _keep_together(text: str) -> str:
    """Header text with no-break spaces inside parentheses: ``(n\u00a0=\u00a0120)``."""
    text = _PAREN.sub(lambda m: m.group(0).replace(" ", "\u00a0"), text)
    return re.sub(r"(\d+%) CI", "\\1\u00a0CI", text)


def _statistic_names() -> tuple[str, ...]:
    from .._formatting import JOURNAL_STYLES

    names = {
        name
        for st in JOURNAL_STYLES.values()
        for name in (st.count_label, st.mean_label, st.median_label)
    }
    return tuple(sorted(names, key=len, reverse=True))


def _stub_text(label: str) -> str:
    """A Table 1 row label whose statistic (``M (SD)``, ``Mdn [Q1, Q3]``) never breaks.

    Examples
    --------
    >>> _stub_text("Age, M (SD)") == "Age, M\u00a0(SD)"
    True
    >>> _stub_text("herd: SD (Intercept)")
    'herd: SD (Intercept)'
    """
    for name in _statistic_names():
        if label.endswith(", " + name):
            return label[: -len(name)] + name.replace(" ", "\u00a0")
    return label


def _longest_word(text: str, bold: bool = False, size: float = FONT_SIZE) -> float:
    return max((text_width(w, size, bold=bold) for w in text.split(" ")), default=0.0)


# ------------------------------------------------------------------ layout
def _physical_columns(t: Table) -> list[int | None]:
    """Body column per Word column after the stub; None marks a spacer column."""
    owner = {j: (lab, first) for lab, first, last in t.spanners for j in range(first, last + 1)}
    cols: list[int | None] = []
    for j in range(len(t.columns)):
        if j > 0 and j in owner and (j - 1) in owner and owner[j][1] == j:
            cols.append(None)
        cols.append(j)
    return cols


def _words(text: str) -> list[str]:
    """Pieces a renderer may break ``text`` into: at spaces and after hyphens."""
    return [w for w in re.split(r" |(?<=-)", text) if w]


def _widths(
    t: Table, phys: list[int | None], size: float = FONT_SIZE, *, compact: bool = False
) -> list[float]:
    """Column widths in points: stub first, then one per physical column.

    The natural widths (``compact=False``): labels up to ``MAX_STUB`` and headers
    wrapped between words only where a column's cells are narrower. The compact
    widths: every column as narrow as its widest unbreakable piece allows (numbers
    never break; labels and headers wrap at spaces and hyphens), the label column at
    least ``MIN_STUB``.
    """
    rows = [(_stub_text(lab), cells, lev) for lab, cells, lev in t.rows()]
    pad = COMPACT_PAD if compact else PAD
    width = lambda text: text_width(text, size)  # noqa: E731
    longest = lambda text: max((width(w) for w in _words(text)), default=0.0)  # noqa: E731
    indent = INDENT * size / FONT_SIZE
    if compact:
        stub = max(
            [longest(lab) + indent * lev for lab, _, lev in rows] + [longest(t.stub_header)],
            default=0.0,
        )
        stub = max(stub, MIN_STUB)
    else:
        stub = max(
            [width(lab) + indent * lev for lab, _, lev in rows]
            + [_longest_word(t.stub_header, size=size)],
            default=0.0,
        )
        stub = min(stub, MAX_STUB * size / FONT_SIZE)
    widths = [stub + pad]
    for j in phys:
        if j is None:
            widths.append(GAP)
            continue
        data = max(
            (width(cells[j] + t.marker(i, j)) for i, (_, cells, _) in enumerate(rows)),
            default=0.0,
        )
        head = _keep_together(t.columns[j])
        if compact:
            need = max(data, longest(head))
        else:
            need = max(data, _longest_word(head, size=size), min(width(head), max(data, 54.0)))
        widths.append(need + pad)
    # a spanner wider than its columns widens them evenly
    for label, first, last in t.spanners:
        idx = [k + 1 for k, j in enumerate(phys) if j is not None and first <= j <= last]
        have = sum(widths[k] for k in idx)
        need = (longest(label) if compact else min(width(label), 2.5 * 72)) + pad + 2
        if need > have:
            for k in idx:
                widths[k] += (need - have) / len(idx)
    return widths


def _spread(minimal: list[float], natural: list[float], usable: float) -> list[float]:
    """Compact widths widened towards the natural ones with the room the page leaves.

    The label column gets the room first (fewer wrapped labels, fewer lines), then
    the other columns in proportion to what they lack.
    """
    out = list(minimal)
    room = usable - sum(out)
    grow = min(room, max(natural[0] - out[0], 0.0))
    out[0] += grow
    room -= grow
    lack = [max(n - m, 0.0) for n, m in zip(natural[1:], minimal[1:])]
    total = sum(lack)
    if room > 0 and total > 0:
        share = min(room / total, 1.0)
        out[1:] = [m + share * d for m, d in zip(out[1:], lack)]
    return out


def docx_layout(t: Table, landscape: bool | None = None) -> tuple[float, list[float], bool, bool]:
    """Font size, column widths, orientation and compactness of a table's Word layout.

    Portrait at the preset's table font size when the natural widths fit; else the
    compact widths, at that size or a half point smaller at a time down to
    ``MIN_FONT_SIZE``, on a portrait page; else landscape at the preset size (the
    widths shrunk to the page when even that is too narrow). ``landscape`` forces an
    orientation.

    Returns
    -------
    tuple
        ``(font_size, widths, landscape, compact)``; widths in points, label column
        first.
    """
    size = float(getattr(t.style, "table_font_size", FONT_SIZE))
    phys = _physical_columns(t)
    portrait = PAGE[0] - 2 * MARGIN
    natural = _widths(t, phys, size)
    if landscape is None:
        if sum(natural) <= portrait:
            return size, natural, False, False
        step = size
        while step >= MIN_FONT_SIZE - 1e-9:
            minimal = _widths(t, phys, step, compact=True)
            if sum(minimal) <= portrait:
                return step, _spread(minimal, _widths(t, phys, step), portrait), False, True
            step -= 0.5
        landscape = True
    usable = PAGE[1] - 2 * MARGIN if landscape else portrait
    return size, _fit(natural, usable), bool(landscape), False


# ------------------------------------------------------------------ XML helpers
def _el(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), v)
    return el


def _set_borders(tc_or_tbl_pr: Any, tag: str, sides: dict[str, int]) -> None:
    box = tc_or_tbl_pr.find(f"{{*}}{tag.split(':')[1]}")
    if box is None:
        box = _el(tag)
        tc_or_tbl_pr.append(box)
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if tag == "w:tcBorders" and side.startswith("inside"):
            continue
        size = sides.get(side, 0)
        val = "single" if size else "nil"
        attrs = {"val": val}
        if size:
            attrs.update(sz=str(size), space="0", color="000000")
        box.append(_el(f"w:{side}", **attrs))


def _cell_borders(cell: Any, **sides: int) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    old = tc_pr.find("{*}tcBorders")
    if old is not None:
        tc_pr.remove(old)
    _set_borders(tc_pr, "w:tcBorders", sides)


def _table_properties(table: Any, widths: list[float], pad: float = PAD) -> None:
    from docx.shared import Pt

    tbl_pr = table._tbl.tblPr
    for tag in ("tblBorders", "tblLayout", "tblW", "tblCellMar"):
        old = tbl_pr.find(f"{{*}}{tag}")
        if old is not None:
            tbl_pr.remove(old)
    tbl_pr.append(_el("w:tblW", w=str(int(sum(widths) * 20)), type="dxa"))
    _set_borders(tbl_pr, "w:tblBorders", {})
    tbl_pr.append(_el("w:tblLayout", type="fixed"))
    mar = _el("w:tblCellMar")
    for side, w in (("top", 0), ("left", pad / 2), ("bottom", 0), ("right", pad / 2)):
        mar.append(_el(f"w:{side}", w=str(int(w * 20)), type="dxa"))
    tbl_pr.append(mar)
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall("{*}gridCol"), widths):
        col.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w", str(int(w * 20)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Pt(w)


def _row_flags(row: Any, header: bool) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(_el("w:cantSplit"))
    if header:
        tr_pr.append(_el("w:tblHeader"))


def _write(
    paragraph: Any,
    text: str,
    *,
    numeric: bool = False,
    size: float = FONT_SIZE,
    bold: bool = False,
    italic: bool = False,
    superscript: bool = False,
) -> None:
    """Add ``text`` as one run; in numeric cells spaces and minus signs do not break."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    if not text:
        return
    run = paragraph.add_run()
    run.font.size = Pt(size)
    run.font.name = FONT
    run.bold = bold or None
    run.italic = italic or None
    if superscript:
        run.font.superscript = True
    if numeric:
        text = text.replace(" ", "\u00a0")
    pieces = text.split("-") if numeric else [text]
    for k, piece in enumerate(pieces):
        if k:
            run._r.append(_el("w:noBreakHyphen"))
        if piece:
            node = _el("w:t")
            node.set(qn("xml:space"), "preserve")
            node.text = piece
            run._r.append(node)


def _paragraph(cell: Any, align: str, indent: float = 0.0, keep: bool = True) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = cell.paragraphs[0]
    fmt = p.paragraph_format
    fmt.space_before = Pt(1)
    fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    fmt.keep_with_next = keep
    fmt.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER}[align]
    if indent:
        fmt.left_indent = Pt(indent)
        fmt.first_line_indent = Pt(0)
    return p


# ------------------------------------------------------------------ document parts
def _page(doc: Any, landscape: bool) -> float:
    """Set page size, margins and orientation; return the usable text width (points)."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    sec = doc.sections[0]
    w, h = (PAGE[1], PAGE[0]) if landscape else PAGE
    sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Pt(w), Pt(h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Pt(MARGIN))
    return w - 2 * MARGIN


def _fit(widths: list[float], usable: float) -> list[float]:
    """Shrink the label column, then every column, until the table fits the page."""
    excess = sum(widths) - usable
    if excess <= 0:
        return widths
    out = list(widths)
    out[0] = max(out[0] - excess, 90.0)
    total = sum(out)
    if total > usable:
        out = [w * usable / total for w in out]
    return out


def _title(doc: Any, t: Table) -> None:
    from docx.shared import Pt

    number, caption = t.number_and_caption
    if not number and not caption:
        return
    if t.style.name == "apa" and number:
        lines = [(number, True, False), (caption, False, True)]
    else:
        lines = [(f"{number}. " if number else "", True, False)]
    for k, (text, bold, italic) in enumerate(lines):
        p = doc.add_paragraph()
        p.paragraph_format.keep_with_next = True
        p.paragraph_format.space_after = Pt(0 if k < len(lines) - 1 else 6)
        _write(p, text, size=11, bold=bold, italic=italic)
        if not (t.style.name == "apa" and number):
            _write(p, caption, size=11)


def _header(
    table: Any, t: Table, phys: list[int | None], n_span: int, size: float = FONT_SIZE
) -> None:
    ncols = len(phys) + 1
    if n_span:
        row = table.rows[0]
        _row_flags(row, header=True)
        for k in range(ncols):
            _cell_borders(row.cells[k], top=HEAVY)
        for label, first, last in t.spanners:
            ks = [k + 1 for k, j in enumerate(phys) if j is not None and first <= j <= last]
            cell = row.cells[ks[0]]
            if len(ks) > 1:
                cell = cell.merge(row.cells[ks[-1]])
            _cell_borders(cell, top=HEAVY, bottom=LIGHT)
            _write(_paragraph(cell, "center"), _keep_together(label), size=size)
    row = table.rows[n_span]
    _row_flags(row, header=True)
    top = 0 if n_span else HEAVY
    for k in range(ncols):
        _cell_borders(row.cells[k], top=top, bottom=LIGHT)
    _write(_paragraph(row.cells[0], "left"), t.stub_header, size=size)
    for k, j in enumerate(phys, start=1):
        if j is not None:
            _write(_paragraph(row.cells[k], "center"), _keep_together(t.columns[j]), size=size)


def _body(
    table: Any, t: Table, phys: list[int | None], first_row: int, size: float = FONT_SIZE
) -> None:
    """The body rows; each kept with the next (the last one too when notes follow)."""
    rows = t.rows()
    keep_all = len(rows) <= 40  # a short table stays on one page
    for i, (label, cells, level) in enumerate(rows):
        row = table.rows[first_row + i]
        _row_flags(row, header=False)
        last = i == len(rows) - 1
        keep = keep_all and (not last or bool(t.notes()))
        if last:
            for cell in row.cells:
                _cell_borders(cell, bottom=HEAVY)
        indent = INDENT * size / FONT_SIZE * level
        p = _paragraph(row.cells[0], "left", indent=indent, keep=keep)
        _write(p, _stub_text(label), size=size)
        _write(p, t.marker(i, -1), size=size, superscript=True)
        for k, j in enumerate(phys, start=1):
            p = _paragraph(row.cells[k], "center", keep=keep)
            if j is not None:
                _write(p, cells[j], numeric=True, size=size)
                _write(p, t.marker(i, j), size=size, superscript=True)


def _notes(doc: Any, t: Table, size: float = FONT_SIZE - 1) -> None:
    """The notes, each paragraph kept with the next so they stay with the table."""
    from docx.shared import Pt

    notes = t.notes()
    if not notes:
        return
    general = [n for m, n in notes if not m]
    paragraphs: list[list[tuple[str, dict[str, bool]]]] = []
    if general and t.style.name == "apa":
        paragraphs.append([("Note.", {"italic": True}), (" " + " ".join(general), {})])
    else:
        paragraphs += [[(n, {})] for n in general]
    paragraphs += [[(m, {"superscript": True}), (n, {})] for m, n in notes if m]
    for k, runs in enumerate(paragraphs):
        p = doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.space_before = Pt(4 if k == 0 else 0)
        fmt.space_after = Pt(0)
        fmt.line_spacing = 1.0
        fmt.keep_with_next = k < len(paragraphs) - 1
        fmt.keep_together = True
        for text, style in runs:
            _write(p, text, size=size, **style)


def _save_deterministic(doc: Any, path: Path) -> None:
    """Save with fixed metadata, entry timestamps and order: same table, same bytes."""
    fixed = datetime(2000, 1, 1)
    doc.core_properties.created = fixed
    doc.core_properties.modified = fixed
    doc.core_properties.last_printed = fixed
    doc.core_properties.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)


def write_docx(t: Table, path: Path, *, landscape: bool | None = None) -> Path:
    """Write ``t`` as a Word document in journal layout (see the module docstring)."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    phys = _physical_columns(t)
    size, widths, wide, compact = docx_layout(t, landscape)
    _page(doc, wide)
    _title(doc, t)
    n_span = 1 if t.spanners else 0
    table = doc.add_table(rows=n_span + 1 + len(t.body), cols=len(widths))
    table.autofit = False
    _table_properties(table, widths, COMPACT_PAD if compact else PAD)
    _header(table, t, phys, n_span, size)
    _body(table, t, phys, n_span + 1, size)
    _notes(doc, t, size - 1)
    _save_deterministic(doc, path)
    return path
