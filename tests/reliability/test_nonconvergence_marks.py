"""A model that did not converge is marked in every table that shows it and on the console.

Before, non-convergence was recorded only in ``glance()`` and in the report's warning
box: ``regression_table``, ``mediation_table`` and the pipeline's table files showed the
estimates of a diverged model exactly like those of a converged one, and ``mutualaid
run`` printed nothing. Now the header of such a model carries a dagger and a note under
the table says which model and why; the command line prints a warning line.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import mutualaid_outcomes as mo
from mutualaid_outcomes.cli import app
from mutualaid_outcomes.errors import DataWarning
from mutualaid_outcomes.results import BaseResult, glance_frame, wald_table

DAGGER = "\u2020"


def _quasi_separated() -> pd.DataFrame:
    """Group CA always relapses (quasi-complete separation); AA rows are mixed."""
    rng = np.random.default_rng(4)
    n = 120
    df = pd.DataFrame({"group": np.where(np.arange(n) % 2 == 0, "AA", "CA")})
    df["age"] = rng.uniform(20, 70, n)
    df["relapse"] = np.where(df["group"] == "CA", 1, rng.integers(0, 2, n))
    return df


@pytest.fixture(scope="module")
def diverged():
    with pytest.warns(DataWarning, match="Quasi-complete separation"):
        res = mo.fit_regression(_quasi_separated(), "relapse ~ C(group) + age", family="binomial")
    assert not bool(res.glance()["converged"].iloc[0])
    return res


@pytest.fixture(scope="module")
def converged():
    df = _quasi_separated()
    return mo.fit_regression(df, "relapse ~ age", family="binomial")


def test_single_model_table_marks_the_header_and_explains(diverged):
    table = mo.regression_table(diverged)
    assert any(str(c).endswith(DAGGER) for c in table.body.columns)
    note = [f for f in table.footnotes if f.startswith(DAGGER)]
    assert note and "did not converge: the model (" in note[0]
    assert "Quasi-complete separation" in note[0]
    for text in (table.to_html(), table.to_markdown()):
        assert DAGGER in text and "did not converge" in text
    assert f"{DAGGER}," in table.to_csv()  # the CSV keeps the body: the mark is in its header


def test_only_the_unconverged_model_is_marked(diverged, converged):
    table = mo.regression_table({"Age only": converged, "Group and age": diverged})
    heads = list(dict.fromkeys(table.body.columns.get_level_values(0)))
    assert heads == ["Age only", f"Group and age {DAGGER}"]
    assert any("did not converge: Group and age (" in f for f in table.footnotes)
    assert not any("Age only (" in f for f in table.footnotes)


def test_converged_models_are_not_marked(converged):
    table = mo.regression_table(converged)
    assert DAGGER not in table.to_csv()
    assert not any("converge" in f for f in table.footnotes)


class _Mediation(BaseResult):
    """A mediation result reduced to what mediation_table reads."""

    def __init__(self, converged: bool) -> None:
        self._converged = converged

    def _tidy(self, conf_level):
        return wald_table(["indirect[m]", "direct"], [0.1, 0.2], [0.05, 0.1], conf_level)

    def glance(self):
        return glance_frame(
            {"n": 50, "method": "bootstrap", "converged": self._converged, "message": "max_iter"},
            ["n", "method", "converged", "message"],
        )


def test_mediation_table_marks_an_unconverged_model():
    marked = mo.mediation_table(_Mediation(converged=False))
    assert f"Estimate {DAGGER}" in marked.body.columns
    assert any(
        f.startswith(f"{DAGGER} did not converge: the model (max_iter)") for f in marked.footnotes
    )
    plain = mo.mediation_table(_Mediation(converged=True))
    assert DAGGER not in plain.to_csv()


def _separated_spec(pipeline_project):
    raw = pipeline_project.raw()
    raw["derive"]["hi"] = "(group == 'CA') | (dose > 10)"
    raw["models"][0].update(formula="hi ~ C(group) + age", family="binomial")
    return pipeline_project.write(raw)


def test_pipeline_tables_and_console_mark_it(pipeline_project, tmp_path):
    spec = _separated_spec(pipeline_project)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(spec), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "did not converge" in res.output  # the console, not only report.html
    assert "model dose_response: n = 60 " + DAGGER in res.output
    csv = (out / "tables" / "table2.csv").read_text(encoding="utf-8")
    assert f"Estimate (95% CI) {DAGGER}" in csv
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "did not converge: the model (" in html


def test_python_pipeline_warns(pipeline_project, tmp_path):
    from mutualaid_outcomes.errors import ConvergenceWarning
    from mutualaid_outcomes.pipeline.runner import run_spec_file

    spec = _separated_spec(pipeline_project)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        run_spec_file(spec, tmp_path / "out")
    assert any(
        issubclass(w.category, ConvergenceWarning)
        and "dose_response did not converge" in str(w.message)
        for w in rec
    )
