"""Self-contained HTML report of an analysis run (tables inline, figures embedded)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReportSection", "render_report", "png_css_width"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:60em;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{padding:3px 10px;text-align:left;vertical-align:top}
thead th{border-bottom:1px solid #000}caption{text-align:left;padding-bottom:.3em}
.mutualaid-summary caption{font-weight:bold}
tfoot td{border-top:1px solid #000;color:#555}
img{max-width:100%}.note{color:#555;font-size:.9em}
figure{margin:1.5em 0}figcaption{font-size:.9em;margin-top:.3em}
.warnings{background:#fff8e6;border-left:3px solid #e69f00;padding:.4em 1em;font-size:.9em}
.mutualaid-summary h4{margin-bottom:.3em}
section>table.mutualaid-table:first-child{margin-top:2em}
"""


@dataclass
class ReportSection:
    """One section of the report.

    Attributes
    ----------
    title : str
        Heading.
    html_blocks : list of str
        Ready HTML fragments (tables, summaries).
    figures : list of Path
        PNG files embedded as base64 images.
    notes : list of str
        Plain-text notes (escaped).
    captions : list of str
        Caption of each figure, in the order of ``figures`` (missing ones default to
        the file name with spaces for underscores). The report numbers figures
        across sections: "Figure 1. ...".
    warnings : list of str
        Texts of the warnings raised while building this part, shown in a box under
        the notes with their count.
    heading : bool
        Whether the section shows ``title`` as its heading. A section holding one
        table sets it False: the table's own numbered caption is its heading, and
        ``title`` only names the section in the contents.
    """

    title: str
    html_blocks: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    heading: bool = True


def png_css_width(data: bytes) -> int | None:
    r"""The CSS width (px, 96 per inch) that shows a PNG at its printed size.

    Read from the PNG's width and its ``pHYs`` resolution (matplotlib writes the dpi
    there), so figures saved at 300 dpi show their text at the same size whatever their
    pixel size; None when the file does not say its resolution.

    Examples
    --------
    >>> import struct
    >>> ihdr = struct.pack(">IIBBBBB", 1200, 600, 8, 2, 0, 0, 0)
    >>> phys = struct.pack(">IIB", 11811, 11811, 1)  # 300 dpi in pixels per metre
    >>> chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", 0)
    >>> png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"pHYs", phys)
    >>> png_css_width(png)
    384
    """
    import struct

    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 24:
        return None
    width = struct.unpack(">I", data[16:20])[0]
    at = data.find(b"pHYs", 8, 4096)
    if at < 0 or len(data) < at + 13:
        return None
    per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
    if unit != 1 or per_metre <= 0:
        return None
    return round(width / (per_metre * 0.0254) * 96)


def _img(path: Path, number: int, caption: str | None) -> str:
    raw = Path(path).read_bytes()
    data = base64.b64encode(raw).decode("ascii")
    text = caption or Path(path).stem.replace("_", " ")
    label = f"Figure {number}."
    width = png_css_width(raw)
    size = f" style='width:{width}px'" if width else ""
    return (
        f"<figure id='figure{number}'><img alt='{html.escape(f'{label} {text}')}'{size} "
        f"src='data:image/png;base64,{data}'><figcaption><b>{label}</b> "
        f"{html.escape(text)}</figcaption></figure>"
    )


def _warnings(texts: Sequence[str]) -> list[str]:
    if not texts:
        return []
    items = "".join(f"<li>{html.escape(t)}</li>" for t in texts)
    n = len(texts)
    head = f"{n} warning{'s' if n != 1 else ''}"
    return [f"<div class='warnings'><p><b>{head}</b></p><ul>{items}</ul></div>"]


def render_report(
    title: str,
    sections: Sequence[ReportSection],
    *,
    footer: str = "",
    path: str | Path | None = None,
) -> str:
    """Render the report as one HTML page that opens in any browser without other files.

    Examples
    --------
    >>> page = render_report("Demo", [ReportSection("Data", notes=["899 rows"])])
    >>> page.startswith("<!DOCTYPE html>") and "899 rows" in page
    True

    Figures are numbered across sections and captioned:

    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "km_relapse.png"
    >>> _ = png.write_bytes(b"PNG")
    >>> page = render_report("Demo", [ReportSection("Figures", figures=[png],
    ...     captions=["Time to relapse by arm"])])
    >>> "<b>Figure 1.</b> Time to relapse by arm" in page
    True
    """
    from ..tables._html import TABLE_CSS

    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_CSS}{TABLE_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if len(sections) > 1:
        parts.append("<nav><ol>")
        parts += [f"<li><a href='#s{i}'>{esc(s.title)}</a></li>" for i, s in enumerate(sections)]
        parts.append("</ol></nav>")
    number = 0
    for i, s in enumerate(sections):
        parts.append(f"<section id='s{i}'>")
        if s.heading:
            parts.append(f"<h2>{esc(s.title)}</h2>")
        parts += [f"<p class='note'>{esc(n)}</p>" for n in s.notes]
        parts += _warnings(s.warnings)
        parts += list(s.html_blocks)
        for k, f in enumerate(s.figures):
            number += 1
            parts.append(_img(f, number, s.captions[k] if k < len(s.captions) else None))
        parts.append("</section>")
    if footer:
        parts.append(f"<hr><p class='note'>{esc(footer)}</p>")
    parts.append("</body></html>")
    text = "\n".join(parts)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
