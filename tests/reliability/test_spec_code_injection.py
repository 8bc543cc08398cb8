"""A spec is data: no expression in it can run code (issue 14, section 1).

Every attack writes a harmless marker file; the tests check that the spec is refused
when it is read (``validate``), that ``run`` refuses it before touching the data, and
that the marker never appears.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app
from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.pipeline.runner import run_spec_file
from mutualaid_outcomes.pipeline.spec import validate_spec


def _attacks(marker):
    shell = f"touch {marker}"
    return {
        "formula": ("models", f"y ~ dose + I(__import__('os').system('{shell}'))"),
        "derive": ("derive", f"@pd.io.common.os.system('{shell}')"),
        "filter": ("filter", f"@pd.io.common.os.system('{shell}') == 0"),
        "formula_attribute": ("models", f"y ~ dose + np.os.system('{shell}')"),
        "derive_dunder": ("derive", "dose.__class__.__bases__[0].__subclasses__()"),
        "filter_call": ("filter", f"eval(\"__import__('os').system('{shell}')\") == 0"),
    }


def _spec_with(raw, where, text):
    if where == "models":
        raw["models"][0]["formula"] = text
    elif where == "derive":
        raw["derive"] = {"pwned": text}
    else:
        raw["models"][0]["filter"] = text
    return raw


@pytest.mark.parametrize(
    "attack",
    [
        "formula",
        "derive",
        "filter",
        "formula_attribute",
        "derive_dunder",
        "filter_call",
    ],
)
def test_code_in_a_spec_is_refused_when_read_and_never_runs(attack, pipeline_project, tmp_path):
    marker = tmp_path / f"MARKER_{attack}"
    where, text = _attacks(marker)[attack]
    raw = _spec_with(pipeline_project.raw(), where, text)
    with pytest.raises(SpecError, match="is refused") as info:
        validate_spec(raw)
    message = str(info.value)
    assert text in message
    assert {"models": "formula", "derive": "derive.pwned", "filter": "filter"}[where] in message
    spec = pipeline_project.write(raw)
    res = CliRunner().invoke(app, ["validate", str(spec)])
    assert res.exit_code == 2 and "is refused" in res.output
    with pytest.raises(SpecError, match="is refused"):
        run_spec_file(spec, tmp_path / "out", progress=False)
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("dose.values", "attribute access"),
        ("dose[0]", "subscripts"),
        ("(lambda: 1)()", "lambda"),
        ("[x for x in dose]", "comprehensions"),
        ("_secret + 1", "names starting with '_'"),
        ("@dose", "'@'"),
        ("open('x')", "not a function"),
        ("getattr(dose, 'x')", "not a function"),
        ("dose if age else 1", "conditional expressions"),
        ("2 ** 10 ** 10", "constant exponents"),
        ("'a' * 10 ** 9", "arithmetic on text"),
    ],
)
def test_every_refusal_names_the_key_the_expression_and_the_token(text, token):
    raw = {"data": {"path": "x.csv"}, "derive": {"new_col": text}}
    with pytest.raises(SpecError) as info:
        validate_spec(raw)
    message = str(info.value)
    assert "derive.new_col" in message and text in message and token in message


def test_all_refused_expressions_are_reported_at_once(pipeline_project):
    raw = pipeline_project.raw()
    raw["derive"] = {"a": "dose.x", "b": "__import__('os')"}
    raw["models"][0]["filter"] = "@pd"
    with pytest.raises(SpecError) as info:
        validate_spec(raw)
    message = str(info.value)
    assert "derive.a" in message and "derive.b" in message and "filter" in message


def test_allowed_expressions_compute_what_they_say(pipeline_project, tmp_path):
    raw = pipeline_project.raw()
    raw["derive"] = {
        "log_dose": "log(dose)",
        "high": "where(dose > 10, 1, 0)",
        "capped": "clip(age, 30, 60)",
        "age_c": "(age - 40) / 10",
        "grp_aa": "group in ['AA']",
        "miss": "isna(dose)",
        "root": "sqrt(abs(y))",
    }
    raw["models"][0]["filter"] = "age >= 25 and not (group == 'CA' and dose > 19)"
    raw["models"][0]["formula"] = "y ~ log_dose + C(group) + I(age_c ** 2)"
    res = run_spec_file(pipeline_project.write(raw), tmp_path / "out", progress=False)
    frame = pipeline_project.frame
    keep = (frame["age"] >= 25) & ~((frame["group"] == "CA") & (frame["dose"] > 19))
    assert res.models["dose_response"].nobs == int(keep.sum())
    # the same model fitted through the Python API on columns computed with numpy
    from mutualaid_outcomes.models.regression.glm import fit_regression

    direct = frame.loc[keep].assign(log_dose=np.log(frame["dose"]), age_c=(frame["age"] - 40) / 10)
    expected = fit_regression(direct, "y ~ log_dose + C(group) + I(age_c ** 2)")
    pd.testing.assert_series_equal(
        res.models["dose_response"].coef(), expected.coef(), rtol=1e-12, atol=0
    )


def test_derived_columns_match_numpy(pipeline_project):
    from mutualaid_outcomes.pipeline.evaluation import evaluate
    from mutualaid_outcomes.pipeline.expressions import check_expression

    frame = pipeline_project.frame
    cases = {
        "log(dose) * 2": np.log(frame["dose"]) * 2,
        "where(dose > 10, age, -age)": np.where(frame["dose"] > 10, frame["age"], -frame["age"]),
        "clip(age, 30, 60)": np.clip(frame["age"], 30, 60),
        "exp(-dose / 10)": np.exp(-frame["dose"] / 10),
    }
    for text, expected in cases.items():
        got = evaluate(check_expression(text, key="derive.t"), frame)
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, float))


def test_formula_functions_are_handed_on_in_the_engines_spelling():
    from mutualaid_outcomes.pipeline.expressions import check_formula

    checked = check_formula("y ~ log(dose) + C(group) + bs(age, df=3)", key="models[0].formula")
    assert checked.engine_text == "y ~ np.log(dose) + C(group) + bs(age, df=3)"
    assert checked.columns == ("y", "dose", "group", "age")


def test_the_python_api_keeps_full_formula_power(pipeline_project):
    """A formula typed in Python is the user's own code; only specs are checked."""
    from mutualaid_outcomes.models.regression.glm import fit_regression

    frame = pipeline_project.frame
    with pytest.raises(SpecError, match="np.power"):
        validate_spec({"data": {"path": "x.csv"}, "derive": {"d2": "np.power(dose, 2)"}})
    res = fit_regression(frame.assign(d2=frame["dose"] ** 2), "y ~ np.power(dose, 2)")
    alt = fit_regression(frame.assign(d2=frame["dose"] ** 2), "y ~ d2")
    np.testing.assert_allclose(res.coef().to_numpy(), alt.coef().to_numpy(), rtol=1e-10)
