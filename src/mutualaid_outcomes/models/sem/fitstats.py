"""Test statistics and fit measures of a fitted model (used by :func:`fit_sem`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from . import fit_indices as fi
from .fiml_corrected import fiml_corrected, h1_blocks
from .inference import ChiSquareTest, degrees_of_freedom, h1_chain_information, lr_test, yb_trace
from .likelihood import Likelihood
from .optimizer import optimize
from .partable import ParTable
from .ram import RamModel

__all__ = ["fit_measures", "model_test"]


def model_test(
    lik: Likelihood,
    theta: np.ndarray,
    pt: ParTable,
    info: np.ndarray | None,
    clusters: Sequence[np.ndarray | None],
    scaled: bool,
    fiml: bool = False,
) -> ChiSquareTest:
    """Likelihood-ratio test, Yuan--Bentler scaled when ``scaled``.

    ``info`` is the information matrix the scaling uses (observed for MLR).
    """
    x_idx = [pt.ov_names.index(x) for x in pt.ov_x]
    df = degrees_of_freedom(lik.stats, len(x_idx), pt.meanstructure, pt.n_free)
    test = lr_test(lik, theta, df)
    if not scaled or df <= 0 or info is None:
        return test
    scores = lik.casewise_scores(theta)
    th1, th0 = yb_trace(lik, info, scores, clusters, x_idx, pt.meanstructure, fiml)
    c = (th1 - th0) / df
    return ChiSquareTest(test.chisq, df, c if c > 0 else float("nan"), th1, th0)


def _baseline(
    pt: ParTable, lik: Likelihood, clusters, scaled: bool, information: str, fiml: bool
) -> tuple[ChiSquareTest, Likelihood, np.ndarray] | None:
    bpt = fi.baseline_partable(pt)
    model = RamModel(bpt, lik.model.moments)
    blik = Likelihood(model, lik.stats)
    res = optimize(blik, fi.baseline_start(bpt, lik.stats))
    if not res.converged:
        return None
    info = test_information(blik, res.theta, information) if scaled else None
    return model_test(blik, res.theta, bpt, info, clusters, scaled, fiml), blik, res.theta


def test_information(lik: Likelihood, theta: np.ndarray, kind: str) -> np.ndarray:
    """Information matrix of the scaled test.

    ``"observed"`` (Hessian), ``"h1"`` (see :func:`.inference.h1_chain_information`) or
    ``"expected"``.
    """
    if kind == "observed":
        return lik.observed_information(theta)
    if kind == "h1":
        return h1_chain_information(lik, theta)
    return lik.expected_information(theta)


def fit_measures(
    lik: Likelihood,
    theta: np.ndarray,
    pt: ParTable,
    test: ChiSquareTest,
    clusters: Sequence[np.ndarray | None],
    information: str,
    scaled: bool,
    fiml: bool = False,
) -> dict[str, Any]:
    """All entries of ``glance()`` that describe fit (see :mod:`.fit_indices`)."""
    N = lik.N
    G = pt.n_groups
    X2, df = test.chisq, test.df
    out: dict[str, Any] = {"chisq": X2, "df": df, "npar": pt.n_free}
    out["pvalue"] = float(stats.chi2.sf(X2, df)) if df > 0 else float("nan")
    fitted_base = _baseline(pt, lik, clusters, scaled, information, fiml)
    base = fitted_base[0] if fitted_base else None
    X2b = base.chisq if base else float("nan")
    dfb = base.df if base else float("nan")
    out.update(baseline_chisq=X2b, baseline_df=dfb)
    out["cfi"] = fi.cfi(X2, df, X2b, dfb)
    out["tli"] = fi.tli(X2, df, X2b, dfb)
    out["rmsea"] = fi.rmsea(X2, df, N, G)
    out["rmsea_ci_low"], out["rmsea_ci_high"] = fi.rmsea_ci(X2, df, N, G)
    out["rmsea_pvalue"] = fi.rmsea_pvalue(X2, df, N, G)
    out["srmr"] = fi.srmr(lik, theta, pt.meanstructure)
    x_idx = [pt.ov_names.index(x) for x in pt.ov_x]
    llx = fi.loglik_x(lik.stats, x_idx)
    m2ll = float(lik.m2ll_groups(theta).sum())
    out["loglik"] = -m2ll / 2 - llx
    out["unrestricted_loglik"] = -sum(st.h1_m2ll for st in lik.stats) / 2 - llx
    out["aic"] = -2 * out["loglik"] + 2 * pt.n_free
    out["bic"] = -2 * out["loglik"] + pt.n_free * math.log(N)
    if scaled and np.isfinite(test.scaling_factor):
        c = test.scaling_factor
        trace = test.trace_h1 - test.trace_h0
        out["chisq_scaled"] = X2 / c
        out["pvalue_scaled"] = float(stats.chi2.sf(X2 / c, df))
        out["scaling_factor"] = c
        cb = base.scaling_factor if base else float("nan")
        Xbs = X2b / cb
        out["baseline_chisq_scaled"] = Xbs
        out["cfi_scaled"] = fi.cfi(X2 / c, df, Xbs, dfb)
        out["tli_scaled"] = fi.tli(X2 / c, df, Xbs, dfb)
        out["rmsea_scaled"] = fi.rmsea(X2, trace, N, G)
        out["rmsea_scaled_ci_low"], out["rmsea_scaled_ci_high"] = fi.rmsea_ci(X2, trace, N, G)
        if not fiml:
            out["cfi_robust"] = fi.cfi(X2, df, X2b, dfb, c, cb)
            out["tli_robust"] = fi.tli(X2, df, X2b, dfb, c, cb)
            out["rmsea_robust"] = fi.rmsea(X2, df, N, G, c)
    if fiml:
        x_idx = [pt.ov_names.index(x) for x in pt.ov_x]
        out.update(_fiml_robust(lik, theta, df, fitted_base, scaled, G, x_idx))
    return out


def _fiml_robust(
    lik: Likelihood, theta, df, fitted_base, scaled: bool, G: int, x_idx: list[int]
) -> dict:
    """Robust CFI/TLI/RMSEA under FIML from the FIML-corrected statistics."""
    blocks = h1_blocks(lik, x_idx)
    m = fiml_corrected(lik, theta, df, blocks, scaled)
    out = {"rmsea_robust": fi.rmsea(m.chisq, m.df, lik.N, G, m.c_hat)}
    nan = float("nan")
    if fitted_base is None:
        return out | {"cfi_robust": nan, "tli_robust": nan}
    btest, blik, btheta = fitted_base
    b = fiml_corrected(blik, btheta, btest.df, blocks, scaled)
    out["cfi_robust"] = fi.cfi(m.chisq, m.df, b.chisq, b.df, m.c_hat, b.c_hat)
    out["tli_robust"] = fi.tli(m.chisq, m.df, b.chisq, b.df, m.c_hat, b.c_hat)
    return out
