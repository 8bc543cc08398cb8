"""Behaviour, bad input and parameter recovery of the meta-analysis subpackage."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)
from mutualaid_outcomes.models.meta import (
    META_GLANCE_COLUMNS,
    effect_sizes,
    egger_test,
    influence_diagnostics,
    leave_one_out,
    meta_analysis,
    trim_and_fill,
)
from mutualaid_outcomes.models.meta._weighted import sum_p2, wls
from mutualaid_outcomes.models.meta.tau2 import estimate_tau2
from mutualaid_outcomes.results import TIDY_COLUMNS

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "meta_bcg.csv")
    raw = raw.assign(n1=raw.tpos + raw.tneg, n2=raw.cpos + raw.cneg)
    return effect_sizes(raw, "RR", events1="tpos", n1="n1", events2="cpos", n2="n2")


@pytest.fixture(scope="module")
def smd() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "meta_normand1999.csv")
    return effect_sizes(
        raw, "SMD", mean1="m1i", sd1="sd1i", n1="n1i", mean2="m2i", sd2="sd2i", n2="n2i"
    )


# ------------------------------------------------------------------------------ effect sizes


def test_effect_sizes_bad_input():
    df = pd.DataFrame({"e1": [1, 2], "n1": [10, 20], "e2": [3, 4], "n2": [10, 20]})
    roles = dict(events1="e1", n1="n1", events2="e2", n2="n2")
    with pytest.raises(OptionError, match="`measure` must be one of"):
        effect_sizes(df, "HR", **roles)
    with pytest.raises(DataValidationError, match="missing: `n2`"):
        effect_sizes(df, "OR", events1="e1", n1="n1", events2="e2")
    with pytest.raises(OptionError, match="`r` not used by measure='OR'"):
        effect_sizes(df, "OR", r="e1", **roles)
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'e2' or 'e1'"):
        effect_sizes(df, "OR", events1="e", n1="n1", events2="e2", n2="n2")
    with pytest.raises(DataValidationError, match="exceeds `n1`"):
        effect_sizes(df.assign(e1=[11, 2]), "OR", **roles)
    with pytest.raises(DataValidationError, match="`events2` has negative counts"):
        effect_sizes(df.assign(e2=[-1, 2]), "RR", **roles)
    with pytest.raises(DataValidationError, match="`n2` must be > 0"):
        effect_sizes(df.assign(n2=[0, 20], e2=[0, 1]), "RD", **roles)
    with pytest.raises(DataValidationError, match=r"must be numeric"):
        effect_sizes(df.assign(e1=["a", "b"]), "OR", **roles)
    with pytest.raises(DataValidationError, match="already has column"):
        effect_sizes(df.assign(yi=0.0), "OR", **roles)
    with pytest.raises(OptionError, match="`to` must be one of"):
        effect_sizes(df, "OR", to="some", **roles)
    with pytest.raises(DataValidationError, match="`add` must be"):
        effect_sizes(df, "OR", add=-1, **roles)
    corr = pd.DataFrame({"r": [0.2, 1.3], "n": [30, 40]})
    with pytest.raises(DataValidationError, match=r"`r` must lie in \[-1, 1\]"):
        effect_sizes(corr, "ZCOR", r="r", n="n")
    means = pd.DataFrame(
        {"m1": [1.0], "s1": [-1.0], "n1": [10], "m2": [0.0], "s2": [1.0], "n2": [10]}
    )
    with pytest.raises(DataValidationError, match="`sd1` is negative"):
        effect_sizes(means, "SMD", mean1="m1", sd1="s1", n1="n1", mean2="m2", sd2="s2", n2="n2")


def test_continuity_correction_is_reported():
    df = pd.DataFrame({"e1": [0, 2, 0], "n1": [10, 20, 15], "e2": [3, 4, 0], "n2": [10, 20, 15]})
    roles = dict(events1="e1", n1="n1", events2="e2", n2="n2")
    with pytest.warns(DataWarning, match="added 0.5 to every cell of 2 studies"):
        es = effect_sizes(df, "OR", **roles)
    assert es["corrected"].tolist() == [True, False, True]
    assert es.attrs["continuity"]["n_corrected"] == 2
    assert es.attrs["measure"] == "OR"
    # a*d / (b*c) with 0.5 added: (0.5 * 7.5) / (10.5 * 3.5)
    assert es.loc[0, "yi"] == pytest.approx(np.log(0.5 * 7.5 / (10.5 * 3.5)))
    with pytest.warns(DataWarning) as record:
        dropped = effect_sizes(df, "OR", drop00=True, **roles)
    messages = [str(w.message) for w in record]
    assert any("every cell of 1 studies" in m for m in messages)
    assert any("drop00=True: 1 studies" in m for m in messages)
    assert dropped["corrected"].tolist() == [True, False, False]
    assert np.isnan(dropped.loc[2, "yi"]) and not dropped.loc[2, "corrected"]
    with pytest.warns(DataWarning, match="could not be computed"):
        none = effect_sizes(df, "OR", to="none", **roles)
    assert none["yi"].isna().tolist() == [True, False, True]
    assert not df.columns.str.contains("yi").any()  # the caller's frame is untouched
    # the meta-analysis counts the studies without an effect
    with pytest.warns(SmallSampleWarning):
        res = meta_analysis(none)
    assert res.glance()["n_dropped"].iloc[0] == 2
    with pytest.warns(DataWarning):
        res2 = meta_analysis(effect_sizes(df, "OR", **roles), method="DL")
    assert any("Continuity correction" in n for n in res2.summary().notes)


def test_missing_inputs_give_missing_effects_without_warning():
    df = pd.DataFrame({"r": [0.2, np.nan, 0.4], "n": [30, 40, 50]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        es = effect_sizes(df, "COR", r="r", n="n")
    assert es["yi"].isna().tolist() == [False, True, False]


# ----------------------------------------------------------------------------- meta_analysis


def test_result_contract(bcg):
    before = bcg.copy()
    res = meta_analysis(bcg, moderators=["ablat"], test="knha", study="author")
    pd.testing.assert_frame_equal(bcg, before)
    tidy = res.tidy()
    assert list(tidy.columns[:7]) == list(TIDY_COLUMNS)
    assert list(res.glance().columns) == list(META_GLANCE_COLUMNS)
    assert res.terms == ("Intercept", "ablat")
    assert list(res.coef().index) == list(res.terms)
    assert res.vcov().shape == (2, 2) and res.nobs == 13 and res.df_resid == 11
    text = res.summary().as_text()
    assert "Mixed-effects meta-regression (REML, Knapp-Hartung, RR; k = 13)" in text
    assert "<table" in res.summary().as_html() and "tabular" in res.summary().as_latex()
    assert res.studies()["study"].iloc[0] == "Aronson"
    ratio = res.tidy(exponentiate=True)
    np.testing.assert_allclose(ratio["estimate"], np.exp(tidy["estimate"]))


def test_se_equals_variance(bcg):
    a = meta_analysis(bcg)
    b = meta_analysis(bcg.assign(sei=np.sqrt(bcg.vi)), se="sei")
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())


def test_meta_analysis_bad_input(bcg, smd):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'yi'"):
        meta_analysis(bcg, effect="y")
    with pytest.raises(OptionError, match="either `variance` or `se`"):
        meta_analysis(bcg, variance="vi", se="vi")
    with pytest.raises(OptionError, match="`method` must be one of 'FE', 'DL'"):
        meta_analysis(bcg, method="EB")
    with pytest.raises(OptionError, match="`test` must be one of"):
        meta_analysis(bcg, test="t")
    with pytest.raises(ArgumentTypeError, match="lengths then always match"):
        meta_analysis(bcg, effect=[0.1, 0.2, 0.3], variance="vi")
    bad = bcg.assign(vi=bcg.vi.where(bcg.index != 2, 0.0))
    with pytest.raises(
        DataValidationError, match=r"`variance` \('vi'\) must be positive.*Rosenthal"
    ):
        meta_analysis(bad, study="author")
    with pytest.raises(DataValidationError, match=r"`se` \('sei'\) must be positive"):
        meta_analysis(bcg.assign(sei=-1.0), se="sei")
    with pytest.raises(DataValidationError, match="infinite values"):
        meta_analysis(bcg.assign(yi=np.inf))
    with pytest.raises(DataValidationError, match="`effect` must name numeric"):
        meta_analysis(bcg.assign(yi="a"))
    with pytest.raises(DataValidationError, match="single value 'random' in all 7 studies"):
        meta_analysis(bcg[bcg.alloc == "random"], moderators=["alloc"])
    with pytest.raises(DataValidationError, match="collinear"):
        meta_analysis(bcg.assign(lat2=2 * bcg.ablat), moderators=["ablat", "lat2"])
    with pytest.raises(OptionError, match="cannot be combined with `moderators`"):
        meta_analysis(bcg, moderators=["ablat"], by="alloc")
    with pytest.raises(DataValidationError, match="`by` \\('alloc'\\) has a single level"):
        meta_analysis(bcg[bcg.alloc == "random"], by="alloc")
    with pytest.raises(EstimationError, match="Too few studies: k = 2"):
        meta_analysis(bcg.iloc[:2], moderators=["ablat"])
    with pytest.raises(OptionError, match="not meaningful for measure 'SMD'"):
        meta_analysis(smd).tidy(exponentiate=True)
    with pytest.raises(DataValidationError, match="`tol` must be"):
        meta_analysis(bcg, tol=0.5)
    with pytest.raises(DataValidationError, match="model has no moderators"):
        meta_analysis(bcg).predict(bcg)
    with pytest.raises(DataValidationError, match="lacks the moderator"):
        meta_analysis(bcg, moderators=["ablat"]).predict(pd.DataFrame({"x": [1]}))


def test_single_study_is_fixed_effect_and_says_so(bcg):
    with pytest.warns(SmallSampleWarning, match="Only one study"):
        res = meta_analysis(bcg.iloc[[3]], method="REML", test="knha")
    assert res.method == "FE" and res.method_requested == "REML" and res.test == "z"
    assert any("Only one study" in n for n in res.summary().notes)
    assert res.tidy()["estimate"].iloc[0] == pytest.approx(bcg.yi.iloc[3])
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(np.sqrt(bcg.vi.iloc[3]))
    # a subgroup with one study is fitted the same way, noted in the overall result
    sub = bcg.assign(grp=["a"] + ["b"] * 12)
    res = meta_analysis(sub, by="grp")
    assert res.subgroup_results["a"].method == "FE"
    assert any("Subgroup grp=a" in n for n in res.notes)


def test_missing_rows_are_reported(bcg):
    res = meta_analysis(bcg.assign(ablat=bcg.ablat.where(bcg.index > 1)), moderators=["ablat"])
    assert res.nobs == 11 and res.glance()["n_dropped"].iloc[0] == 2
    assert "Used 11 of 13 studies; 2 excluded" in res.summary().notes[0]
    assert res.studies()["study"].iloc[0] == "Study 3"


def test_categorical_moderator_order_and_prediction(bcg):
    res = meta_analysis(bcg, moderators=["ablat", "alloc"])
    assert res.terms == ("Intercept", "ablat", "alloc[T.random]", "alloc[T.systematic]")
    new = pd.DataFrame({"ablat": [20.0, 40.0], "alloc": ["random", "systematic"]})
    pred = res.predict(new)
    b = res.coef()
    np.testing.assert_allclose(
        pred["estimate"],
        [b.iloc[0] + 20 * b.iloc[1] + b.iloc[2], b.iloc[0] + 40 * b.iloc[1] + b.iloc[3]],
    )


def test_diagnostics_bad_input(bcg):
    reg = meta_analysis(bcg, moderators=["ablat"])
    with pytest.raises(OptionError, match="models without moderators"):
        leave_one_out(reg)
    with pytest.raises(OptionError, match="models without moderators"):
        trim_and_fill(reg)
    with pytest.raises(OptionError, match="needs the result of meta_analysis"):
        egger_test(bcg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = meta_analysis(bcg.iloc[[0]])
    with pytest.raises(EstimationError, match="at least two studies"):
        influence_diagnostics(one)
    equal = meta_analysis(bcg.assign(vi=0.1))
    with pytest.raises(EstimationError, match="different standard errors"):
        egger_test(equal)
    with pytest.raises(OptionError, match="`estimator` must be one of"):
        trim_and_fill(meta_analysis(bcg), estimator="L1")


def test_diagnostic_results_render(bcg):
    res = meta_analysis(bcg, study="author")
    for out in (
        leave_one_out(res),
        influence_diagnostics(res),
        egger_test(res),
        trim_and_fill(res),
    ):
        assert list(out.tidy().columns[:7]) == list(TIDY_COLUMNS)
        assert len(out.glance()) == 1
        assert out.summary().as_text()
    assert leave_one_out(res).tidy()["term"].iloc[0] == "Aronson"
    tf = trim_and_fill(res)
    assert tf.studies()["study"].iloc[-1] == "Filled 1"
    assert tf.tidy(exponentiate=True)["estimate"].iloc[0] == pytest.approx(
        np.exp(tf.tidy()["estimate"].iloc[0])
    )


# -------------------------------------------------------------------- independent checks


def test_trace_identities_match_dense_matrices():
    rng = np.random.default_rng(7)
    k = 9
    X = np.column_stack([np.ones(k), rng.normal(size=k), rng.normal(size=k)])
    y, v = rng.normal(size=k), rng.uniform(0.05, 0.5, k)
    w = 1 / (v + 0.2)
    fit = wls(y, X, w)
    W = np.diag(w)
    P = W - W @ X @ np.linalg.inv(X.T @ W @ X) @ X.T @ W
    V = np.diag(v)
    assert fit.trace_p == pytest.approx(np.trace(P), rel=1e-12)
    assert fit.rss == pytest.approx(y @ P @ y, rel=1e-12)
    assert fit.ppy == pytest.approx(y @ P @ P @ y, rel=1e-12)
    assert sum_p2(fit) == pytest.approx(np.sum(P * P), rel=1e-12)
    assert sum_p2(fit, v, v) == pytest.approx(np.sum((P @ V) * (P @ V).T), rel=1e-12)
    assert sum_p2(fit, 1.0, v) == pytest.approx(np.sum((P @ V) * P), rel=1e-12)


def _reml_loglik(t2, y, v, X):
    w = 1 / (v + t2)
    fit = wls(y, X, w)
    return -0.5 * (np.sum(np.log(v + t2)) + np.linalg.slogdet(X.T @ (w[:, None] * X))[1] + fit.rss)


def test_reml_is_the_likelihood_maximum(bcg):
    """Fisher scoring reaches the maximum found by a general-purpose optimiser."""
    y, v = bcg.yi.to_numpy(), bcg.vi.to_numpy()
    X = np.column_stack([np.ones(len(y)), bcg.ablat])
    opt = optimize.minimize_scalar(
        lambda t: -_reml_loglik(t, y, v, X),
        bounds=(0, 5),
        method="bounded",
        options={"xatol": 1e-12},
    )
    est = estimate_tau2(y, v, X, "REML")
    assert est.tau2 == pytest.approx(opt.x, rel=1e-6)


def test_parameter_recovery_on_simulated_studies():
    """k = 400 simulated studies with known mu and tau^2: estimates within 4 SEs."""
    rng = np.random.default_rng(20240519)
    k, mu, tau2 = 400, 0.3, 0.05
    v = rng.uniform(0.01, 0.2, k)
    y = mu + rng.normal(0, np.sqrt(tau2), k) + rng.normal(0, np.sqrt(v))
    df = pd.DataFrame({"yi": y, "vi": v})
    for method in ("REML", "ML", "DL", "PM", "HE", "SJ"):
        res = meta_analysis(df, method=method)
        row = res.tidy().iloc[0]
        g = res.glance().iloc[0]
        assert abs(row["estimate"] - mu) < 4 * row["std_error"], method
        if method == "SJ":
            # Sidik-Jonkman is biased upwards when tau^2 is small next to the v_i
            # (Veroniki et al. 2016); here 0.085 for a true 0.05.
            assert g["tau2"] > tau2
            continue
        assert abs(g["tau2"] - tau2) < 4 * g["se_tau2"], method
        assert g["tau2_low"] < tau2 < g["tau2_high"], method
    # a moderator with a known slope
    x = rng.normal(size=k)
    df2 = pd.DataFrame({"yi": y + 0.5 * x, "vi": v, "x": x})
    res = meta_analysis(df2, moderators=["x"])
    row = res.tidy().set_index("term").loc["x"]
    assert abs(row["estimate"] - 0.5) < 4 * row["std_error"]


def test_boundary_tau2_is_exactly_zero():
    """Homogeneous effects: REML and ML stop at tau^2 = 0 (the boundary maximum)."""
    df = pd.DataFrame({"yi": [0.10, 0.11, 0.09, 0.10, 0.12], "vi": [0.05, 0.04, 0.06, 0.05, 0.03]})
    for method in ("REML", "ML", "DL", "PM"):
        res = meta_analysis(df, method=method)
        assert res.fit.tau2.tau2 == 0.0, method
        het = res.heterogeneity().set_index("parameter")
        assert het.loc["tau2", "conf_low"] == 0.0 and het.loc["tau2", "conf_high"] == 0.0
