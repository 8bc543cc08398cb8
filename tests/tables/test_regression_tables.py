import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes import fit_cox, fit_regression
from mutualaid_outcomes.datasets import load_sample
from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError
from mutualaid_outcomes.tables import (
    Table,
    merge_tables,
    regression_table,
    stack_tables,
    term_label,
    univariable_table,
)

DASH = "\u2014"


@pytest.fixture(scope="module")
def cohort():
    p = load_sample("participants")
    w = load_sample("waves")
    d = w[w.month == 12].merge(p, on="id")
    d["abstinent"] = (d.pda > 0.9).astype(float).where(d.pda.notna())
    return d, load_sample("codebook")


@pytest.fixture(scope="module")
def fits(cohort):
    d, _ = cohort
    return (
        fit_regression(d, "abstinent ~ C(arm) + age + sex", family="binomial"),
        fit_regression(d, "abstinent ~ C(arm) + age + sex + aa_days_pct", family="binomial"),
    )


def test_factor_reference_rows_and_binary_contrast(cohort, fits):
    _, cb = cohort
    t = regression_table(fits[0], exponentiate=True, codebook=cb)
    assert t.body.index.tolist() == [
        "Randomised treatment arm",
        "Cognitive-Behavioural Coping Skills (ref.)",
        "Motivational Enhancement",
        "Twelve-Step Facilitation",
        "Age at intake (years)",
        "Sex: Female vs Male",
        "N",
    ]
    assert t.heading_rows == (0,) and t.indent == (1, 2, 3)
    assert t.columns == ["OR (95% CI)", "p"]
    assert t.body.iloc[1, 0] == DASH
    # the cells are the exponentiated tidy() numbers, rounded
    td = fits[0].tidy(exponentiate=True).set_index("term")
    row = td.loc["C(arm)[T.MET]"]
    assert t.body.iloc[2, 0] == f"{row.estimate:.2f} [{row.conf_low:.2f}, {row.conf_high:.2f}]"
    assert t.body.loc["N"].iloc[0] == str(fits[0].nobs)
    assert not any("C(" in i or "[T." in i for i in t.body.index)
    flat = regression_table(fits[0], codebook=cb, reference_rows=False)
    assert "Randomised treatment arm: Motivational Enhancement vs Cognitive-Behavioural " \
        "Coping Skills" in flat.body.index  # fmt: skip


def test_models_side_by_side_with_spanners_and_events(cohort, fits):
    d, cb = cohort
    surv = pd.DataFrame({"t": np.arange(1, 41, dtype=float), "e": [1, 0] * 20,
                         "x": np.tile([0.0, 1.0, 2.0, 3.0], 10)})  # fmt: skip
    cox = fit_cox(surv, "t", "e", ["x"])
    t = regression_table(
        {"Abstinence": fits[1], "Relapse": cox}, exponentiate=[False, True], codebook=cb
    )
    assert [s[0] for s in t.spanners] == ["Abstinence", "Relapse"]
    assert t.columns == ["Estimate (95% CI)", "p", "HR (95% CI)", "p"]
    assert t.body.loc["Events"].tolist() == ["", "", "20", ""]
    # the reference row shows a dash only in the model that has the factor
    ref = t.body.loc["Cognitive-Behavioural Coping Skills (ref.)"].tolist()
    assert ref == ["\u2014", "", "", ""]
    assert t.numbers.groupby("model").size().to_dict() == {"Abstinence": 5, "Relapse": 1}
    assert t.footnotes == ("HR = hazard ratio.", f"{DASH} = reference category (ref.).")


def test_univariable_and_merge(cohort, fits):
    d, cb = cohort
    u = univariable_table(d, "abstinent", ["C(arm)", "age", "sex"], family="binomial",
                          exponentiate=True, codebook=cb)  # fmt: skip
    assert u.columns == ["N", "OR (95% CI)", "p"]
    single = fit_regression(d, "abstinent ~ age", family="binomial").tidy(exponentiate=True)
    age = u.numbers[(u.numbers.model == "age") & (u.numbers.term == "age")]
    assert age.estimate.iloc[0] == pytest.approx(single.estimate.iloc[1], rel=1e-12)
    assert u.body.loc["Randomised treatment arm", "N"] == str(len(d.dropna(subset=["abstinent"])))
    m = merge_tables(
        {
            "Univariable": u,
            "Multivariable": regression_table(fits[1], exponentiate=True, codebook=cb),
        }  # fmt: skip
    )
    assert m.spanners == [("Univariable", 0, 2), ("Multivariable", 3, 4)]
    assert m.body.index[:6].tolist() == u.body.index.tolist()
    assert m.heading_rows == (0,) and m.indent == (1, 2, 3)
    assert m.body.iloc[6][("Univariable", "p")] == ""
    assert m.body.iloc[6][("Multivariable", "p")] == "<.001"
    with pytest.raises(DataValidationError, match="two or more"):
        merge_tables([u])
    with pytest.raises(DataValidationError, match="spanning headers"):
        merge_tables([m, u])
    with pytest.raises(ArgumentTypeError, match="expected a Table"):
        merge_tables([u, "x"])


def test_stack_tables_heads_groups():
    a = Table(pd.DataFrame({"HR": ["1.2", "0.9"]}, index=["Age", "Sex"]))
    b = Table(pd.DataFrame({"HR": ["1.5", "1.1"]}, index=["Age", "Sex"]))
    s = stack_tables({"Men": a, "Women": b})
    assert s.body.index.tolist() == ["Men", "Age", "Sex", "Women", "Age", "Sex"]
    assert s.heading_rows == (0, 3) and s.indent == (1, 2, 4, 5)
    with pytest.raises(DataValidationError, match="same columns"):
        stack_tables([a, Table(pd.DataFrame({"OR": ["1"]}, index=["x"]))])


def test_term_labels_are_readable():
    assert term_label("C(arm, Treatment('CBT'))[T.MET]") == "arm: MET vs CBT"
    lab = {"variables": {"arm": "Arm"}, "values": {"arm": {"CBT": "CBT", "MET": "MET"}}}
    assert term_label("C(arm, Treatment('CBT'))[T.MET]", labels=lab) == "Arm: MET vs CBT"
    assert term_label("cesd_total") == "Depressive symptoms (CES-D)"
