"""The sorted-risk-set Cox engine against a naive reference and R survival 3.5.3.

The naive reference below loops over event times and builds every risk set with a mask
(Efron / Breslow steps written out as in R's coxfit6.c / agfit4.c), computes score
residuals and the dfbeta sandwich from those per-event quantities, and counts
concordant pairs death by death. It is slow and obviously correct; the engine
(``_coxph``, ``_cox_residuals``, ``_concordance``) must agree with it on random small
data sets with tied times, strata, left truncation, case weights, clusters and
time-varying covariates. ``tests/reference/survival_cox_engine.R`` checks the same
paths against R ``coxph``, including the concordance counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.models.survival._concordance import concordance, prefix_less
from mutualaid_outcomes.models.survival._cox_prepare import _linear_predictor
from mutualaid_outcomes.models.survival._cox_residuals import (
    robust_variance,
    score_residuals,
    zph_score,
)
from mutualaid_outcomes.models.survival._coxph import CoxData, pieces
from mutualaid_outcomes.models.survival.cox import check_proportional_hazards, fit_cox
from mutualaid_outcomes.models.survival.cox_time_varying import fit_cox_time_varying

# deterministic quantities; R was run with eps = 1e-12, so both sides are converged
RTOL = 1e-6
# engine vs naive reference: the same formulas summed in a different order
RTOL_NAIVE = 1e-9
# concordance counts are sums of products of weights (exact for integer weights)
RTOL_COUNTS = 1e-12


# ----------------------------------------------------------------- naive reference


def _steps(rows, dead, w, r, x, efron):
    """Efron/Breslow steps of one event time: (weight, fraction removed) pairs."""
    m = int(dead.sum())
    wd = w[dead].sum()
    fracs = np.arange(m) / m if efron else np.zeros(1)
    step_w = wd / m if efron else wd
    out = []
    for f in fracs:
        denom = (w * r)[rows].sum() - f * (w * r)[dead].sum()
        a = (w * r)[rows] @ x[rows] - f * (w * r)[dead] @ x[dead]
        c = (x[rows].T * (w * r)[rows]) @ x[rows] - f * (x[dead].T * (w * r)[dead]) @ x[dead]
        out.append((step_w, f, denom, a, c))
    return out


def _event_times(start, stop, event, strata):
    """Distinct (stratum, time) of the deaths with their risk-set and death masks."""
    keys = sorted({(s, t) for s, t, e in zip(strata, stop, event) if e})
    for s, t in keys:
        rows = (strata == s) & (start < t) & (stop >= t)
        dead = (strata == s) & (stop == t) & (event > 0)
        yield t, rows, dead


def naive_pieces(d, beta, efron):
    start, stop, event, x, w, strata = d
    eta = x @ beta
    r = np.exp(eta)
    p = x.shape[1]
    ll, u, info = 0.0, np.zeros(p), np.zeros((p, p))
    for _, rows, dead in _event_times(start, stop, event, strata):
        ll += w[dead] @ eta[dead]
        u += w[dead] @ x[dead]
        for sw, _, denom, a, c in _steps(rows, dead, w, r, x, efron):
            ll -= sw * np.log(denom)
            u -= sw * a / denom
            info += sw * (c / denom - np.outer(a, a) / denom**2)
    return ll, u, info


def naive_score_residuals(d, beta, efron):
    start, stop, event, x, w, strata = d
    r = np.exp(x @ beta)
    resid = np.zeros_like(x)
    for _, rows, dead in _event_times(start, stop, event, strata):
        steps = _steps(rows, dead, w, r, x, efron)
        xbars = [a / denom for _, _, denom, a, _ in steps]
        for (sw, f, denom, _, _), xbar in zip(steps, xbars):
            share = np.where(dead, 1 - f, 1.0)[rows]  # a death keeps 1 - f of its risk
            resid[rows] -= (share * r[rows] * sw / denom)[:, None] * (x[rows] - xbar)
        for i in np.flatnonzero(dead):
            resid[i] += x[i] - np.mean(xbars, axis=0)
    return resid


def naive_robust(d, beta, var, cluster, efron):
    w = d[4]
    dfb = (naive_score_residuals(d, beta, efron) * w[:, None]) @ var
    if cluster is not None:
        dfb = np.array([dfb[cluster == g].sum(axis=0) for g in np.unique(cluster)])
    return dfb.T @ dfb


def naive_concordance(d, eta):
    start, stop, event, _, w, strata = d
    conc = disc = tied = 0.0
    for i in np.flatnonzero(event):
        t = stop[i]
        comp = (strata == strata[i]) & (start < t) & (stop >= t) & ~((event > 0) & (stop == t))
        conc += w[i] * w[comp & (eta < eta[i])].sum()
        disc += w[i] * w[comp & (eta > eta[i])].sum()
        tied += w[i] * w[comp & (eta == eta[i])].sum()
    return conc, disc, tied


def naive_zph(d, beta, g_of_time, efron):
    start, stop, event, x, w, strata = d
    r = np.exp(x @ beta)
    p = x.shape[1]
    u2 = np.zeros(p)
    i11, i12, i22 = (np.zeros((p, p)) for _ in range(3))
    for t, rows, dead in _event_times(start, stop, event, strata):
        g = g_of_time[t]
        u2 += g * (w[dead] @ x[dead])
        for sw, _, denom, a, c in _steps(rows, dead, w, r, x, efron):
            v = c / denom - np.outer(a, a) / denom**2
            u2 -= sw * g * a / denom
            i11 += sw * v
            i12 += sw * g * v
            i22 += sw * g * g * v
    return u2, np.block([[i11, i12], [i12.T, i22]])


# ----------------------------------------------------------------- random data


def random_data(seed: int, *, counting: bool, n_strata: int, weighted: bool, tied: bool):
    """Small survival data: ties, strata, left truncation, time-varying covariates."""
    rng = np.random.default_rng(seed)
    n_people = int(rng.integers(25, 60))
    rows = []
    for pid in range(n_people):
        entry = float(rng.integers(0, 5)) if counting and rng.random() < 0.4 else 0.0
        length = rng.integers(1, 12) if tied else rng.exponential(6) + 0.01
        exit_ = entry + float(length)
        cuts = [entry, exit_]
        if counting and exit_ - entry > 1 and rng.random() < 0.6:
            mid = np.sort(rng.uniform(entry, exit_, rng.integers(1, 3)))
            cuts = [entry, *(np.ceil(mid) if tied else mid), exit_]
            cuts = sorted(set(c for c in cuts if entry <= c <= exit_))
        died = rng.random() < 0.7
        s = int(rng.integers(0, n_strata))
        x0 = int(rng.integers(0, 2))
        age = float(rng.integers(20, 24))
        w = float(rng.choice([0.5, 1.0, 1.5, 2.25])) if weighted else 1.0
        for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
            last = k == len(cuts) - 2
            rows.append((pid, a, b, int(died and last), x0, age, float(rng.integers(0, 3)), w, s))
    cols = ["id", "start", "stop", "event", "x0", "age", "tv", "w", "s"]
    df = pd.DataFrame(rows, columns=cols)
    df["cl"] = df["id"] % 7
    return df


def _arrays(df: pd.DataFrame, counting: bool, covs):
    start = df["start"].to_numpy(float) if counting else np.full(len(df), -np.inf)
    return (
        start,
        df["stop"].to_numpy(float),
        df["event"].to_numpy(int),
        df[covs].to_numpy(float),
        df["w"].to_numpy(float),
        df["s"].to_numpy(int),
    )


def _engine(df: pd.DataFrame, counting: bool, covs, efron: bool) -> CoxData:
    d = _arrays(df, counting, covs)
    return CoxData(
        start=d[0] if counting else None,
        stop=d[1],
        event=d[2],
        x=d[3],
        weights=d[4],
        strata=d[5],
        efron=efron,
    )


def _unsort(cd: CoxData, rows: np.ndarray) -> np.ndarray:
    """Per-row engine output (p, n) in sorted order -> (n, p) in the data's order."""
    out = np.empty_like(rows.T)
    out[cd.order] = rows.T
    return out


SETTINGS = [
    dict(counting=c, n_strata=s, weighted=wt, tied=t, efron=e)
    for c in (False, True)
    for s in (1, 3)
    for wt in (False, True)
    for t in (True, False)
    for e in (True, False)
]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize(
    "setting", SETTINGS, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items())
)
def test_engine_matches_naive_reference(setting, seed):
    efron = setting["efron"]
    counting = setting["counting"]
    df = random_data(
        100 * seed + len(str(setting)), **{k: setting[k] for k in setting if k != "efron"}
    )
    covs = ["x0", "age", "tv"] if counting else ["x0", "age"]
    d = _arrays(df, counting, covs)
    cd = _engine(df, counting, covs, efron)
    rng = np.random.default_rng(seed)
    beta = rng.normal(0, 0.4, len(covs))
    # log partial likelihood, score and information (engine works on centred x)
    pc = pieces(cd, beta)
    ll, u, info = naive_pieces((*d[:3], d[3] - cd.x_mean, *d[4:]), beta, efron)
    assert pc.loglik == pytest.approx(ll, rel=RTOL_NAIVE)
    np.testing.assert_allclose(pc.score, u, rtol=RTOL_NAIVE, atol=1e-10 * np.abs(u).max())
    np.testing.assert_allclose(pc.info, info, rtol=RTOL_NAIVE, atol=1e-12)
    # score residuals (unweighted; their weighted sum is the score) and the sandwich
    resid = _unsort(cd, score_residuals(cd, beta))
    naive_resid = naive_score_residuals(d, beta, efron)
    np.testing.assert_allclose(resid, naive_resid, rtol=RTOL_NAIVE, atol=1e-11)
    np.testing.assert_allclose(d[4] @ resid, u, rtol=1e-8, atol=1e-10)
    var = np.linalg.inv(info)
    cl = df["cl"].to_numpy()
    for cluster in (None, cl):
        np.testing.assert_allclose(
            robust_variance(cd, beta, var, cluster),
            naive_robust(d, beta, var, cluster, efron),
            rtol=RTOL_NAIVE,
            atol=1e-14,
        )
    # zph score and information for an arbitrary g(t)
    g_of_time = {t: np.sin(t) for t in np.unique(d[1])}
    u2, imat = zph_score(cd, beta, np.array([g_of_time[t] for t in cd.ev_time]))
    nu2, nimat = naive_zph((*d[:3], d[3] - cd.x_mean, *d[4:]), beta, g_of_time, efron)
    np.testing.assert_allclose(u2, nu2, rtol=RTOL_NAIVE, atol=1e-10)
    np.testing.assert_allclose(imat, nimat, rtol=RTOL_NAIVE, atol=1e-12)
    # concordance with many ties in the predictor (integer-valued)
    eta = np.round(rng.normal(0, 2, len(df)))
    _, counts = concordance(cd, eta[cd.order])
    nc = naive_concordance(d, eta)
    got = (counts["concordant"], counts["discordant"], counts["tied_x"])
    np.testing.assert_allclose(got, nc, rtol=RTOL_COUNTS, atol=1e-9)


def _edge_cases(counting: bool):
    df = random_data(1, counting=counting, n_strata=3, weighted=True, tied=True)
    no_events_in_stratum = df.assign(event=np.where(df["s"] == 2, 0, df["event"]))
    one_event = df.assign(event=0)
    one_event.loc[one_event.index[3], "event"] = 1
    all_tied = df.assign(stop=(df["start"] + 5.0) if counting else 5.0)
    return {
        "no_events_in_stratum": no_events_in_stratum,
        "one_event": one_event,
        "all_tied": all_tied,
    }


@pytest.mark.parametrize("case", ["no_events_in_stratum", "one_event", "all_tied"])
@pytest.mark.parametrize("counting", [False, True])
@pytest.mark.parametrize("efron", [True, False])
def test_edge_cases_match_naive_reference(case, counting, efron):
    df = _edge_cases(counting)[case]
    covs = ["x0", "age"]
    d = _arrays(df, counting, covs)
    cd = _engine(df, counting, covs, efron)
    beta = np.array([0.3, -0.2])
    pc = pieces(cd, beta)
    ll, u, info = naive_pieces((*d[:3], d[3] - cd.x_mean, *d[4:]), beta, efron)
    assert pc.loglik == pytest.approx(ll, rel=RTOL_NAIVE)
    np.testing.assert_allclose(pc.info, info, rtol=RTOL_NAIVE, atol=1e-12)
    resid = _unsort(cd, score_residuals(cd, beta))
    np.testing.assert_allclose(resid, naive_score_residuals(d, beta, efron), atol=1e-12)
    eta = np.round(np.random.default_rng(0).normal(0, 1, len(df)))
    _, counts = concordance(cd, eta[cd.order])
    got = (counts["concordant"], counts["discordant"], counts["tied_x"])
    np.testing.assert_allclose(got, naive_concordance(d, eta), rtol=RTOL_COUNTS)


@pytest.mark.parametrize("seed", range(4))
def test_fits_match_naive_reference(seed):
    """Public fits: the naive score vanishes at the estimate and the SEs agree."""
    for counting in (False, True):
        df = random_data(seed, counting=counting, n_strata=2, weighted=True, tied=True)
        covs = ["x0", "age", "tv"] if counting else ["x0", "age"]
        if counting:
            res = fit_cox_time_varying(
                df, "id", "start", "stop", "event", covs, strata="s", weights="w", cluster="cl"
            )
        else:
            last = df.groupby("id").tail(1)
            res = fit_cox(last, "stop", "event", covs, strata="s", weights="w", cluster="cl")
            df = last.reset_index(drop=True)
        d = _arrays(df, counting, covs)
        coef = res.coef().to_numpy()
        ll, u, info = naive_pieces(d, coef, efron=True)
        assert res.loglik == pytest.approx(ll, rel=RTOL_NAIVE)
        assert np.abs(u).max() < 1e-7 * np.abs(np.diag(info)).max()
        np.testing.assert_allclose(res.naive_vcov, np.linalg.inv(info), rtol=1e-7)
        rob = naive_robust(d, coef, res.naive_vcov, df["cl"].to_numpy(), efron=True)
        np.testing.assert_allclose(res.vcov().to_numpy(), rob, rtol=1e-7)
        cd = res._cd
        eta = np.empty(cd.n)
        eta[cd.order] = _linear_predictor(cd, res._beta_c)
        conc, disc, tied = naive_concordance(d, eta)
        c = res.glance()["concordance"].iloc[0]
        assert c == pytest.approx((conc + tied / 2) / (conc + disc + tied), rel=1e-12)


def test_prefix_counts_match_brute_force():
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 17, 64, 65, 1000, 70_001):
        rank = rng.integers(0, max(n // 3, 1), n)
        w = rng.random(n)
        pos = rng.integers(0, n + 1, 300)
        r = rng.integers(0, n // 3 + 2, 300)
        want = [w[:p][rank[:p] < q].sum() for p, q in zip(pos, r)]
        np.testing.assert_allclose(prefix_less(rank, w, pos, r), want, rtol=1e-12, atol=1e-9)


def test_results_do_not_depend_on_row_order():
    df = random_data(5, counting=True, n_strata=3, weighted=True, tied=True)
    covs = ["x0", "age", "tv"]
    kw = dict(strata="s", weights="w", cluster="cl")
    a = fit_cox_time_varying(df, "id", "start", "stop", "event", covs, **kw)
    b = fit_cox_time_varying(df.iloc[::-1], "id", "start", "stop", "event", covs, **kw)
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-10)
    np.testing.assert_allclose(a.vcov(), b.vcov(), rtol=1e-9)
    assert a.concordance == pytest.approx(b.concordance, rel=1e-12)
    za, zb = check_proportional_hazards(a), check_proportional_hazards(b)
    np.testing.assert_allclose(za.table["chisq"], zb.table["chisq"], rtol=1e-8)


# ----------------------------------------------------------------- R survival


@pytest.fixture(scope="module")
def sim(r_reference) -> pd.DataFrame:
    """The simulated counting-process data written by survival_cox_engine.R."""
    return r_reference("survival_cox_engine_data")


@pytest.fixture(scope="module")
def ref(r_reference):
    """``ref(case, quantity)``: values of survival_cox_engine.csv in term order."""
    table = r_reference("survival_cox_engine")

    def get(case: str, quantity: str) -> np.ndarray:
        r = table[(table["case"] == case) & (table["quantity"] == quantity)]
        return r["value"].to_numpy()

    return get


def _sim_fit(sim: pd.DataFrame, case: str):
    ties = case.rsplit("_", 1)[1]
    if case.startswith("timefix_cp"):
        covs = ["x1", "age", "z"]
        return fit_cox_time_varying(
            sim, "id", "wstart", "wstop", "status", covs, ties=ties, cov_type="robust"
        )
    last = sim.drop_duplicates("id", keep="last")
    if case.startswith("timefix_rc"):
        return fit_cox(last, "wstop", "status", ["x1", "age"], ties=ties)
    if case.startswith("cp"):
        return fit_cox_time_varying(
            sim,
            "id",
            "tstart",
            "tstop",
            "status",
            ["x1", "age", "z"],
            strata="grp",
            cluster="site",
            weights="w",
            ties=ties,
        )
    if case.startswith("rc_plain"):
        return fit_cox(last, "tstop", "status", ["x1", "age"], ties=ties)
    return fit_cox(
        last, "tstop", "status", ["x1", "age"], strata="grp", cluster="site", weights="w", ties=ties
    )


R_CASES = [
    f"{c}_{t}"
    for c in ("cp", "rc", "rc_plain", "timefix_rc", "timefix_cp")
    for t in ("efron", "breslow")
]


@pytest.mark.parametrize("case", R_CASES)
def test_simulated_paths_match_r(case, sim, ref):
    res = _sim_fit(sim, case)
    tidy = res.tidy()
    np.testing.assert_allclose(tidy["estimate"], ref(case, "coef"), rtol=RTOL)
    np.testing.assert_allclose(tidy["std_error"], ref(case, "se"), rtol=RTOL)
    naive = ref(case, "naive_se")
    if len(naive):
        np.testing.assert_allclose(np.sqrt(np.diag(res.naive_vcov)), naive, rtol=RTOL)
    g = res.glance().iloc[0]
    for q, col in [
        ("loglik", "loglik"),
        ("loglik0", "loglik_null"),
        ("score", "score_statistic"),
        ("concordance", "concordance"),
    ]:
        assert g[col] == pytest.approx(ref(case, q)[0], rel=RTOL), q
    rs = ref(case, "robust_score")
    if len(rs):
        assert g["robust_score_statistic"] == pytest.approx(rs[0], rel=RTOL)
    cd = res._cd
    _, counts = concordance(cd, _linear_predictor(cd, res._beta_c))
    for q, key in [
        ("concordant", "concordant"),
        ("discordant", "discordant"),
        ("tied.x", "tied_x"),
    ]:
        assert counts[key] == pytest.approx(ref(case, q)[0], rel=RTOL_COUNTS), q
    z = check_proportional_hazards(res)
    np.testing.assert_allclose(z.table["chisq"], ref(case, "zph_chisq"), rtol=RTOL)


def test_almost_equal_times_are_tied_as_in_r(sim):
    # the simulated weeks differ from exact ties in the last bits for every third person
    last = sim.drop_duplicates("id", keep="last")
    exact = last.assign(wstop=last["tstop"] / 7)
    assert (exact["wstop"] != last["wstop"]).sum() > 50
    a = fit_cox(last, "wstop", "status", ["x1", "age"])
    b = fit_cox(exact, "wstop", "status", ["x1", "age"])
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-12)
    assert a.concordance == b.concordance


def test_interval_shorter_than_time_tolerance(sim):
    df = sim.assign(wstop=sim["wstop"].astype(float))
    i = df.index[0]
    df.loc[i, "wstop"] = df.loc[i, "wstart"] * (1 + 1e-12) + 1e-12
    with pytest.raises(DataValidationError, match="shorter than the tolerance for tied times"):
        fit_cox_time_varying(df, "id", "wstart", "wstop", "status", ["x1"])


# ----------------------------------------------------------------- lifelines (optional)


def test_agrees_with_lifelines(sim):
    lifelines = pytest.importorskip("lifelines")
    last = sim.drop_duplicates("id", keep="last")[["tstop", "status", "x1", "age"]]
    ours = fit_cox(last, "tstop", "status", ["x1", "age"]).tidy()
    cph = lifelines.CoxPHFitter().fit(last, duration_col="tstop", event_col="status")
    # lifelines stops at its default tolerance (1e-7 on the step), coarser than ours
    np.testing.assert_allclose(ours["estimate"], cph.params_.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours["std_error"], cph.standard_errors_.to_numpy(), rtol=1e-5)
