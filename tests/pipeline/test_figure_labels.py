"""Figures of a run take the spec's [labels] and leave their title to the caption."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.models.survival.cox import fit_cox  # noqa: E402
from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier  # noqa: E402
from mutualaid_outcomes.pipeline import figure_steps  # noqa: E402
from mutualaid_outcomes.pipeline.context import RunContext  # noqa: E402
from mutualaid_outcomes.pipeline.spec import validate_spec  # noqa: E402

LABELS = {
    "variables": {"arm": "Treatment arm", "female": "Sex", "duration": "Days to relapse"},
    "values": {
        "arm": {"A": "Coping skills", "B": "Twelve-step facilitation"},
        "female": {"0": "Man", "1": "Woman"},
    },
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    g = np.random.default_rng(2)
    n = 240
    arm = g.choice(["A", "B"], n)
    female = g.integers(0, 2, n)
    t = np.ceil(g.exponential(np.where(arm == "B", 300, 200)))
    c = g.integers(60, 400, n)
    return pd.DataFrame(
        {"duration": np.minimum(t, c), "event": (t <= c).astype(int)}
        | {"arm": arm, "female": female}
    )


def _context(tmp_path, frame, figures, *, labels=LABELS) -> RunContext:
    raw = {
        "title": "Figures",
        "seed": 1,
        "data": {"path": "sample:waves"},
        "models": [
            {
                "name": "km",
                "type": "kaplan_meier",
                "duration": "duration",
                "event": "event",
                "by": "arm",
            },
            {
                "name": "cox",
                "type": "cox",
                "duration": "duration",
                "event": "event",
                "covariates": ["arm", "female"],
            },
        ],  # fmt: skip
        "figures": figures,
        "labels": labels,
        "output": {"figure_formats": ["pdf", "png"], "min_cell": None},
    }
    spec = validate_spec(raw)
    (tmp_path / "figures").mkdir(exist_ok=True)
    km = kaplan_meier(frame, "duration", "event", by="arm")
    cox = fit_cox(frame, "duration", "event", formula="C(arm) + female")
    return RunContext(spec=spec, base_dir=tmp_path, tmp=tmp_path, models={"km": km, "cox": cox})


def _drawn(monkeypatch) -> dict:
    """Record the Axes each figure handler drew on, by figure type."""
    axes: dict = {}
    for kind, handler in list(figure_steps.FIGURE_HANDLERS.items()):

        def wrapped(f, ctx, where, _handler=handler, _kind=kind):
            axes[_kind] = _handler(f, ctx, where)
            return axes[_kind]

        monkeypatch.setitem(figure_steps.FIGURE_HANDLERS, kind, wrapped)
    return axes


def test_km_figure_takes_the_spec_labels(tmp_path, frame, monkeypatch):
    axes = _drawn(monkeypatch)
    ctx = _context(tmp_path, frame, [{"name": "km_arm", "type": "km", "model": "km"}])
    figure_steps.make_figures(ctx)
    leg = axes["km"].get_legend()
    assert [t.get_text() for t in leg.get_texts()] == ["Coping skills", "Twelve-step facilitation"]
    assert leg.get_title().get_text() == "Treatment arm"
    assert axes["km"].get_xlabel() == "Days to relapse"
    # the number-at-risk rows are named the same way
    risk = axes["km"].child_axes[0]
    assert [t.get_text() for t in risk.get_yticklabels()] == [
        "Coping skills",
        "Twelve-step facilitation",
    ]


def test_figure_labels_override_the_spec_labels(tmp_path, frame, monkeypatch):
    axes = _drawn(monkeypatch)
    figure = {"name": "km_arm", "type": "km", "model": "km", "labels": {"A": "CBT"}}
    figure_steps.make_figures(_context(tmp_path, frame, [figure]))
    texts = [t.get_text() for t in axes["km"].get_legend().get_texts()]
    assert texts == ["CBT", "Twelve-step facilitation"]


def test_forest_figure_rows_take_the_spec_labels(tmp_path, frame, monkeypatch):
    axes = _drawn(monkeypatch)
    figure = {"name": "forest", "type": "forest", "model": "cox", "exponentiate": True}
    figure_steps.make_figures(_context(tmp_path, frame, [figure]))
    rows = [t.get_text() for t in axes["forest"].get_yticklabels()]
    assert rows == [
        "Treatment arm: Twelve-step facilitation vs Coping skills",
        "Sex: Woman vs Man",
    ]
    assert axes["forest"].get_xlabel() == "Hazard ratio (95% CI)"


def test_title_is_the_caption_not_drawn(tmp_path, frame, monkeypatch):
    axes = _drawn(monkeypatch)
    title = "Time to relapse by arm"
    ctx = _context(tmp_path, frame, [{"name": "km_arm", "type": "km", "model": "km",
                                      "title": title}])  # fmt: skip
    figure_steps.make_figures(ctx)
    ax = axes["km"]
    assert ax.get_title() == "" and ax.get_title(loc="left") == ""
    assert ax.get_title(loc="right") == ""
    assert ax.figure._suptitle is None
    # the title travels with the files as metadata, for the report's caption
    assert title.encode() in (tmp_path / "figures" / "km_arm.png").read_bytes()
    pdf = (tmp_path / "figures" / "km_arm.pdf").read_bytes()
    assert b"/Title (Time to relapse by arm)" in pdf
    assert [p.name for p in ctx.figures] == ["km_arm.png"]


def test_without_labels_figures_fall_back_to_the_names(tmp_path, frame, monkeypatch):
    axes = _drawn(monkeypatch)
    ctx = _context(tmp_path, frame, [{"name": "km_arm", "type": "km", "model": "km"}], labels={})
    figure_steps.make_figures(ctx)
    assert [t.get_text() for t in axes["km"].get_legend().get_texts()] == ["A", "B"]
    assert axes["km"].get_legend().get_title().get_text() == "arm"


def test_untitled_figures_get_a_caption_from_their_content(tmp_path, frame):
    figures = [
        {"name": "km_arm", "type": "km", "model": "km"},
        {"name": "forest", "type": "forest", "model": "cox", "exponentiate": True},
    ]
    labels = {**LABELS, "variables": {**LABELS["variables"], "cox": "Time to relapse (Cox)"}}
    ctx = _context(tmp_path, frame, figures, labels=labels)
    km_step, forest_step = ctx.spec.figures
    assert figure_steps.figure_caption(km_step, ctx) == (
        "Kaplan-Meier estimates by treatment arm, with numbers at risk"
    )
    assert figure_steps.figure_caption(forest_step, ctx) == (
        "Hazard ratios with 95% confidence intervals (Time to relapse (Cox))"
    )


def test_forest_figure_is_sized_to_its_rows(tmp_path, frame, monkeypatch):
    axes = _drawn(monkeypatch)
    figure = {"name": "forest", "type": "forest", "model": "cox", "exponentiate": True}
    figure_steps.make_figures(_context(tmp_path, frame, [figure]))
    # two rows: the plot function's own figure (0.26 in a row), not a default canvas
    assert axes["forest"].figure.get_figheight() < 2.5
