import inspect
import typing

import pytest

from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.pipeline.figure_steps import FIGURE_HANDLERS
from mutualaid_outcomes.pipeline.functions import (
    MODEL_FUNCTIONS,
    resolve_function,
    spec_parameters,
)
from mutualaid_outcomes.pipeline.runner import STAGES, run_analysis
from mutualaid_outcomes.pipeline.spec import FigureStep, ModelStep, TableStep, validate_spec
from mutualaid_outcomes.pipeline.table_steps import TABLE_HANDLERS


def _kinds(model) -> set[str]:
    return set(typing.get_args(model.model_fields["type"].annotation))


@pytest.mark.parametrize(
    ("step", "registry"),
    [(TableStep, TABLE_HANDLERS), (FigureStep, FIGURE_HANDLERS), (ModelStep, MODEL_FUNCTIONS)],
)
def test_every_spec_type_has_exactly_one_handler(step, registry):
    assert _kinds(step) == set(registry)


def test_stages_run_in_the_documented_order():
    assert [label for label, _ in STAGES] == [
        "load data",
        "check spec",
        "score instruments",
        "derive variables",
        "code participation",
        "check references",
        "survey design",
        "models",
        "meta-analyses",
        "structural equation models",
        "tables",
        "figures",
        "report",
    ]


def _spec(**extra):
    raw = {
        "title": "figures",
        "seed": 3,
        "data": {"path": "sample:waves", "columns": ["id", "month", "pda"]},
        "calendar": {"path": "sample:calendar"},
        "output": {"figure_formats": ["svg"], "table_formats": ["csv"]},
    }
    raw.update(extra)
    return validate_spec(raw)


def test_data_figures_are_drawn_and_a_png_is_always_made_for_the_report(tmp_path):
    spec = _spec(
        derive={"pda_pct": "pda * 100"},
        figures=[
            {"name": "strips", "type": "calendar_strips"},
            {"name": "traj", "type": "trajectories", "time": "month", "value": "pda_pct"},
        ],
    )
    res = run_analysis(spec, tmp_path / "out", progress=False)
    figures = sorted(p.name for p in (res.out_dir / "figures").iterdir())
    assert figures == ["strips.png", "strips.svg", "traj.png", "traj.svg"]
    assert (
        res.files["figures/traj.svg"]
        and "derived pda_pct = pda * 100" in (res.out_dir / "report.html").read_text()
    )


def test_a_model_figure_without_a_model_is_refused_when_the_spec_is_read():
    with pytest.raises(SpecError, match=r"figures\[0\] \(km\): needs `model`"):
        _spec(figures=[{"name": "km", "type": "km"}])


def test_trajectories_need_time_and_value():
    with pytest.raises(SpecError, match=r"figures\[0\] \(t\): trajectories need `time`"):
        _spec(figures=[{"name": "t", "type": "trajectories", "time": "month"}])


@pytest.mark.parametrize("kind", sorted(MODEL_FUNCTIONS))
def test_every_model_function_takes_data_first_and_spec_keys_are_its_keywords(kind):
    params = spec_parameters(kind)  # raises unless the first argument is `data`
    assert "data" not in params and "rng" not in params
    assert set(params) < set(inspect.signature(resolve_function(kind)).parameters)


def test_renamed_keys_name_their_replacement():
    base = {"title": "t", "seed": 1, "data": {"path": "sample:waves"}}
    gee = {"name": "m", "type": "gee", "formula": "y ~ x", "groups": "id"}
    with pytest.raises(SpecError, match=r"models\.0: .*'groups' was renamed 'id'"):
        validate_spec({**base, "models": [gee]})
    traj = {"name": "f", "type": "trajectories", "time": "month", "value": "pda", "group": "arm"}
    with pytest.raises(SpecError, match=r"figures\.0: .*`group` was renamed `by`"):
        validate_spec({**base, "figures": [traj]})


def test_a_trajectory_model_step_runs_with_the_spec_seed(tmp_path):
    spec = _spec(
        data={"path": "sample:waves", "columns": ["id", "month", "pda"]},
        models=[
            {
                "name": "traj_pda",
                "type": "trajectories",
                "id": "id",
                "time": "month",
                "outcome": "pda",
                "n_groups": 2,
                "degree": 1,
                "n_starts": 2,
            }
        ],
    )
    run = run_analysis(spec, tmp_path / "out", progress=False)
    result = run.models["traj_pda"]
    assert result.glance()["n_groups"].iloc[0] == 2
    assert result.nobs > 1000
    provenance = (tmp_path / "out" / "provenance.json").read_text()
    assert "traj_pda" in provenance


def test_a_trajectory_model_step_refuses_an_unknown_option():
    with pytest.raises(SpecError, match="n_class"):
        _spec(
            models=[
                {
                    "name": "t",
                    "type": "trajectories",
                    "id": "id",
                    "time": "month",
                    "outcome": "pda",
                    "n_groups": 2,
                    "n_class": 3,
                }
            ]
        )
