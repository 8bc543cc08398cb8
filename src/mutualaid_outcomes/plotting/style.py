"""Journal figure style and saving.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> with publication_style("apa", columns=1):
...     fig, ax = plt.subplots()
...     w, h = fig.get_size_inches()
>>> round(float(w), 2)
3.5
>>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import check_parent_folder, os_errors_named
from .._validation import check_option
from ..errors import ArgumentTypeError, FileFormatError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # the rc parameter names (matplotlib >= 3.9)

__all__ = ["OKABE_ITO", "publication_style", "save_figure"]

#: Okabe & Ito (2008) colour-blind-safe palette (black first for single series).
OKABE_ITO = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)

_PRESETS: dict[str, dict[str, Any]] = {
    # single and double column widths in inches, base font size in points
    "apa": {"widths": (3.5, 7.0), "font": 9, "family": "sans-serif"},
    "jama": {"widths": (3.4, 7.0), "font": 8, "family": "sans-serif"},
    "nature": {"widths": (3.5, 7.2), "font": 7, "family": "sans-serif"},
}


@contextmanager
def publication_style(preset: str = "apa", columns: int = 1) -> Iterator[dict[RcKeyType, Any]]:
    """Temporarily set matplotlib to a journal's figure conventions.

    Parameters
    ----------
    preset : {"apa", "jama", "nature"}
        Journal family: sets figure width for one or two columns (about 3.5 in and
        7 in), font sizes, line widths and the Okabe-Ito colour-blind-safe palette.
    columns : {1, 2}
        Single- or double-column figure.

    Yields
    ------
    dict
        The rc parameters in force.

    Notes
    -----
    Uses :func:`matplotlib.rc_context`, so settings are restored on exit. PDF and
    PS output embed TrueType fonts (``pdf.fonttype = 42``) as journals require.
    """
    import matplotlib as mpl
    from matplotlib.rcsetup import cycler

    check_option(preset, tuple(_PRESETS), "preset")
    check_option(columns, (1, 2), "columns")
    p = _PRESETS[preset]
    width = p["widths"][columns - 1]
    fs = p["font"]
    rc: dict[RcKeyType, Any] = {
        "figure.figsize": (width, width * 0.75),
        "figure.dpi": 150,
        "savefig.dpi": 300,
        "font.size": fs,
        "font.family": p["family"],
        "axes.titlesize": fs + 1,
        "axes.labelsize": fs,
        "xtick.labelsize": fs - 1,
        "ytick.labelsize": fs - 1,
        "legend.fontsize": fs - 1,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.linewidth": 0.8,
        "lines.linewidth": 1.2,
        "lines.markersize": 4,
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "none",
    }
    with mpl.rc_context(rc):
        yield rc


def save_figure(
    fig: Any,
    path: str | Path,
    *,
    dpi: int = 300,
    formats: tuple[str, ...] | None = None,
    metadata: dict[str, str] | None = None,
) -> list[Path]:
    """Save a figure as PDF/SVG (embedded fonts) and/or PNG (>= 300 dpi).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (``ax.figure`` for an Axes).
    path : str or Path
        Target file; its extension chooses the format. Without an extension, every
        format in ``formats`` is written.
    dpi : int
        Raster resolution, at least 300.
    formats : tuple of str, optional
        Extensions to write when ``path`` has none; default ``("pdf", "png")``.
    metadata : dict of str, optional
        Document metadata written into PDF, SVG and PNG files, e.g. ``{"Title":
        caption}`` (a caption kept with the file rather than drawn in it).

    Returns
    -------
    list of Path
        Files written.

    Raises
    ------
    FileFormatError
        For an unsupported extension or ``dpi`` below 300.
    ArgumentTypeError
        If ``metadata`` is not a mapping of text to text.
    OutputWriteError
        If the folder of ``path`` does not exist or a file cannot be written (the
        message names the operating system's cause, e.g. a full disk).
    """
    if metadata is not None and not (
        isinstance(metadata, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise ArgumentTypeError(
            f"`metadata` must be a dict of text to text, e.g. {{'Title': '...'}}; got {metadata!r}."
        )
    if dpi < 300:
        raise FileFormatError(f"`dpi` must be at least 300 for publication figures; got {dpi}.")
    path = check_parent_folder(path)
    allowed = ("pdf", "svg", "png", "eps", "tiff")
    if path.suffix:
        exts = [path.suffix.lower().lstrip(".")]
        base = path.with_suffix("")
    else:
        exts = list(formats or ("pdf", "png"))
        base = path
    bad = [e for e in exts if e not in allowed]
    if bad:
        raise FileFormatError(
            f"`path` has unsupported figure format {bad}; use one of {', '.join(allowed)}."
        )
    written = []
    import matplotlib as mpl

    with mpl.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}):
        for ext in exts:
            out = base.with_name(f"{base.name}.{ext}")  # keeps dots in the name
            meta = (
                {"CreationDate": None}
                if ext == "pdf"
                else ({"Date": None} if ext == "svg" else None)
            )
            if metadata and ext in ("pdf", "svg", "png"):
                meta = {**(meta or {}), **metadata}
            kwargs: dict[str, Any] = {"bbox_inches": "tight"}
            if meta is not None:
                kwargs["metadata"] = meta
            with os_errors_named(out):
                fig.savefig(out, dpi=dpi, **kwargs)
            written.append(out)
    return written
