"""fit_cox and check_proportional_hazards against R survival 3.5.3 (tests/reference/survival_cox.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models.survival.cox import (
    COX_GLANCE_COLUMNS,
    check_proportional_hazards,
    fit_cox,
)

# deterministic quantities: R was run with eps = 1e-12, so both sides are converged
RTOL = 1e-6


@pytest.fixture(scope="module")
def lung(test_data) -> pd.DataFrame:
    """R survival's lung data with survival_cox.R's event and weight columns."""
    lung = test_data("surv_lung.csv")
    lung["dead"] = (lung["status"] == 2).astype(int)
    lung["w"] = 1 + (np.arange(1, len(lung) + 1) % 3) / 2
    return lung


@pytest.fixture(scope="module")
def vet(test_data) -> pd.DataFrame:
    return test_data("surv_veteran.csv")


@pytest.fixture(scope="module")
def ref(r_reference):
    """``ref(case, quantity)``: survival_cox.csv values indexed by term."""
    table = r_reference("survival_cox")

    def get(case: str, quantity: str) -> pd.Series:
        r = table[(table["case"] == case) & (table["quantity"] == quantity)]
        return r.set_index(r["term"].fillna(""))["value"]

    return get


def _fits(lung: pd.DataFrame, vet: pd.DataFrame, ties: str) -> dict:
    return {
        f"lung_{ties}": fit_cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], ties=ties),
        f"lung_strata_{ties}": fit_cox(
            lung, "time", "dead", ["age", "ph.ecog"], strata="sex", ties=ties
        ),
        f"lung_cluster_{ties}": fit_cox(
            lung, "time", "dead", ["age", "sex", "ph.karno"], cluster="inst", ties=ties
        ),
        f"lung_weights_{ties}": fit_cox(
            lung, "time", "dead", ["age", "sex"], weights="w", cov_type="model", ties=ties
        ),
        f"lung_weights_robust_{ties}": fit_cox(
            lung, "time", "dead", ["age", "sex"], weights="w", ties=ties
        ),
        f"veteran_{ties}": fit_cox(vet, "time", "status", ["trt", "karno", "age"], ties=ties),
        f"veteran_robust_{ties}": fit_cox(
            vet, "time", "status", ["trt", "karno", "age"], ties=ties, cov_type="robust"
        ),
        f"veteran_celltype_{ties}": fit_cox(
            vet, "time", "status", formula="~ trt + C(celltype) + karno", ties=ties
        ),
    }


@pytest.fixture(scope="module")
def fits(lung, vet) -> dict:
    """The fits of survival_cox.R, by case name."""
    return {**_fits(lung, vet, "efron"), **_fits(lung, vet, "breslow")}


CASES = sorted(
    f"{c}_{t}"
    for c in (
        "lung",
        "lung_strata",
        "lung_cluster",
        "lung_weights",
        "lung_weights_robust",
        "veteran",
        "veteran_robust",
        "veteran_celltype",
    )
    for t in ("efron", "breslow")
)


@pytest.mark.parametrize("case", CASES)
def test_matches_r_coxph(case, ref, fits):
    res = fits[case]
    tidy = res.tidy()
    np.testing.assert_allclose(tidy["estimate"], ref(case, "coef").to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(tidy["std_error"], ref(case, "se").to_numpy(), rtol=RTOL)
    naive = ref(case, "naive_se")
    if len(naive):
        np.testing.assert_allclose(np.sqrt(np.diag(res.naive_vcov)), naive.to_numpy(), rtol=RTOL)
    g = res.glance().iloc[0]
    for q, col in [
        ("loglik", "loglik"),
        ("loglik0", "loglik_null"),
        ("score", "score_statistic"),
        ("wald", "wald_statistic"),
        ("concordance", "concordance"),
        ("n", "n"),
        ("nevent", "n_events"),
    ]:
        assert g[col] == pytest.approx(ref(case, q).iloc[0], rel=RTOL), q
    rs = ref(case, "robust_score")
    if len(rs):
        assert g["robust_score_statistic"] == pytest.approx(rs.iloc[0], rel=RTOL)
    else:
        assert np.isnan(g["robust_score_statistic"])


@pytest.mark.parametrize("case", CASES)
def test_zph_matches_r(case, ref, fits):
    z = check_proportional_hazards(fits[case])
    np.testing.assert_allclose(z.table["chisq"], ref(case, "zph_chisq").to_numpy(), rtol=RTOL)
    np.testing.assert_array_equal(z.table["df"], ref(case, "zph_df").to_numpy())
    np.testing.assert_allclose(z.table["p_value"], ref(case, "zph_p").to_numpy(), rtol=RTOL)
    assert z.table["term"].iloc[-1] == "GLOBAL"


@pytest.mark.parametrize("transform", ["identity", "rank", "log"])
def test_zph_other_transforms(transform, ref, fits):
    res = fits["lung_efron"]
    z = res.check_proportional_hazards(transform=transform)
    r = ref(f"lung_zph_{transform}", "zph_chisq")
    np.testing.assert_allclose(z.table["chisq"], r.to_numpy(), rtol=RTOL)
    assert z.glance()["transform"].iloc[0] == transform


def test_zph_independent_of_row_order_with_ties(vet):
    vet = vet.copy()
    # heavy ties: coarsen times to 30-day bins
    vet["t30"] = np.ceil(vet["time"] / 30)
    base = check_proportional_hazards(
        fit_cox(vet, "t30", "status", ["trt", "karno"], ties="breslow")
    )
    rng = np.random.default_rng(11)
    for _ in range(3):
        shuffled = vet.iloc[rng.permutation(len(vet))]
        z = check_proportional_hazards(
            fit_cox(shuffled, "t30", "status", ["trt", "karno"], ties="breslow")
        )
        np.testing.assert_allclose(z.table["chisq"], base.table["chisq"], rtol=1e-10)
        z_e = check_proportional_hazards(fit_cox(shuffled, "t30", "status", ["trt", "karno"]))
        z_e0 = check_proportional_hazards(fit_cox(vet, "t30", "status", ["trt", "karno"]))
        np.testing.assert_allclose(z_e.table["chisq"], z_e0.table["chisq"], rtol=1e-10)


def test_hazard_ratios_and_contract(fits):
    res = fits["lung_efron"]
    hr = res.tidy(exponentiate=True)
    np.testing.assert_allclose(hr["estimate"], np.exp(res.coef()))
    assert list(hr.columns[:7]) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    g = res.glance()
    assert list(g.columns) == list(COX_GLANCE_COLUMNS)
    assert g["n_dropped"].iloc[0] == 1  # one missing ph.ecog
    assert "excluded for missing values" in " ".join(res.notes)
    assert g["aic"].iloc[0] == pytest.approx(-2 * res.loglik + 2 * 3)
    assert g["lr_statistic"].iloc[0] == pytest.approx(2 * (res.loglik - res.loglik_null))
    text = res.summary(exponentiate=True).as_text()
    assert "ph.ecog" in text
    assert "<table" in res._repr_html_()


def test_recovers_simulated_hazard_ratio():
    rng = np.random.default_rng(5)
    n = 4000
    x = rng.normal(size=n)
    z = rng.binomial(1, 0.4, n)
    t = rng.exponential(1 / np.exp(0.5 * x - 0.7 * z))
    c = rng.exponential(2, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x": x, "z": z})
    tidy = fit_cox(df, "t", "e", ["x", "z"]).tidy()
    for est, lo, hi, truth in zip(
        tidy["estimate"], tidy["conf_low"], tidy["conf_high"], [0.5, -0.7]
    ):
        assert lo < truth < hi
        assert abs(est - truth) < 0.08


def test_does_not_mutate_input(lung):
    lung = lung.copy()
    before = lung.copy()
    fit_cox(lung, "time", "dead", ["age", "sex"], strata="ph.ecog", cluster="inst")
    pd.testing.assert_frame_equal(lung, before)


def test_duplicate_index_is_fine(lung):
    indexed = lung.set_index(np.zeros(len(lung), dtype=int))
    res = fit_cox(indexed, "time", "dead", ["age", "sex"])
    ref = fit_cox(lung, "time", "dead", ["age", "sex"])
    np.testing.assert_allclose(res.coef(), ref.coef())


# ---------------------------------------------------------------- bad input


def test_negative_duration(lung):
    df = lung.copy()
    df.loc[3, "time"] = -1
    with pytest.raises(DataValidationError, match="must be >= 0"):
        fit_cox(df, "time", "dead", ["age"])


def test_missing_duration_is_reported(lung):
    df = lung.copy()
    df.loc[[1, 2], "time"] = np.nan
    res = fit_cox(df, "time", "dead", ["age"])
    assert res.glance()["n_dropped"].iloc[0] == 2
    assert "time: 2" in " ".join(res.notes)


def test_event_not_binary(lung):
    with pytest.raises(DataValidationError, match=r"must be coded 0/1.*\[2\]"):
        fit_cox(lung, "time", "status", ["age"])


def test_no_events(lung):
    df = lung.assign(dead=0)
    with pytest.raises(EstimationError, match="no events"):
        fit_cox(df, "time", "dead", ["age"])


def test_covariate_constant_within_strata(lung):
    df = lung.copy()
    with pytest.raises(DataValidationError, match=r"\['sex'\] are constant within every stratum"):
        fit_cox(df, "time", "dead", ["age", "sex"], strata="sex")
    with pytest.raises(DataValidationError, match="constant"):
        fit_cox(df.assign(one=1.0), "time", "dead", ["age", "one"])


def test_monotone_likelihood_is_reported():
    rng = np.random.default_rng(3)
    n = 200
    x = rng.normal(size=n)
    sep = np.r_[np.ones(100), np.zeros(100)]
    t = np.r_[rng.uniform(0, 1, 100), rng.uniform(1, 2, 100)]  # sep = 1 always fails first
    e = np.r_[np.ones(100), np.zeros(100)].astype(int)
    df = pd.DataFrame({"t": t, "e": e, "x": x, "sep": sep})
    with pytest.warns(ConvergenceWarning, match="Monotone likelihood"):
        res = fit_cox(df, "t", "e", ["x", "sep"])
    tidy = res.tidy().set_index("term")
    assert tidy.loc["sep", "estimate"] == np.inf
    assert np.isnan(tidy.loc["sep", "std_error"])
    assert np.isfinite(tidy.loc["x", "estimate"])
    assert not res.glance()["converged"].iloc[0]
    assert res.infinite_terms == ("sep",)
    with pytest.raises(EstimationError, match="infinite"):
        check_proportional_hazards(res)


def test_argument_errors(lung, fits):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'age'"):
        fit_cox(lung, "time", "dead", ["agee"])
    with pytest.raises(OptionError, match="`ties` must be one of 'efron', 'breslow'"):
        fit_cox(lung, "time", "dead", ["age"], ties="exact")
    with pytest.raises(OptionError, match="either `covariates` or `formula`"):
        fit_cox(lung, "time", "dead", ["age"], formula="~ sex")
    with pytest.raises(ArgumentTypeError, match="DataFrame"):
        fit_cox(lung.to_numpy(), "time", "dead", ["age"])
    with pytest.raises(OptionError, match="`cluster` was given with cov_type='model'"):
        fit_cox(lung, "time", "dead", ["age"], cluster="inst", cov_type="model")
    with pytest.raises(ArgumentTypeError, match="`robust`, which was renamed `cov_type`"):
        fit_cox(lung, "time", "dead", ["age"], robust=True)
    with pytest.raises(OptionError, match="`cov_type` must be one of 'model', 'robust'"):
        fit_cox(lung, "time", "dead", ["age"], cov_type="HC0")
    with pytest.raises(TypeError):
        fit_cox(lung, "time", "dead", ["age"], None, None, "inst")  # keyword-only options
    with pytest.raises(DataValidationError, match="weights"):
        fit_cox(lung.assign(w=-1.0), "time", "dead", ["age"], weights="w")
    with pytest.raises(ArgumentTypeError, match="CoxResult"):
        check_proportional_hazards("not a fit")
    with pytest.raises(OptionError, match="transform"):
        check_proportional_hazards(fits["lung_efron"], transform="sqrt")
