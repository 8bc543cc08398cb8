"""Bootstrap intervals of SEM parameters and defined effects.

The comparison with lavaan uses 4,000 lavaan resamples (tests/reference/sem_lavaan.R,
``se = "bootstrap"``) and compares percentile limits within a Monte Carlo tolerance sized
from the number of resamples on both sides; the other tests check the mechanics
(reproducibility, cluster resampling, BCa) without claiming agreement with R.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import BootstrapWarning
from mutualaid_outcomes.models.sem import fit_sem, latent_mediation

from .conftest import REF, read_ref

#: Monte Carlo standard errors allowed between two independent sets of bootstrap limits
#: (4 SE: a false alarm has probability about 6e-5 per comparison).
N_MC_SE = 4.0
N_BOOT = 1000
MED = "support =~ s1 + s2 + s3\nsupport ~ a*x + c1\ny ~ b*support + cp*x + c1\nind := a*b\n"


def quantile_mc_se(draws: np.ndarray, level: float, n_boot: int) -> float:
    """Monte Carlo SE of a bootstrap quantile from ``n_boot`` resamples (density from the
    empirical quantile function of ``draws``)."""
    d = draws[~np.isnan(draws)]
    h = 0.01
    dq = (np.quantile(d, min(level + h, 1)) - np.quantile(d, max(level - h, 0))) / (2 * h)
    return math.sqrt(level * (1 - level) / n_boot) * dq


@pytest.fixture(scope="module")
def boot(med):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        return latent_mediation(
            med,
            "x",
            ["support"],
            "y",
            indicators={"support": ["s1", "s2", "s3"]},
            covariates=["c1"],
            n_boot=N_BOOT,
            rng=20240621,
        )


@pytest.mark.skipif(not (REF / "sem_lavaan_boot.csv").exists(), reason="no lavaan bootstrap file")
def test_percentile_limits_match_lavaan_within_monte_carlo_error(boot):
    ref = read_ref("sem_lavaan_boot.csv").set_index("term")
    td = boot.tidy().set_index("term")
    draws = boot.sem.draws
    n_ref = int(ref["n_boot"].iloc[0])
    for ours, theirs, col_name in (
        ("indirect[support]", "indirect", "ind1 := a1*b1"),
        ("total", "total", "total := cp+total_ind"),
    ):
        col = draws[col_name].to_numpy()
        for level, lim, rcol in (
            (0.025, "conf_low", "conf_low"),
            (0.975, "conf_high", "conf_high"),
        ):
            tol = N_MC_SE * math.hypot(
                quantile_mc_se(col, level, N_BOOT), quantile_mc_se(col, level, n_ref)
            )
            assert abs(td.loc[ours, lim] - ref.loc[theirs, rcol]) < tol, (ours, lim)
        sd_tol = (
            N_MC_SE
            * ref.loc[theirs, "boot_sd"]
            * math.hypot(1 / math.sqrt(2 * N_BOOT), 1 / math.sqrt(2 * n_ref))
        )
        assert abs(np.nanstd(col, ddof=1) - ref.loc[theirs, "boot_sd"]) < sd_tol


def test_bootstrap_mechanics(boot, med):
    g = boot.glance().iloc[0]
    assert g["n_boot"] == N_BOOT and g["n_failed"] == 0 and g["seed"] == 20240621
    assert g["ci"] == "percentile"
    sem = boot.sem
    td = sem.tidy().set_index("term")
    assert "boot_se" in td.columns
    # the estimate lies inside its percentile interval; SEs stay delta-method
    row = td.loc["ind1 := a1*b1"]
    assert row["conf_low"] < row["estimate"] < row["conf_high"]
    delta = latent_mediation(
        med, "x", ["support"], "y", indicators={"support": ["s1", "s2", "s3"]}, covariates=["c1"]
    )
    d_row = delta.sem.tidy().set_index("term").loc["ind1 := a1*b1"]
    assert row["std_error"] == pytest.approx(d_row["std_error"])
    assert (row["conf_low"], row["conf_high"]) != (d_row["conf_low"], d_row["conf_high"])
    # bootstrap SD close to the delta-method SE for a well-identified loading
    load = td.loc["support =~ s2"]
    assert load["boot_se"] == pytest.approx(load["std_error"], rel=0.25)
    # fixed parameters have no bootstrap spread
    assert td.loc["support =~ s1", "boot_se"] == 0


def test_reproducible_and_cluster_resampling(med):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        a = fit_sem(med, MED, n_boot=60, rng=3)
        b = fit_sem(med, MED, n_boot=60, rng=3)
        pd.testing.assert_frame_equal(a.draws, b.draws)
        one_per_cluster = fit_sem(
            med.assign(row=np.arange(len(med))), MED, n_boot=60, rng=3, cluster="row"
        )
        pairs = fit_sem(
            med.assign(site=np.arange(len(med)) // 10), MED, n_boot=60, rng=3, cluster="site"
        )
    common = [c for c in a.draws.columns if c in one_per_cluster.draws.columns]
    # clusters of one row: the cluster bootstrap draws the same resamples as the row bootstrap
    np.testing.assert_allclose(one_per_cluster.draws[common], a.draws[common], rtol=1e-5, atol=1e-8)
    assert pairs.glance().loc[0, "n_clusters"] == 30
    assert not np.allclose(pairs.draws[common], a.draws[common])


def test_bca_intervals():
    rng = np.random.default_rng(5)
    n = 80
    x = rng.normal(size=n)
    m = 0.6 * x + rng.normal(size=n)
    df = pd.DataFrame({"x": x, "m": m, "y": 0.5 * m + rng.normal(size=n)})
    with pytest.warns(BootstrapWarning, match="small for 'bca'"):
        res = fit_sem(df, "m ~ a*x\ny ~ b*m + x\nind := a*b", n_boot=200, ci="bca", rng=1)
    assert res.jackknife.shape == (n, res.draws.shape[1])
    with warnings.catch_warnings():
        # 200 resamples: a BCa limit of some parameter may fall beyond the extreme draw
        warnings.simplefilter("ignore", BootstrapWarning)
        bca = res.tidy().set_index("term").loc["ind := a*b"]
        pct = fit_sem(df, "m ~ a*x\ny ~ b*m + x\nind := a*b", n_boot=200, rng=1).tidy()
    assert np.isfinite([bca["conf_low"], bca["conf_high"]]).all()
    assert bca["conf_low"] < bca["estimate"] < bca["conf_high"]
    assert pct.set_index("term").loc["ind := a*b", "conf_low"] != bca["conf_low"]


def test_monte_carlo_intervals(med):
    res = latent_mediation(
        med,
        "x",
        ["support"],
        "y",
        indicators={"support": ["s1", "s2", "s3"]},
        covariates=["c1"],
        n_boot=20000,
        ci="monte_carlo",
        rng=4,
    )
    td = res.sem.tidy().set_index("term")
    # a free parameter's Monte Carlo interval is its Wald interval up to Monte Carlo error
    row = td.loc["support =~ s2"]
    half = 1.959963984540054 * row["std_error"]
    assert row["conf_low"] == pytest.approx(row["estimate"] - half, abs=0.03 * half)
    assert row["conf_high"] == pytest.approx(row["estimate"] + half, abs=0.03 * half)
    assert row["boot_se"] == pytest.approx(row["std_error"], rel=0.03)
    ind = res.tidy().set_index("term").loc["indirect[support]"]
    assert ind["conf_low"] < ind["estimate"] < ind["conf_high"]
    assert res.glance().loc[0, "method"].endswith("Monte Carlo (20000 draws)")
