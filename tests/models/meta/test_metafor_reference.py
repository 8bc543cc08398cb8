"""The meta-analysis subpackage against R metafor 3.8.1 (tests/reference/meta_metafor.R).

The R script fits metafor on published data from metadat with Fisher scoring and root
finding run to full convergence (threshold 1e-10, tol 1e-13) and writes every quantity
compared here to tests/reference/meta_metafor.csv; these tests never need R.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models.meta import (
    effect_sizes,
    egger_test,
    influence_diagnostics,
    leave_one_out,
    meta_analysis,
    trim_and_fill,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
REF = pd.read_csv(ROOT / "reference" / "meta_metafor.csv", comment="#")

RTOL = 1e-6  # deterministic quantities, both programs run to full convergence
# Effect sizes are closed-form arithmetic on the same inputs: agreement to rounding error.
ES_RTOL = 1e-12
# A tau^2 of exactly 0 (boundary) is reached by metafor's step-halving only to within its
# threshold (1e-10); quantities that are 0 in one program compare with this absolute slack.
ATOL = 1e-9

METHODS = ("FE", "DL", "HE", "SJ", "PM", "ML", "REML")
TESTS = ("z", "knha")


_REF = {
    key: pd.Series(g.value.to_numpy(dtype=float), index=g.term.fillna("").astype(str))
    for key, g in REF.groupby(["model", "quantity"], sort=False)
}


def ref(model: str, quantity: str) -> pd.Series:
    if (model, quantity) not in _REF:
        raise KeyError(f"no reference {model}/{quantity}")
    return _REF[(model, quantity)]


def has_ref(model: str, quantity: str) -> bool:
    return (model, quantity) in _REF


def close(got, expected, what, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(
        np.asarray(got, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=rtol,
        atol=atol,
        err_msg=what,
    )


def r_term(term: str, intercept_only: bool) -> str:
    if term == "intrcpt":
        return "overall" if intercept_only else "Intercept"
    if term.startswith("alloc"):
        return f"alloc[T.{term[5:]}]"
    return term


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _bcg() -> pd.DataFrame:
    bcg = pd.read_csv(DATA / "meta_bcg.csv")
    return bcg.assign(n1=bcg.tpos + bcg.tneg, n2=bcg.cpos + bcg.cneg)


MEANS = dict(mean1="m1i", sd1="sd1i", n1="n1i", mean2="m2i", sd2="sd2i", n2="n2i")


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    normand = pd.read_csv(DATA / "meta_normand1999.csv")
    hart = pd.read_csv(DATA / "meta_hart1999.csv")
    niel = pd.read_csv(DATA / "meta_nielweise2007.csv")
    bcg = _bcg()
    return {
        "bcg": effect_sizes(bcg, "RR", events1="tpos", n1="n1", events2="cpos", n2="n2"),
        "normand": effect_sizes(normand, "SMD", **MEANS),
        "md": effect_sizes(normand, "MD", **MEANS),
        "molloy": effect_sizes(pd.read_csv(DATA / "meta_molloy2014.csv"), "ZCOR", r="ri", n="ni"),
        "hart": effect_sizes(hart, "IRR", events1="x1i", time1="t1i", events2="x2i", time2="t2i"),
        "niel": _quiet(effect_sizes, niel, "OR", events1="ai", n1="n1i", events2="ci", n2="n2i"),
    }


# ------------------------------------------------------------------------------ effect sizes

ES_CASES = [
    ("es_bcg_RR", "bcg", "RR", {}),
    ("es_bcg_OR", "bcg", "OR", {}),
    ("es_bcg_RD", "bcg", "RD", {}),
    *[
        (f"es_niel_{m}_{to}", "niel", m, {"to": to})
        for to in ("only0", "all", "if0all", "none")
        for m in ("OR", "RR", "RD")
    ],
    ("es_niel_OR_drop00", "niel", "OR", {"drop00": True}),
    ("es_niel_OR_add1", "niel", "OR", {"add": 1.0}),
    ("es_normand_SMD", "normand", "SMD", {}),
    ("es_normand_MD", "normand", "MD", {}),
    ("es_molloy_COR", "molloy", "COR", {}),
    ("es_molloy_ZCOR", "molloy", "ZCOR", {}),
    ("es_hart_IRR", "hart", "IRR", {}),
]
ROLES = {
    "bcg": dict(events1="tpos", n1="n1", events2="cpos", n2="n2"),
    "niel": dict(events1="ai", n1="n1i", events2="ci", n2="n2i"),
    "normand": MEANS,
    "molloy": dict(r="ri", n="ni"),
    "hart": dict(events1="x1i", time1="t1i", events2="x2i", time2="t2i"),
}
FILES = {
    "niel": "meta_nielweise2007.csv",
    "normand": "meta_normand1999.csv",
    "molloy": "meta_molloy2014.csv",
    "hart": "meta_hart1999.csv",
}


@pytest.mark.parametrize(("model", "source", "measure", "options"), ES_CASES)
def test_effect_sizes_match_escalc(model, source, measure, options):
    raw = _bcg() if source == "bcg" else pd.read_csv(DATA / FILES[source])
    es = _quiet(effect_sizes, raw, measure, **ROLES[source], **options)
    for q, col in (("yi", "yi"), ("vi", "vi")):
        expected = ref(model, q).to_numpy()
        got = es[col].to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(expected)), (model, q, "missing pattern")
        ok = ~np.isnan(expected)
        close(got[ok], expected[ok], f"{model} {q}", rtol=ES_RTOL, atol=0)


# -------------------------------------------------------------------------------- model fits

FIT_CASES = [(d, m, t) for d in ("bcg", "normand", "md", "molloy") for m in METHODS for t in TESTS]


def _check_fit(res, model: str, intercept_only: bool) -> None:
    tidy = res.tidy().set_index("term")
    beta = ref(model, "beta")
    terms = [r_term(t, intercept_only) for t in beta.index]
    assert list(res.terms) == terms
    for q, col in (
        ("beta", "estimate"),
        ("se", "std_error"),
        ("zval", "statistic"),
        ("pval", "p_value"),
        ("ci.lb", "conf_low"),
        ("ci.ub", "conf_high"),
    ):
        close(tidy.loc[terms, col], ref(model, q), f"{model} {q}")
    close(res.coef(), beta, f"{model} coef()")
    close(np.sqrt(np.diag(res.vcov())), ref(model, "se"), f"{model} vcov()")
    g = res.glance().iloc[0]
    for q, col in (
        ("tau2", "tau2"),
        ("QE", "q"),
        ("QEp", "q_p"),
        ("I2", "i2"),
        ("H2", "h2"),
        ("QM", "qm"),
        ("QMp", "qm_p"),
        ("loglik", "loglik"),
        ("aic", "aic"),
        ("bic", "bic"),
        ("k", "n"),
    ):
        close(g[col], ref(model, q).iloc[0], f"{model} {q}")
    if has_ref(model, "se.tau2"):
        close(g["se_tau2"], ref(model, "se.tau2").iloc[0], f"{model} se.tau2")
    if has_ref(model, "R2"):
        close(g["r2"], ref(model, "R2").iloc[0], f"{model} R2")
    if res.test == "knha":
        close(res.fit.s2w, ref(model, "s2w").iloc[0], f"{model} s2w")
        assert res.df_resid == res.nobs - len(res.terms)
    else:
        assert res.df_resid is None


@pytest.mark.parametrize(("source", "method", "test"), FIT_CASES)
def test_intercept_only_models(data, source, method, test):
    model = f"{source}_{method}_{test}"
    res = _quiet(meta_analysis, data[source], method=method, test=test)
    _check_fit(res, model, intercept_only=True)
    g = res.glance().iloc[0]
    pred = res.predict()
    close(pred["estimate"], ref(model, "pred"), f"{model} pred")
    close(pred["std_error"], ref(model, "pred.se"), f"{model} pred.se")
    close(res.studies()["weight"], ref(model, "weight"), f"{model} weights")
    if method == "FE":
        assert np.isnan(g["pi_low"]) and np.isnan(g["tau2_low"])
        return
    close(
        [g["pi_low"], g["pi_high"]],
        [ref(model, "pi.lb").iloc[0], ref(model, "pi.ub").iloc[0]],
        f"{model} PI",
    )
    het = res.heterogeneity().set_index("parameter")
    tau2_ci = ref(model, "tau2.ci")
    if model.startswith("md_DL"):
        # metafor stops the upper search at max(100, 10 tau^2) = 2054.09 and prints "> 2054";
        # we find the root, which equals the (estimator-free) bound of the other fits.
        assert tau2_ci["ub"] == pytest.approx(10 * ref(model, "tau2").iloc[0])
        close(het.loc["tau2", "conf_high"], ref("md_REML_z", "tau2.ci")["ub"], model)
        close(het.loc["tau2", "conf_low"], tau2_ci["lb"], f"{model} tau2.ci")
        return
    close(het.loc["tau2", ["conf_low", "conf_high"]], tau2_ci, f"{model} tau2.ci")
    close(het.loc["i2", ["conf_low", "conf_high"]], ref(model, "I2.ci"), f"{model} I2.ci")
    close(het.loc["h2", ["conf_low", "conf_high"]], ref(model, "H2.ci"), f"{model} H2.ci")
    het90 = res.heterogeneity(conf_level=0.90).set_index("parameter")
    close(het90.loc["tau2", ["conf_low", "conf_high"]], ref(model, "tau2.ci90"), f"{model} 90%")


@pytest.mark.parametrize("source", ["hart", "niel"])
def test_other_measures(data, source):
    res = meta_analysis(data[source], method="REML")
    _check_fit(res, f"{source}_REML_z", intercept_only=True)
    if source == "niel":
        _check_fit(meta_analysis(data["niel"], method="DL"), "niel_DL_z", True)


REG_CASES = [
    (name, mods, m, t)
    for name, mods in (
        ("ablat", ["ablat"]),
        ("ablat_year", ["ablat", "year"]),
        ("alloc", ["alloc"]),
    )
    for m in METHODS
    for t in TESTS
]


@pytest.mark.parametrize(("name", "mods", "method", "test"), REG_CASES)
def test_meta_regression(data, name, mods, method, test):
    model = f"bcg_{name}_{method}_{test}"
    res = _quiet(meta_analysis, data["bcg"], method=method, test=test, moderators=mods)
    _check_fit(res, model, intercept_only=False)
    fitted = res.predict()
    close(fitted["estimate"], ref(model, "fitted"), f"{model} fitted")
    if method != "FE":
        close(fitted["pi_low"], ref(model, "fitted.pi.lb"), f"{model} fitted PI")
        close(fitted["pi_high"], ref(model, "fitted.pi.ub"), f"{model} fitted PI")
    if name == "ablat":
        new = res.predict(pd.DataFrame({"ablat": [10, 30, 50]}))
        for q, col in (
            ("new.pred", "estimate"),
            ("new.se", "std_error"),
            ("new.ci.lb", "conf_low"),
            ("new.ci.ub", "conf_high"),
        ):
            close(new[col], ref(model, q), f"{model} {q}")
        if method != "FE":
            close(new["pi_low"], ref(model, "new.pi.lb"), f"{model} new PI")
            close(new["pi_high"], ref(model, "new.pi.ub"), f"{model} new PI")


def test_meta_regression_correlations(data):
    res = meta_analysis(data["molloy"], moderators=["meanage"])
    _check_fit(res, "molloy_meanage_REML_z", intercept_only=False)


@pytest.mark.parametrize("method", ["REML", "DL", "FE"])
@pytest.mark.parametrize("test", TESTS)
def test_subgroups(data, method, test):
    model = f"bcg_by_alloc_{method}_{test}"
    res = _quiet(meta_analysis, data["bcg"], method=method, test=test, by="alloc")
    g = res.glance().iloc[0]
    close(g["q_between"], ref(model, "Q_between").iloc[0], f"{model} Q_between")
    close(g["q_between_p"], ref(model, "Q_between_p").iloc[0], f"{model} Q_between p")
    assert g["q_between_df"] == 2 and g["n_subgroups"] == 3
    tidy = res.tidy().set_index("term")
    for level, sub in res.subgroups:
        sub_model = f"{model}_{level}"
        _check_fit(sub, sub_model, intercept_only=True)
        row = tidy.loc[f"alloc={level}"]
        close(row["estimate"], ref(sub_model, "beta").iloc[0], sub_model)
        close(row["conf_low"], ref(sub_model, "ci.lb").iloc[0], sub_model)
        assert row["k"] == ref(sub_model, "k").iloc[0]


# ----------------------------------------------------------------------------- diagnostics

EGGER_CASES = [("bcg", m, t, None) for m in ("FE", "DL", "REML", "PM") for t in TESTS] + [
    ("normand", "REML", "z", None),
    ("molloy", "REML", "z", None),
    ("bcg", "REML", "z", ["ablat"]),
]


@pytest.mark.parametrize(("source", "method", "test", "mods"), EGGER_CASES)
def test_egger(data, source, method, test, mods):
    model = f"egger_{source}{'_ablat' if mods else ''}_{method}_{test}"
    res = _quiet(meta_analysis, data[source], method=method, test=test, moderators=mods)
    eg = egger_test(res)
    close(eg.statistic, ref(model, "zval").iloc[0], f"{model} statistic")
    close(eg.p_value, ref(model, "pval").iloc[0], f"{model} p")
    close(eg.fit.beta, ref(model, "beta"), f"{model} beta")
    close(eg.fit.se, ref(model, "se"), f"{model} se")
    close(eg.fit.tau2.tau2, ref(model, "tau2").iloc[0], f"{model} tau2")
    g = eg.glance().iloc[0]
    if mods is None:
        close(
            [g["limit_estimate"], g["limit_low"], g["limit_high"]],
            [ref(model, q).iloc[0] for q in ("est", "ci.lb", "ci.ub")],
            f"{model} limit",
        )
        tidy = eg.tidy().set_index("term")
        close(tidy.loc["limit_estimate", "estimate"], ref(model, "est").iloc[0], model)
    else:
        assert np.isnan(g["limit_estimate"])
    assert eg.tidy().loc[0, "term"] == "sei"


L1O_CASES = [("bcg", m, t) for m in ("REML", "DL", "FE", "PM") for t in TESTS] + [
    ("normand", "REML", "z"),
    ("molloy", "REML", "z"),
]


@pytest.mark.parametrize(("source", "method", "test"), L1O_CASES)
def test_leave_one_out(data, source, method, test):
    model = f"l1o_{source}_{method}_{test}"
    res = _quiet(meta_analysis, data[source], method=method, test=test)
    t = leave_one_out(res).tidy()
    for q, col in (
        ("estimate", "estimate"),
        ("se", "std_error"),
        ("stat", "statistic"),
        ("pval", "p_value"),
        ("ci.lb", "conf_low"),
        ("ci.ub", "conf_high"),
        ("Q", "q"),
        ("Qp", "q_p"),
        ("I2", "i2"),
        ("H2", "h2"),
    ):
        close(t[col], ref(model, q), f"{model} {q}")
    if method != "FE":
        close(t["tau2"], ref(model, "tau2"), f"{model} tau2")


INF_CASES = [("bcg", m, t, None) for m in ("REML", "DL", "FE", "PM") for t in TESTS] + [
    ("normand", "REML", "z", None),
    ("bcg", "REML", "z", ["ablat"]),
    ("bcg", "REML", "knha", ["ablat"]),
]


@pytest.mark.parametrize(("source", "method", "test", "mods"), INF_CASES)
def test_influence(data, source, method, test, mods):
    model = f"inf_{source}{'_ablat' if mods else ''}_{method}_{test}"
    res = _quiet(meta_analysis, data[source], method=method, test=test, moderators=mods)
    inf = influence_diagnostics(res)
    t = inf.tidy()
    for q, col in (
        ("rstudent", "statistic"),
        ("dffits", "dffits"),
        ("cook.d", "cooks_distance"),
        ("cov.r", "cov_ratio"),
        ("tau2.del", "tau2_deleted"),
        ("QE.del", "q_deleted"),
        ("hat", "hat"),
        ("weight", "weight"),
    ):
        close(t[col], ref(model, q), f"{model} {q}")
    assert t["influential"].tolist() == ref(model, "inf").astype(bool).tolist()
    for term in res.terms:
        r_name = "intrcpt" if term in ("overall", "Intercept") else term
        close(t[f"dfbetas[{term}]"], ref(model, f"dfbs.{r_name}"), f"{model} dfbetas {term}")


TF_CASES = [
    *[
        (f"tf_bcg_{m}{s}", "bcg", m, opt)
        for m in ("REML", "FE", "DL")
        for s, opt in (("", {}), ("_R0", {"estimator": "R0"}), ("_left", {"side": "left"}))
    ],
    *[
        (f"tf_{d}_{m}{s}", d, m, opt)
        for d in ("normand", "md", "molloy")
        for m in ("REML", "FE")
        for s, opt in (("", {}), ("_R0", {"estimator": "R0"}), ("_Q0", {"estimator": "Q0"}))
    ],
    ("tf_niel_REML", "niel", "REML", {}),
]


@pytest.mark.parametrize(("model", "source", "method", "options"), TF_CASES)
def test_trim_and_fill(data, model, source, method, options):
    res = meta_analysis(data[source], method=method)
    tf = trim_and_fill(res, **options)
    assert tf.k0 == ref(model, "k0").iloc[0]
    assert tf.side == ("left" if ref(model, "side").iloc[0] < 0 else "right")
    close(tf.se_k0, ref(model, "se.k0").iloc[0], f"{model} se.k0")
    if has_ref(model, "p.k0"):
        close(tf.p_k0, ref(model, "p.k0").iloc[0], f"{model} p.k0")
    studies = tf.studies()
    close(studies["estimate"], ref(model, "yi"), f"{model} filled yi")
    close(studies["std_error"] ** 2, ref(model, "vi"), f"{model} filled vi")
    assert studies["filled"].sum() == tf.k0
    row = tf.tidy().iloc[0]
    for q, col in (
        ("beta", "estimate"),
        ("se", "std_error"),
        ("ci.lb", "conf_low"),
        ("ci.ub", "conf_high"),
        ("pval", "p_value"),
    ):
        close(row[col], ref(model, q).iloc[0], f"{model} {q}")
    g = tf.glance().iloc[0]
    close(g["tau2"], ref(model, "tau2").iloc[0], f"{model} tau2")
    close(tf.filled.fit.q, ref(model, "QE").iloc[0], f"{model} QE")
    assert g["n_filled"] == ref(model, "k").iloc[0]
