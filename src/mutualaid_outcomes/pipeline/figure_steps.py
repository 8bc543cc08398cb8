"""Stage 7 of a run: the ``[[figures]]``, each drawn by the handler of its ``type``.

``FIGURE_HANDLERS`` maps a figure step's ``type`` to a small function
``handler(step, ctx, where)`` that draws a figure and returns its Axes. Each plot
function makes its own figure, so that it is sized to its content (a forest plot to
its rows, a Kaplan-Meier figure to its number-at-risk table). A new figure kind is one
handler here and one value in
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

__all__ = ["FIGURE_HANDLERS", "make_figures", "figure_labels", "figure_caption"]

FigureHandler = Callable[["FigureStep", "RunContext", str], Any]


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


#: durations of these datasets are days (relapse_times, the counting-process intervals)
_DAY_DATASETS = ("relapse", "counting_process")


def _time_unit(f: FigureStep, ctx: RunContext) -> str | None:
    """The unit of a survival model's durations: days for the survival datasets."""
    step = next((m for m in ctx.spec.models if m.name == f.model), None)
    return "days" if step is not None and step.dataset in _DAY_DATASETS else None


def _km(f: FigureStep, ctx: RunContext, where: str) -> Any:
    from ..plotting import plot_km

    return plot_km(
        ctx.model(f.model, where),
        time_unit=_time_unit(f, ctx),
        labels=f.labels or None,
        codebook=figure_labels(ctx),
        min_cell=ctx.spec.output.min_cell,
    )


def _forest(f: FigureStep, ctx: RunContext, where: str) -> Any:
    from ..plotting import plot_forest

    return plot_forest(
        ctx.model(f.model, where),
        exponentiate=f.exponentiate,
        labels=f.labels or None,
        codebook=figure_labels(ctx),
        min_cell=ctx.spec.output.min_cell,
    )


def _path_diagram(f: FigureStep, ctx: RunContext, where: str) -> Any:
    from ..plotting import plot_path_diagram

    return plot_path_diagram(
        ctx.model(f.model, where),
        labels=f.labels or None,
        codebook=figure_labels(ctx),
        exposure=f.labels.get("exposure"),
        outcome=f.labels.get("outcome"),
    )


def _trajectories(f: FigureStep, ctx: RunContext, where: str) -> Any:
    from ..plotting import plot_trajectories

    if not (f.time and f.value):
        raise SpecError(f"{where}: trajectories need `time` and `value`.")
    return plot_trajectories(
        ctx.dataset(f.dataset, where),
        f.time,
        f.value,
        f.by,
        codebook=figure_labels(ctx),
        ylabel=f.labels.get(f.value),
        min_cell=ctx.spec.output.min_cell,
    )


def _calendar_strips(f: FigureStep, ctx: RunContext, where: str) -> Any:
    from ..plotting import plot_calendar_strips

    return plot_calendar_strips(
        ctx.dataset("calendar", where), rng=ctx.spec.seed, min_cell=ctx.spec.output.min_cell
    )


def _sensitivity(f: FigureStep, ctx: RunContext, where: str) -> Any:
    from ..plotting import plot_sensitivity

    return plot_sensitivity(ctx.model(f.model, where).sensitivity())


#: figure step ``type`` -> handler(step, ctx, where) -> the Axes it drew
FIGURE_HANDLERS: dict[str, FigureHandler] = {
    "km": _km,
    "forest": _forest,
    "path_diagram": _path_diagram,
    "trajectories": _trajectories,
    "calendar_strips": _calendar_strips,
    "sensitivity": _sensitivity,
}


def _lower(text: str) -> str:
    """Lower-case the first letter of a label inside a sentence, unless it is an acronym."""
    word = text.split(" ", 1)[0]
    return text if word[1:2].isupper() else text[:1].lower() + text[1:]


def figure_caption(f: FigureStep, ctx: RunContext) -> str:
    """The caption of a figure: its ``title``, else a sentence saying what it shows.

    Names come from the run's labels (a model's label is the ``[labels]`` entry of
    its name), so an untitled figure is not captioned with its file name.
    """
    if f.title:
        return f.title
    lab = spec_labels(ctx)
    # the model's label in brackets when [labels] gives one (not its bare name)
    what = f" ({lab.variable(f.model)})" if f.model and lab.has_label(f.model) else ""
    if f.type == "km":
        by = getattr(ctx.models.get(f.model or ""), "by", None)
        text = "Kaplan-Meier estimates" + (f" by {_lower(lab.variable(by))}" if by else "")
        return f"{text}, with numbers at risk{what}"
    if f.type == "forest":
        from .._labels import ratio_label

        measure = ratio_label(ctx.models.get(f.model or "")) if f.exponentiate else "Estimate"
        return f"{measure}s with 95% confidence intervals{what}"
    if f.type == "path_diagram":
        return f"Path diagram with estimates and 95% confidence intervals{what}"
    if f.type == "trajectories" and f.value:
        value = f.labels.get(f.value) or lab.variable(f.value)
        by = f" by {_lower(lab.variable(f.by))}" if f.by else ""
        return f"Mean {_lower(value)} with 95% confidence intervals{by}"
    if f.type == "calendar_strips":
        return "Daily calendars of randomly chosen participants"
    if f.type == "sensitivity":
        return f"Sensitivity of the mediated effect to unmeasured confounding{what}"
    return f.name.replace("_", " ")  # pragma: no cover - every type is handled above


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
            ax = FIGURE_HANDLERS[f.type](f, ctx, f"figures[{i}] ({f.name})")
            fig = ax.figure
            # the title is the caption (report, file metadata), never drawn: see above
            meta = {"Title": figure_caption(f, ctx)}
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
