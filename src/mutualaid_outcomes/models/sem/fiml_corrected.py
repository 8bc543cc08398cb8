r"""Robust fit indices under FIML (lavaan ``lav_fit_fiml_corrected``, Zhang & Savalei).

With missing data lavaan (0.6.14, ``missing = "ml"``) computes ``cfi.robust``,
``tli.robust`` and ``rmsea.robust`` from the "FIML-corrected" statistic instead of the
Brosseau-Liard & Savalei correction used for complete data. Per group :math:`g`
(:math:`f_g = N_g/N`), with the saturated (EM) estimates :math:`\tilde\mu_g,\tilde\Sigma_g`:

* :math:`T_3 = \sum_g N_g F_{ML}(\mu_g(\hat\theta), \Sigma_g(\hat\theta);
  \tilde\mu_g, \tilde\Sigma_g)`: the ML chi-square of the FIML estimates against the EM
  moments treated as complete-data sample moments, with :math:`d_3` the model's degrees of
  freedom;
* :math:`W_m` the saturated model's observed information under missingness and
  :math:`J_m` its first-order (score cross-product) information, both at the EM
  estimates; :math:`W_c` the complete-data information at the EM moments; :math:`\Delta`
  the Jacobian of :math:`(\mu, \mathrm{vech}\,\Sigma)`; :math:`E = \Delta^\top W_m\Delta`;
  block-diagonal over groups with weights :math:`f_g` (:math:`1/f_g` for inverses);
* :math:`U = W_m - W_m\Delta E^{-1}\Delta^\top W_m`;
* with a scaled test (MLR, lavaan's "V3"):
  :math:`k = \mathrm{tr}(U W_m^{-1} W_c W_m^{-1} U\Gamma)`,
  :math:`\Gamma = W_m^{-1} J_m W_m^{-1}/f_g`; otherwise ("V6")
  :math:`k = \mathrm{tr}(W_c W_m^{-1} U W_m^{-1})`;
* :math:`\hat c_3 = k/d_3`.

The robust RMSEA is :math:`\sqrt{\max(T_3/(N d_3) - \hat c_3/N, 0)}\sqrt G`; the robust
CFI and TLI use :math:`T_3, \hat c_3` of the model and of the baseline (independence)
model, computed in the same way at the baseline's FIML estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import block_diag

from .inference import _h1_expected, _keep, _vech_index, h1_observed
from .likelihood import Likelihood

__all__ = ["FimlCorrected", "H1Blocks", "h1_blocks", "fiml_corrected"]


@dataclass(frozen=True)
class FimlCorrected:
    """FIML-corrected statistic ``chisq``, its ``df`` and scaling ``c_hat``."""

    chisq: float
    df: float
    c_hat: float


@dataclass(frozen=True)
class H1Blocks:
    """Saturated-model matrices shared by the model and its baseline (all groups)."""

    Wm: np.ndarray
    Wmi: np.ndarray
    Wc: np.ndarray
    Gamma: np.ndarray
    keep: np.ndarray


def h1_blocks(lik: Likelihood, x_idx: Sequence[int]) -> H1Blocks:
    r""":math:`W_m`, :math:`W_m^{-1}`, :math:`W_c` and :math:`\Gamma`, group-weighted.

    The moments of fixed covariates (``x_idx``) are left out (lavaan zeroes their rows
    and columns).
    """
    Wm, Wmi, Wc, Gam = [], [], [], []
    for st in lik.stats:
        fg = st.n / lik.N
        k = _keep(st.p, x_idx, True)
        kk = np.ix_(k, k)
        A, sc = h1_observed(st, True)
        A = A[kk]
        sc = sc[:, k]
        Ai = np.linalg.inv(A)
        J = sc.T @ sc / st.n
        Wm.append(fg * A)
        Wmi.append(Ai / fg)
        Wc.append(fg * _h1_expected(st.cov, True)[kk])
        Gam.append(Ai @ J @ Ai / fg)
    keep = np.concatenate([_keep(st.p, x_idx, True) for st in lik.stats])
    return H1Blocks(block_diag(*Wm), block_diag(*Wmi), block_diag(*Wc), block_diag(*Gam), keep)


def _chisq_at_h1(lik: Likelihood, theta: np.ndarray) -> float:
    total = 0.0
    for g, st in enumerate(lik.stats):
        imp = lik.model.implied_group(theta, g)
        sign, logdet = np.linalg.slogdet(imp.sigma)
        if sign <= 0:
            return float("nan")
        inv = np.linalg.inv(imp.sigma)
        d = st.mean - imp.mu
        F = (
            logdet
            + float(np.sum(st.cov * inv))
            - np.linalg.slogdet(st.cov)[1]
            - st.p
            + float(d @ inv @ d)
        )
        total += st.n * F
    return total


def _delta(lik: Likelihood, theta: np.ndarray) -> np.ndarray:
    rows = []
    for g, st in enumerate(lik.stats):
        imp = lik.model.implied_group(theta, g)
        dsig, dmu = lik.model.jacobian_group(theta, g, imp)
        i, j = _vech_index(st.p)
        rows.append(np.hstack([dmu, dsig[:, i, j]]).T)
    return np.vstack(rows)


def fiml_corrected(
    lik: Likelihood, theta: np.ndarray, df: float, blocks: H1Blocks, scaled: bool
) -> FimlCorrected:
    """FIML-corrected statistic of the model at ``theta`` (see the module notes)."""
    if df <= 0:
        return FimlCorrected(float("nan"), float(df), float("nan"))
    X2 = _chisq_at_h1(lik, theta)
    D = _delta(lik, theta)[blocks.keep]
    Wm, Wmi = blocks.Wm, blocks.Wmi
    WD = Wm @ D
    E = D.T @ WD
    U = Wm - WD @ np.linalg.solve(E, WD.T)
    if scaled:
        k = float(np.trace(U @ Wmi @ blocks.Wc @ Wmi @ U @ blocks.Gamma))
    else:
        k = float(np.trace(blocks.Wc @ Wmi @ U @ Wmi))
    return FimlCorrected(X2, float(df), k / df)
