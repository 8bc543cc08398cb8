"""The :class:`Table` object: one publication table, many output formats.

A table holds already-formatted text cells (rounding happened when it was built
from full-precision numbers) plus a title and footnotes. It renders in Jupyter
(HTML) and exports to Markdown, LaTeX (booktabs), Word ``.docx`` (python-docx),
CSV and HTML files.

Examples
--------
>>> import pandas as pd
>>> t = Table(pd.DataFrame({"Estimate": ["0.12"], "95% CI": ["[0.01, 0.23]"]},
...                        index=["Attendance"]), title="Table 2")
>>> print(t.to_markdown().splitlines()[4])
| Attendance | 0.12 | [0.01, 0.23] |
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from .._files import check_parent_folder, os_errors_named
from ..errors import ArgumentTypeError, FileFormatError
from ..results import latex_escape

__all__ = ["Table"]


def _write_deterministic_zip(blob: bytes, path: Path) -> None:
    """Rewrite a zip archive with fixed entry timestamps and order."""
    with zipfile.ZipFile(io.BytesIO(blob)) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)


_EXPORTERS = (".html", ".htm", ".md", ".tex", ".docx", ".csv")


@dataclass(frozen=True)
class Table:
    """A formatted publication table.

    Parameters
    ----------
    body : pandas.DataFrame
        Text cells; the index holds the row labels (the stub column).
    title : str
        Table caption.
    footnotes : sequence of str
        Notes printed under the table (abbreviations, tests used, suppressed cells).
    stub_header : str
        Header of the row-label column.
    indent : sequence of int
        Positions of rows to indent (levels under a variable).
    numbers : pandas.DataFrame, optional
        The full-precision numbers behind the cells, for checking and reuse.
    """

    body: pd.DataFrame
    title: str = ""
    footnotes: Sequence[str] = ()
    stub_header: str = ""
    indent: Sequence[int] = ()
    numbers: pd.DataFrame | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.body, pd.DataFrame):
            raise ArgumentTypeError(f"`body` must be a DataFrame; got {type(self.body).__name__}.")
        object.__setattr__(self, "body", self.body.astype(str).copy())
        object.__setattr__(self, "footnotes", tuple(self.footnotes))
        object.__setattr__(self, "indent", tuple(int(i) for i in self.indent))

    # ------------------------------------------------------------------ helpers
    def _rows(self) -> list[tuple[str, list[str], bool]]:
        out = []
        for i, (label, row) in enumerate(self.body.iterrows()):
            out.append((str(label), [str(v) for v in row.tolist()], i in self.indent))
        return out

    @property
    def columns(self) -> list[str]:
        """Column headers."""
        return [str(c) for c in self.body.columns]

    # ------------------------------------------------------------------ renderers
    def to_html(self, path: str | Path | None = None, *, standalone: bool = False) -> str:
        """Render as an HTML ``<table>`` (a whole page when ``standalone``); write if ``path``."""
        esc = html.escape
        parts = ["<table class='mutualaid-table'>"]
        if self.title:
            parts.append(f"<caption>{esc(self.title)}</caption>")
        parts.append("<thead><tr>")
        parts.append(f"<th>{esc(self.stub_header)}</th>")
        parts += [f"<th>{esc(c)}</th>" for c in self.columns]
        parts.append("</tr></thead><tbody>")
        for label, cells, ind in self._rows():
            style = " style='padding-left:1.5em'" if ind else ""
            parts.append(f"<tr><td{style}>{esc(label)}</td>")
            parts += [f"<td>{esc(c)}</td>" for c in cells]
            parts.append("</tr>")
        parts.append("</tbody>")
        if self.footnotes:
            span = len(self.columns) + 1
            notes = "<br>".join(esc(n) for n in self.footnotes)
            parts.append(
                f"<tfoot><tr><td colspan='{span}'><small>{notes}</small></td></tr></tfoot>"
            )
        parts.append("</table>")
        text = "".join(parts)
        if standalone:
            text = (
                "<!DOCTYPE html><html><head><meta charset='utf-8'>"
                f"<title>{esc(self.title or 'Table')}</title>"
                "<style>table{border-collapse:collapse;font-family:sans-serif}"
                "th,td{padding:2px 8px;text-align:left}thead th{border-bottom:1px solid #000}"
                "caption{font-weight:bold;text-align:left}</style></head><body>"
                f"{text}</body></html>"
            )
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self, path: str | Path | None = None) -> str:
        """Render as a GitHub-flavoured Markdown table; write if ``path``."""

        def cell(s: str) -> str:
            return s.replace("|", "\\|")

        header = [self.stub_header, *self.columns]
        lines = []
        if self.title:
            lines.append(f"**{self.title}**")
            lines.append("")
        lines.append("| " + " | ".join(cell(h) for h in header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * len(self.columns)) + "|")
        for label, cells, ind in self._rows():
            lab = ("&nbsp;&nbsp;" if ind else "") + label
            lines.append("| " + " | ".join(cell(c) for c in [lab, *cells]) + " |")
        if self.footnotes:
            lines.append("")
            lines += [f"*{n}*" for n in self.footnotes]
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_latex(self, path: str | Path | None = None) -> str:
        """Render as a LaTeX ``table`` with a booktabs ``tabular``; write if ``path``."""
        ncol = len(self.columns)
        lines = ["\\begin{table}[htbp]", "\\centering"]
        if self.title:
            lines.append(f"\\caption{{{latex_escape(self.title)}}}")
        lines.append(f"\\begin{{tabular}}{{l{'r' * ncol}}}")
        lines.append("\\toprule")
        header = [self.stub_header, *self.columns]
        lines.append(" & ".join(latex_escape(h) for h in header) + " \\\\")
        lines.append("\\midrule")
        for label, cells, ind in self._rows():
            lab = ("\\quad " if ind else "") + latex_escape(label)
            lines.append(" & ".join([lab, *(latex_escape(c) for c in cells)]) + " \\\\")
        lines.append("\\bottomrule")
        lines.append("\\end{tabular}")
        if self.footnotes:
            lines.append("\\par\\smallskip")
            lines += [f"{{\\footnotesize {latex_escape(n)}}}\\par" for n in self.footnotes]
        lines.append("\\end{table}")
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """Export the cells (with the row labels as the first column) as CSV."""
        frame = self.body.copy()
        frame.index.name = self.stub_header or "row"
        text = frame.to_csv(lineterminator="\n")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_docx(self, path: str | Path, *, landscape: bool = False) -> Path:
        """Write a Word document holding the table, its title and footnotes.

        The document is built with python-docx: a bold caption paragraph, a real
        Word table with a bold header row, and italic footnote paragraphs.
        """
        from docx import Document
        from docx.enum.section import WD_ORIENT
        from docx.shared import Pt

        doc = Document()
        if landscape:
            sec = doc.sections[0]
            sec.orientation = WD_ORIENT.LANDSCAPE
            sec.page_width, sec.page_height = sec.page_height, sec.page_width
        if self.title:
            p = doc.add_paragraph()
            run = p.add_run(self.title)
            run.bold = True
        header = [self.stub_header, *self.columns]
        rows = self._rows()
        table = doc.add_table(rows=len(rows) + 1, cols=len(header))
        for j, h in enumerate(header):
            cell = table.cell(0, j)
            cell.text = h
            for r in cell.paragraphs[0].runs:
                r.bold = True
        for i, (label, cells, ind) in enumerate(rows, start=1):
            table.cell(i, 0).text = ("    " if ind else "") + label
            for j, c in enumerate(cells, start=1):
                table.cell(i, j).text = c
        for row in table.rows:
            for cell in row.cells:
                for par in cell.paragraphs:
                    for run in par.runs:
                        run.font.size = Pt(9)
        for n in self.footnotes:
            p = doc.add_paragraph()
            r = p.add_run(n)
            r.italic = True
            r.font.size = Pt(8)
        # fixed document metadata and zip timestamps: the same table gives the same bytes
        fixed = datetime(2000, 1, 1)
        doc.core_properties.created = fixed
        doc.core_properties.modified = fixed
        doc.core_properties.last_printed = fixed
        doc.core_properties.revision = 1
        buffer = io.BytesIO()
        doc.save(buffer)
        path = Path(path)
        _write_deterministic_zip(buffer.getvalue(), path)
        return path

    def save(self, path: str | Path) -> Path:
        """Write the table in the format given by the file extension.

        Supported: ``.html``, ``.htm``, ``.md``, ``.tex``, ``.docx``, ``.csv``. A missing
        folder, a read-only location or a full disk raises
        :class:`~mutualaid_outcomes.errors.OutputWriteError` naming the cause.
        """
        path = Path(path)
        ext = path.suffix.lower()
        if ext not in _EXPORTERS:
            raise FileFormatError(
                f"`path` has unsupported extension '{ext}' for a table; "
                f"use one of {', '.join(_EXPORTERS)}."
            )
        check_parent_folder(path)
        with os_errors_named(path):
            if ext in (".html", ".htm"):
                self.to_html(path, standalone=True)
            elif ext == ".md":
                self.to_markdown(path)
            elif ext == ".tex":
                self.to_latex(path)
            elif ext == ".csv":
                self.to_csv(path)
            else:
                self.to_docx(path)
        return path

    def __str__(self) -> str:
        return self.to_markdown()
