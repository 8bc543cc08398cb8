"""``validate`` checks everything that can be checked without fitting (issue 14, 6).

Each problem is found by ``mutualaid validate`` and by ``run`` before any model is
fitted, and all problems of a spec are reported at once.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app
from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.pipeline import runner
from mutualaid_outcomes.pipeline.runner import run_spec_file
from mutualaid_outcomes.pipeline.spec import validate_spec


@pytest.fixture
def no_fitting(monkeypatch):
    """Make fitting fail loudly, so a test shows its problem was found before it."""

    def fit_models(ctx):
        raise AssertionError("models were fitted before the spec was checked")

    stages = tuple((n, fit_models if n == "models" else f) for n, f in runner.STAGES)
    monkeypatch.setattr(runner, "STAGES", stages)


def _validate(spec):
    return CliRunner().invoke(app, ["validate", str(spec)])


def _problem(pipeline_project, tmp_path, raw, pattern):
    """Assert ``validate`` and ``run`` both report ``pattern``, and nothing is fitted."""
    spec = pipeline_project.write(raw)
    res = _validate(spec)
    assert res.exit_code == 2, res.output
    assert pattern in res.output
    with pytest.raises(SpecError) as info:
        run_spec_file(spec, tmp_path / "out", progress=False)
    assert pattern in str(info.value)
    assert not (tmp_path / "out").exists()
    return str(info.value)


def test_a_valid_spec_validates(pipeline_project):
    res = _validate(pipeline_project.spec)
    assert res.exit_code == 0 and "valid" in res.output


def test_missing_data_file(pipeline_project, tmp_path, no_fitting):
    raw = pipeline_project.raw()
    raw["data"]["path"] = "data/cohrt.csv"
    _problem(pipeline_project, tmp_path, raw, "data/cohrt.csv' (resolved to")


def test_misspelt_instrument_suggests_the_right_one(pipeline_project):
    raw = pipeline_project.raw()
    raw["instruments"] = [{"instrument": "ces-d"}]
    spec = pipeline_project.write(raw)
    res = _validate(spec)
    assert res.exit_code == 2 and "ces-d" in res.output and "cesd" in res.output
    with pytest.raises(SpecError, match="did you mean 'cesd'|Did you mean 'cesd'"):
        validate_spec(raw)


def test_formula_column_missing_with_suggestion(pipeline_project, tmp_path, no_fitting):
    raw = pipeline_project.raw()
    raw["models"][0]["formula"] = "y ~ log_dos + C(group)"
    message = _problem(pipeline_project, tmp_path, raw, "column 'log_dos'")
    assert "Did you mean 'log_dose'" in message


def test_table_by_and_variables_must_exist(pipeline_project, tmp_path, no_fitting):
    raw = pipeline_project.raw()
    raw["tables"][0]["by"] = "grup"
    raw["tables"][0]["variables"] = ["age", "wieght"]
    message = _problem(pipeline_project, tmp_path, raw, "tables[0] (table1).by")
    assert "'grup'" in message and "'wieght'" in message and "Did you mean 'group'" in message


def test_derive_input_missing(pipeline_project, tmp_path, no_fitting):
    raw = pipeline_project.raw()
    raw["derive"] = {"log_dose": "log(doze)"}
    _problem(pipeline_project, tmp_path, raw, "derive.log_dose: column 'doze'")


def test_filter_and_role_columns_missing(pipeline_project, tmp_path, no_fitting):
    raw = pipeline_project.raw()
    raw["models"][0]["filter"] = "agee > 30"
    raw["models"][0]["cluster"] = "clinic"
    message = _problem(pipeline_project, tmp_path, raw, "column 'agee'")
    assert "column 'clinic'" in message


def test_columns_made_by_scoring_and_derive_are_known_without_fitting(pipeline_project):
    """A column that only scoring creates is accepted; the data need not hold it."""
    from mutualaid_outcomes.datasets import load_sample
    from mutualaid_outcomes.pipeline.runner import check_spec_file

    waves = load_sample("waves").head(600)
    waves.to_csv(pipeline_project.root / "data" / "waves.csv", index=False)
    raw = {
        "title": "scored",
        "seed": 1,
        "data": {"path": "data/waves.csv"},
        "instruments": [{"instrument": "cesd"}],
        "derive": {"cesd_high": "cesd_total >= 16", "cesd_z": "(cesd_total - 16) / 10"},
        "models": [
            {
                "name": "m",
                "type": "regression",
                "formula": "cesd_z ~ month + pda",
                "filter": "cesd_high or not cesd_high",
            }
        ],
        "tables": [{"name": "t1", "type": "table_one", "variables": ["cesd_total", "cesd_high"]}],
    }
    ctx = check_spec_file(pipeline_project.write(raw), progress=False)
    assert {"cesd_total", "cesd_high", "cesd_z"} <= set(ctx.data.columns)
    raw["derive"]["cesd_z"] = "(cesd_totl - 16) / 10"
    with pytest.raises(SpecError, match="column 'cesd_totl'.*Did you mean 'cesd_total'"):
        check_spec_file(pipeline_project.write(raw), progress=False)


def test_references_between_sections_resolve(pipeline_project):
    raw = pipeline_project.raw()
    raw["tables"][1]["models"] = ["dose_respons"]
    raw["figures"] = [{"name": "f", "type": "forest", "model": "nope"}]
    with pytest.raises(SpecError) as info:
        validate_spec(raw)
    message = str(info.value)
    assert "dose_respons" in message and "nope" in message


def test_all_problems_are_reported_at_once(pipeline_project, tmp_path, no_fitting):
    raw = pipeline_project.raw()
    raw["derive"] = {"log_dose": "log(doze)"}
    raw["models"][0]["formula"] = "y ~ log_dose + C(grp)"
    raw["tables"][0]["variables"] = ["age", "wieght"]
    message = _problem(pipeline_project, tmp_path, raw, "problems")
    for token in ("doze", "grp", "wieght"):
        assert f"'{token}'" in message
    assert message.count("\n  - ") >= 3


def test_all_spec_level_problems_are_reported_at_once(pipeline_project):
    raw = pipeline_project.raw()
    raw["instruments"] = [{"instrument": "ces-d"}]
    raw["tables"][0]["name"] = "../t1"
    raw["derive"] = {"x": "dose.__class__"}
    res = _validate(pipeline_project.write(raw))
    assert res.exit_code == 2
    for token in ("ces-d", "../t1", "dose.__class__"):
        assert token in res.output
