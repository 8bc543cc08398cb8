"""Stage 7 of a run: the ``[[figures]]``, each drawn by the handler of its ``type``.

``FIGURE_HANDLERS`` maps a figure step's ``type`` to a small function
``handler(step, ctx, ax, where)`` that draws on the Axes it is given. A new figure
kind is one handler here and one value in
:class:`~mutualaid_outcomes.pipeline.spec.FigureStep`'s ``type``.

Labels come from the same resolver as the tables' (the spec's ``[labels]`` over the
codebook and the instrument specs, :func:`~.table_steps.spec_labels`), handed to the
plotting functions as their ``codebook``; a figure step's own ``labels`` override it.

A figure's ``title`` is its caption: the report prints it under the figure ("Figure
2. ...") and the PDF/SVG files carry it as metadata, but it is not drawn in the
image, as journals set captions themselves and a drawn title would repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from .table_steps import spec_labels

if TYPE_CHECKING:
    from .._labels import Labels
    from .context import RunContext
    from .spec import FigureStep

__all__ = ["FIGURE_HANDLERS", "make_figures", "figure_labels"]

FigureHandler = Callable[["FigureStep", "RunContext", Any, str], None]


class _ResolverCodebook:
    """A label resolver in the codebook interface the plotting functions read.

    ``label(name)`` is the resolver's variable label (the name when it has none) and
    ``value_labels(name)`` its value labels, so the spec's ``[labels]``, the codebook
    and the instrument specs reach figures in the same order as tables.
    """

    def __init__(self, labels: Labels) -> None:
        self._labels = labels

    def label(self, name: str) -> str:
        return self._labels.variable(name)

    def value_labels(self, name: str) -> dict[Any, str]:
        return self._labels.value_labels(name)

    def measurement(self, name: str) -> str | None:
        return self._labels.measurement(name)


def figure_labels(ctx: RunContext) -> Any:
    """The labels of a run's figures, as the ``codebook`` of the plotting functions.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from mutualaid_outcomes.pipeline.spec import LabelsSection
    >>> spec = SimpleNamespace(labels=LabelsSection(variables={"arm": "Treatment arm"},
    ...                                             values={"sex": {"1": "Woman"}}))
    >>> cb = figure_labels(SimpleNamespace(spec=spec, codebook=None))
    >>> cb.label("arm"), cb.value_labels("sex"), cb.label("cesd_total")
    ('Treatment arm', {'1': 'Woman'}, 'Depressive symptoms (CES-D)')
    """
    return _ResolverCodebook(spec_labels(ctx))


def _km(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_km

    plot_km(
        ctx.model(f.model, where),
        ax=ax,
        labels=f.labels or None,
        codebook=figure_labels(ctx),
        min_cell=ctx.spec.output.min_cell,
    )


def _forest(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_forest

    plot_forest(
        ctx.model(f.model, where),
        ax=ax,
        exponentiate=f.exponentiate,
        labels=f.labels or None,
        codebook=figure_labels(ctx),
        min_cell=ctx.spec.output.min_cell,
    )


def _path_diagram(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_path_diagram

    plot_path_diagram(
        ctx.model(f.model, where),
        ax=ax,
        labels=f.labels or None,
        codebook=figure_labels(ctx),
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
        codebook=figure_labels(ctx),
        ylabel=f.labels.get(f.value),
    )


def _calendar_strips(f: FigureStep, ctx: RunContext, ax: Any, where: str) -> None:
    from ..plotting import plot_calendar_strips

    plot_calendar_strips(ctx.dataset("calendar", where), ax=ax, rng=ctx.spec.seed)


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
            # the title is the caption (report, file metadata), never drawn: see above
            meta = {"Title": f.title} if f.title else None
            # one explicit file per format: a name may contain dots ("fig.v2")
            written = [
                w
                for ext in formats
                for w in save_figure(fig, ctx.tmp / "figures" / f"{f.name}.{ext}", metadata=meta)
            ]
            pngs = [w for w in written if w.suffix == ".png"]
            if not pngs:
                pngs = save_figure(fig, ctx.tmp / "figures" / f"{f.name}.png", metadata=meta)[:1]
            plt.close(fig)
            ctx.figures.extend(pngs)
