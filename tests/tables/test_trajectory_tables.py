"""Trajectory parameter, fit and classification tables (tables/trajectory_tables.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from docx import Document

from mutualaid_outcomes.errors import ArgumentTypeError, ConvergenceWarning, DataValidationError
from mutualaid_outcomes.models.trajectories import compare_trajectories, fit_trajectories
from mutualaid_outcomes.tables import (
    trajectory_class_table,
    trajectory_fit_table,
    trajectory_table,
)


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(1)
    n, t = 240, np.arange(5.0)
    high = rng.random(n) < 0.4
    x = rng.normal(size=n) + high
    y = np.where(high[:, None], 6 + 1.0 * t - 0.1 * t**2, 2 - 0.3 * t) + rng.normal(size=(n, 5))
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 5),
            "month": np.tile(t, n),
            "x": np.repeat(x, 5),
            "score": y.ravel(),
            "count": rng.poisson(np.exp(np.where(high[:, None], 1.5, 0.2) + 0 * t)).ravel(),
        }
    )


@pytest.fixture(scope="module")
def common(panel):
    return fit_trajectories(panel, "id", "month", "score", 2, covariates=["x"], n_starts=4, rng=1)


def test_parameter_table_sections_cells_and_labels(common):
    t = trajectory_table(common, labels={"month": "Month", "x": "Age (SD)"})
    idx = t.body.index.tolist()
    s = common.shares
    assert idx[:4] == [f"Class 1 ({s[0]:.1%})", "Intercept", "Month", "Month²"]
    assert idx.index("All classes") == 8 and idx[9] == "Residual SD"  # common SD
    assert idx[-3:] == [
        "Class membership (reference: class 1)",
        "Class 2: Intercept",
        "Class 2: Age (SD)",
    ]
    section_rows = {0, 4, 8, 10}
    assert set(t.indent) == set(range(len(idx))) - section_rows
    td = common.tidy().set_index("term")
    for label, term in [
        ("Month²", "class1:month^2"),
        ("Residual SD", "sigma"),
        ("Class 2: Age (SD)", "membership:class2:x"),
    ]:
        row = t.body.iloc[idx.index(label)] if label != "Month²" else t.body.iloc[3]
        r = td.loc[term]
        assert row["Estimate"] == f"{r['estimate']:.2f}"
        assert row["SE"] == f"{r['std_error']:.2f}"
        assert row["95% CI"] == f"[{r['conf_low']:.2f}, {r['conf_high']:.2f}]"
    assert t.body.iloc[6]["Estimate"] == f"{td.loc['class2:month', 'estimate']:.2f}"
    assert t.numbers is not None and len(t.numbers) == len(td)
    assert t.footnotes[0].startswith("2-class normal trajectory model (identity link)")
    assert "degree 2 in Month (raw time); N = 240 persons, 1200 observations." in t.footnotes[0]
    assert f"BIC {common.glance()['bic'].iloc[0]:.1f}" in t.footnotes[1]


def test_group_variance_and_zip_rows(panel):
    grp = fit_trajectories(
        panel, "id", "month", "score", 2, variance="group", degree=1, n_starts=3, rng=1
    )
    t = trajectory_table(grp, conf_level=0.9)
    idx = t.body.index.tolist()
    assert idx.count("Residual SD") == 2 and "All classes" not in idx
    assert "90% CI" in t.columns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        z = fit_trajectories(panel, "id", "month", "count", 2, family="zip", degree=0,
                             n_starts=3, rng=1)  # fmt: skip
    tz = trajectory_table(z, style="jama")
    assert tz.body.index.tolist().count("Zero inflation (logit): Intercept") == 2
    assert "log link for the count part" in tz.footnotes[0]
    # boundary (zero-inflation at a limit) notes of the fit carry over to the table
    limit_notes = [n for n in z._notes_ if "at a limit" in n]
    assert all(n in tz.footnotes for n in limit_notes)


def test_fit_table_from_comparison_and_from_fits(panel, common):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cmp = compare_trajectories(
            panel, "id", "month", "score", 3, degree=1, n_starts=3, n_boot=3, rng=1
        )
    t = trajectory_fit_table(cmp)
    tab = cmp.table
    assert t.body.index.tolist() == ["1 class", "2 classes", "3 classes"]
    assert t.columns[-1] == "BLRT p"
    assert t.body.loc["1 class", "BLRT p"] == "–" and t.body.loc["1 class", "Entropy"] == "–"
    r2 = tab[tab["n_groups"] == 2].iloc[0]
    row = t.body.loc["2 classes"]
    assert row["BIC"] == f"{r2['bic']:.1f}" and row["Parameters"] == str(int(r2["df"]))
    assert row["Smallest class, %"] == f"{100 * r2['smallest_class']:.1f}"
    assert row["Min. AvePP"] == f"{r2['min_avepp']:.2f}"
    assert any("3 bootstrap samples" in n for n in t.footnotes)
    named = trajectory_fit_table({"Quadratic": common})
    g = common.glance().iloc[0]
    assert named.body.index.tolist() == ["Quadratic"] and "BLRT p" not in named.columns
    assert named.body.loc["Quadratic", "Log-likelihood"] == f"{g['loglik']:.1f}"
    assert trajectory_fit_table([common]).body.index.tolist() == ["Model 1"]


def test_class_table_matches_class_table(common):
    t = trajectory_class_table(common)
    ct = common.class_table()
    assert t.body.index.tolist() == ["Class 1", "Class 2"]
    n = int(ct["n_assigned"].sum())
    for i, r in ct.iterrows():
        row = t.body.iloc[i]
        assert row["Estimated share, %"] == f"{100 * r['share']:.1f}"
        assert row["Assigned, n (%)"] == f"{int(r['n_assigned'])} ({100 * r['n_assigned'] / n:.1f})"
        assert row["AvePP"] == f"{r['avepp']:.2f}"


def test_exports(tmp_path, common):
    t = trajectory_table(common, title="Table 3. Attendance trajectories")
    doc = Document(str(t.save(tmp_path / "traj.docx")))
    assert doc.tables[0].cell(1, 0).text.startswith("Class 1 (")
    assert "\\toprule" in t.to_latex() and "Class membership" in t.to_latex()
    assert "<table" in t.to_html() and "Class membership" in t.to_html()
    assert "| 2 classes |" in trajectory_fit_table({"2 classes": common}).to_markdown()


def test_bad_input(panel, common):
    with pytest.raises(ArgumentTypeError, match="must be a fitted trajectory model"):
        trajectory_table(panel)
    with pytest.raises(ArgumentTypeError, match=r"results\['b'\].*fitted trajectory model"):
        trajectory_fit_table({"a": common, "b": "x"})
    with pytest.raises(DataValidationError, match="`results` is empty"):
        trajectory_fit_table([])
    with pytest.raises(ArgumentTypeError, match="must be a fitted trajectory model"):
        trajectory_class_table(None)
