"""Stage 7 of a run: the ``[[figures]]``, each drawn by the handler of its ``type``.

``FIGURE_HANDLERS`` maps a figure step's ``type`` to a small function
``handler(step, ctx, ax, where)`` that draws on the Axes it is given. A new figure
kind is one handler here and one value in
:class:`~mutualaid_outcomes.pipeline.spec.FigureStep`'s ``type``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import SpecError

if TYPE_CHECKING:
    from .context import RunContext
    from .spec import FigureStep

__all__ = ["FIGURE_HANDLERS", "make_figures"]

FigureHandler = Callable[["FigureStep", "RunContext", Any, str], None]


def _km(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_km

    plot_km(
        ctx.model(f.model, where),
        ax=ax,
        labels=f.labels or None,
        codebook=ctx.codebook,
        min_cell=ctx.spec.output.min_cell,
    )


def _forest(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_forest

    plot_forest(
        ctx.model(f.model, where), ax=ax, exponentiate=f.exponentiate, labels=f.labels or None
    )


def _path_diagram(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_path_diagram

    plot_path_diagram(
        ctx.model(f.model, where),
        ax=ax,
        labels=f.labels or None,
        codebook=ctx.codebook,
        exposure=f.labels.get("exposure"),
        outcome=f.labels.get("outcome"),
    )


def _trajectories(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_trajectories

    if not (f.time and f.value):
        raise SpecError(f"{where}: trajectories need `time` and `value`.")
    plot_trajectories(
        ctx.dataset(f.dataset, where),
        f.time,
        f.value,
        f.by,
        ax=ax,
        codebook=ctx.codebook,
        ylabel=f.labels.get(f.value),
        min_cell=ctx.spec.output.min_cell,
    )


def _calendar_strips(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_calendar_strips

    plot_calendar_strips(
        ctx.dataset("calendar", where), ax=ax, rng=ctx.spec.seed, min_cell=ctx.spec.output.min_cell
    )


def _sensitivity(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_sensitivity

    plot_sensitivity(ctx.model(f.model, where).sensitivity(), ax=ax)


#: figure step ``type`` -> handler(step, ctx, ax, where)
FIGURE_HANDLERS: dict[str, FigureHandler] = {
    "km": _km,
    "forest": _forest,
    "path_diagram": _path_diagram,
    "trajectories": _trajectories,
    "calendar_strips": _calendar_strips,
    "sensitivity": _sensitivity,
}


def make_figures(ctx: RunContext) -> None:
    """Draw every figure of the spec in the journal style and save it.

    Each figure is saved in each of ``output.figure_formats``; a PNG is always
    written too, for the report.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..plotting import publication_style, save_figure

    style = ctx.spec.output.style
    formats = tuple(ctx.spec.output.figure_formats)
    with publication_style(style if style in ("apa", "jama") else "apa", columns=2):
        for i, f in enumerate(ctx.spec.figures):
            fig, ax = plt.subplots()
            FIGURE_HANDLERS[f.type](f, ctx, ax, f"figures[{i}] ({f.name})")
            if f.title:
                ax.set_title(f.title)
            # one explicit file per format: a name may contain dots ("fig.v2")
            written = [
                w
                for ext in formats
                for w in save_figure(fig, ctx.tmp / "figures" / f"{f.name}.{ext}")
            ]
            pngs = [w for w in written if w.suffix == ".png"]
            if not pngs:
                pngs = save_figure(fig, ctx.tmp / "figures" / f"{f.name}.png")[:1]
            plt.close(fig)
            ctx.figures.extend(pngs)
