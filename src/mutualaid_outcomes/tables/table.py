"""The :class:`Table` object: one publication table, many output formats.

A table holds already-formatted text cells (rounding happened when it was built from
full-precision numbers), a title, notes and the layout a journal table needs: spanning
column headers (a two-level column index), indented level rows, heading rows, and
note markers on cells. It renders in Jupyter (HTML) and exports to Markdown, LaTeX
(booktabs and threeparttable), Word ``.docx`` (journal rules, content-sized columns,
landscape when wide), CSV and standalone HTML files.

Examples
--------
>>> import pandas as pd
>>> t = Table(pd.DataFrame({"Estimate": ["0.12"], "95% CI": ["[0.01, 0.23]"]},
...                        index=["Attendance"]), title="Table 2")
>>> print(t.to_markdown().splitlines()[4])
| Attendance | 0.12 | [0.01, 0.23] |
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._files import check_parent_folder, os_errors_named
from ..errors import ArgumentTypeError, DataValidationError, FileFormatError
from .formatting import get_style

__all__ = ["Table", "split_title"]

_EXPORTERS = (".html", ".htm", ".md", ".tex", ".docx", ".csv")
_TITLE = re.compile(r"^(?P<label>Table\s+[A-Za-z]?\d+[A-Za-z]?)[.:]?\s+(?P<caption>.+)$", re.S)


def split_title(title: str) -> tuple[str, str]:
    """Split ``"Table 1. Participant characteristics"`` into its label and caption.

    Examples
    --------
    >>> split_title("Table 2. Models"), split_title("Models")
    (('Table 2', 'Models'), ('', 'Models'))
    """
    m = _TITLE.match(title.strip())
    if not m:
        return "", title.strip()
    return m.group("label"), m.group("caption").strip()


@dataclass(frozen=True)
class Table:
    """A formatted publication table.

    Parameters
    ----------
    body : pandas.DataFrame
        Text cells; the index holds the row labels (the stub column). A two-level
        column index gives spanning headers: level 0 is the spanner (empty for none),
        level 1 the column header.
    title : str
        Caption; a leading ``"Table N."`` is kept as the table's number.
    footnotes : sequence of str
        General notes printed under the table (abbreviations, tests, suppressed cells).
    stub_header : str
        Header of the row-label column.
    indent : sequence of int or mapping int -> int
        Rows to indent one level (positions), or ``{position: level}``.
    numbers : pandas.DataFrame, optional
        The full-precision numbers behind the cells, for checking and reuse.
    style : {"apa", "jama", "nejm"} or JournalStyle
        Journal preset for the title and notes layout.
    markers : mapping (row, column) -> str
        Note markers shown as superscripts after a cell (column ``-1`` is the row label).
    marked_notes : mapping str -> str
        The notes those markers refer to, in order.
    heading_rows : sequence of int
        Rows that head a group of indented rows (a factor's name); shown without
        cells.
    """

    body: pd.DataFrame
    title: str = ""
    footnotes: Sequence[str] = ()
    stub_header: str = ""
    indent: Sequence[int] | Mapping[int, int] = ()
    numbers: pd.DataFrame | None = field(default=None, compare=False)
    style: Any = "apa"
    markers: Mapping[tuple[int, int], str] = field(default_factory=dict)
    marked_notes: Mapping[str, str] = field(default_factory=dict)
    heading_rows: Sequence[int] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.body, pd.DataFrame):
            raise ArgumentTypeError(f"`body` must be a DataFrame; got {type(self.body).__name__}.")
        body = self.body.astype(str).copy()
        if isinstance(body.columns, pd.MultiIndex) and body.columns.nlevels != 2:
            raise DataValidationError(
                f"`body` columns may have at most two levels (spanner, header); got "
                f"{body.columns.nlevels}."
            )
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "footnotes", tuple(str(n) for n in self.footnotes))
        levels = (
            {int(k): int(v) for k, v in self.indent.items()}
            if isinstance(self.indent, Mapping)
            else {int(i): 1 for i in self.indent}
        )
        object.__setattr__(self, "_levels", levels)
        object.__setattr__(self, "indent", tuple(sorted(levels)))
        object.__setattr__(self, "style", get_style(self.style))
        object.__setattr__(self, "markers", {tuple(k): str(v) for k, v in self.markers.items()})
        object.__setattr__(self, "marked_notes", dict(self.marked_notes))
        object.__setattr__(self, "heading_rows", tuple(int(i) for i in self.heading_rows))

    # ------------------------------------------------------------------ structure
    @property
    def columns(self) -> list[str]:
        """Column headers (the lower level when there are spanners)."""
        cols = self.body.columns
        if isinstance(cols, pd.MultiIndex):
            return [str(c) for c in cols.get_level_values(1)]
        return [str(c) for c in cols]

    @property
    def spanners(self) -> list[tuple[str, int, int]]:
        """Spanning headers as ``(label, first, last)`` column positions (inclusive)."""
        cols = self.body.columns
        if not isinstance(cols, pd.MultiIndex):
            return []
        top = [str(c) for c in cols.get_level_values(0)]
        out: list[tuple[str, int, int]] = []
        for j, lab in enumerate(top):
            if out and out[-1][0] == lab and out[-1][2] == j - 1:
                out[-1] = (lab, out[-1][1], j)
            else:
                out.append((lab, j, j))
        return [s for s in out if s[0]]

    def indent_level(self, row: int) -> int:
        """Indentation level of a row (0 for none)."""
        return self._levels.get(row, 0)  # type: ignore[attr-defined]

    def rows(self) -> list[tuple[str, list[str], int]]:
        """``(label, cells, indent level)`` per row."""
        out = []
        for i, (label, row) in enumerate(self.body.iterrows()):
            out.append((str(label), [str(v) for v in row.tolist()], self.indent_level(i)))
        return out

    @property
    def number_and_caption(self) -> tuple[str, str]:
        """The title split into its table number (``"Table 1"``) and caption."""
        return split_title(self.title)

    def notes(self) -> list[tuple[str, str]]:
        """All notes as ``(marker, text)``; general notes have an empty marker."""
        return [("", n) for n in self.footnotes] + list(self.marked_notes.items())

    def marker(self, row: int, col: int) -> str:
        """The note marker of a cell (``col=-1``: the row label), or ``""``."""
        return self.markers.get((row, col), "")

    # ------------------------------------------------------------------ renderers
    def to_html(self, path: str | Path | None = None, *, standalone: bool = False) -> str:
        """Render as an HTML ``<table>`` (a whole page when ``standalone``); write if ``path``.

        Styles are inline, so Jupyter's stylesheet cannot right-align the labels or
        hide the indentation of level rows.
        """
        from ._html import to_html

        text = to_html(self, standalone=standalone)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self, path: str | Path | None = None) -> str:
        """Render as a GitHub-flavoured Markdown table; write if ``path``."""
        from ._html import to_markdown

        text = to_markdown(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_latex(self, path: str | Path | None = None) -> str:
        r"""Render as a LaTeX ``table`` (booktabs rules, threeparttable notes); write if ``path``.

        Needs ``\usepackage{booktabs, threeparttable}`` in the preamble. The caption
        has no "Table N." prefix (LaTeX numbers tables itself).
        """
        from ._latex import to_latex

        text = to_latex(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """Export the cells (with the row labels as the first column) as CSV."""
        frame = self.body.copy()
        if isinstance(frame.columns, pd.MultiIndex):
            frame.columns = [f"{a}: {b}" if a else str(b) for a, b in frame.columns]
        frame.index.name = self.stub_header or "row"
        text = frame.to_csv(lineterminator="\n")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_docx(self, path: str | Path, *, landscape: bool | None = None) -> Path:
        """Write a Word document holding the table, its title and notes.

        Journal layout: rules above and below the column headers and under the last
        row, no vertical lines or cell grid; the label column and each numeric column
        as wide as their content; spanning headers with a rule under each; level rows
        indented by paragraph indent; estimates and intervals that never break (non-
        breaking spaces and hyphens); notes under the table in the journal's style.

        Parameters
        ----------
        path : path
            Output ``.docx`` file.
        landscape : bool, optional
            Page orientation; by default landscape only when the table is too wide
            for a portrait page.
        """
        from ._docx import write_docx

        return write_docx(self, Path(path), landscape=landscape)

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
