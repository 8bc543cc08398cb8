r"""Identification checks and Heywood cases.

Before estimation:

* **t-rule**: the number of free parameters may not exceed the number of sample moments
  (variances, covariances and, with a mean structure, means, minus the fixed moments of
  exogenous covariates): :math:`df \ge 0`.
* **Local identification** (Rothenberg 1971; Bekker, Merckens & Wansbeek 1994): the
  Jacobian :math:`\Delta = \partial(\mu, \mathrm{vech}\,\Sigma)/\partial\theta` must have
  full column rank. It is evaluated at two random points near the starting values (fixed
  internal seed, so the check is deterministic); a rank deficiency at both means the model
  is not identified, and the parameters loading on the null space are named.

After estimation the information matrix must be non-singular (empirical identification);
negative variance estimates (Heywood cases) and a model-implied latent covariance matrix
that is not positive definite are flagged.

Examples
--------
>>> import numpy as np
>>> from mutualaid_outcomes.models.sem.syntax import parse_model
>>> from mutualaid_outcomes.models.sem.partable import build_partable
>>> from mutualaid_outcomes.models.sem.samplestats import group_stats
>>> from mutualaid_outcomes.models.sem.ram import RamModel
>>> from mutualaid_outcomes.models.sem.likelihood import Likelihood
>>> X = np.random.default_rng(0).normal(size=(100, 2))
>>> st = group_stats(X)
>>> pt = build_partable(parse_model("f =~ x1 + x2"), ["x1", "x2"])
>>> lik = Likelihood(RamModel(pt, [(st.mean, st.cov)]), [st])
>>> check_identification(pt, lik, np.array([1.0, 0.5, 0.5, 0.5]))
Traceback (most recent call last):
...
mutualaid_outcomes.models.sem._errors.IdentificationError: The model is not identified: it has 4 free parameters but only 3 sample moments (df = -1). Fix more parameters (for example a loading or a variance) or add indicators.
"""

from __future__ import annotations

import numpy as np

from ._errors import IdentificationError
from .inference import degrees_of_freedom
from .likelihood import Likelihood
from .partable import ParTable

__all__ = ["check_identification", "check_information", "heywood_rows", "describe_params"]

_RANK_TOL = 1e-9


def describe_params(pt: ParTable, indices: np.ndarray) -> list[str]:
    """Human-readable names of free parameters (0-based indices)."""
    names = []
    for k in indices:
        row = next(r for r in pt.rows if r.free == k + 1)
        g = f" (group {row.group + 1})" if pt.n_groups > 1 else ""
        names.append(f"{row.lhs} {row.op} {row.rhs}".strip() + g)
    return names


def _jacobian(lik: Likelihood, theta: np.ndarray) -> np.ndarray:
    blocks = []
    for g in range(lik.model.n_groups):
        dsig, dmu = lik.model.jacobian_group(theta, g)
        i, j = np.triu_indices(dsig.shape[1])
        blocks.append(dsig[:, i, j].T)
        if lik.model.meanstructure:
            blocks.append(dmu.T)
    return np.vstack(blocks)


def _null_params(M: np.ndarray, tol: float) -> np.ndarray | None:
    u, s, vt = np.linalg.svd(M, full_matrices=False)
    if s.size == 0:
        return None
    if s[-1] > tol * s[0] and M.shape[0] >= M.shape[1]:
        return None
    v = vt[-1]
    return np.flatnonzero(np.abs(v) > 0.01 * np.abs(v).max())


def check_identification(pt: ParTable, lik: Likelihood, theta0: np.ndarray) -> None:
    """Raise :class:`IdentificationError` if the t-rule or the rank check fails."""
    n_x = len(pt.ov_x)
    df = degrees_of_freedom(lik.stats, n_x, pt.meanstructure, pt.n_free)
    if df < 0:
        moments = df + pt.n_free
        raise IdentificationError(
            f"The model is not identified: it has {pt.n_free} free parameters but only "
            f"{moments} sample moments (df = {df}). Fix more parameters (for example a "
            "loading or a variance) or add indicators."
        )
    if pt.n_free == 0:
        return
    rng = np.random.default_rng(20240620)
    bad = None
    for _ in range(2):
        theta = theta0 + rng.normal(scale=0.1, size=theta0.size) * (np.abs(theta0) + 0.2)
        bad = _null_params(_jacobian(lik, theta), _RANK_TOL)
        if bad is None:
            return
    names = describe_params(pt, bad)  # type: ignore[arg-type]  # not None after the loop
    raise IdentificationError(
        "The model is not identified: the Jacobian of the model-implied moments is rank "
        f"deficient, so these parameters cannot be estimated separately: {', '.join(names)}. "
        "Fix one of them (for example a loading to 1 or a variance), add an equality "
        "constraint, or remove a path."
    )


def check_information(pt: ParTable, info: np.ndarray) -> None:
    """Raise :class:`IdentificationError` if the information at the estimates is singular."""
    w, v = np.linalg.eigh((info + info.T) / 2)
    if w.size and w[0] > 1e-12 * max(w[-1], 1e-300):
        return
    bad = np.flatnonzero(np.abs(v[:, 0]) > 0.1 * np.abs(v[:, 0]).max())
    raise IdentificationError(
        "The information matrix at the estimates is singular (smallest eigenvalue "
        f"{w[0]:.3g}): the model is empirically not identified; standard errors cannot be "
        f"computed. Parameters involved: {', '.join(describe_params(pt, bad))}."
    )


def heywood_rows(pt: ParTable, values: np.ndarray, lik: Likelihood, theta: np.ndarray):
    """Describe negative variances and non-positive-definite latent covariance matrices."""
    out = []
    for k, r in enumerate(pt.rows):
        if r.op == "~~" and r.lhs == r.rhs and r.free and values[k] < 0:
            g = f" (group {r.group + 1})" if pt.n_groups > 1 else ""
            out.append(f"{r.lhs} ~~ {r.lhs}{g} = {values[k]:.4g}")
    p = lik.model.p
    if lik.model.m > p:
        for grp in range(pt.n_groups):
            lv = lik.model.implied_group(theta, grp).sigma_all[p:, p:]
            if np.linalg.eigvalsh(lv).min() < -1e-10 * max(np.abs(lv).max(), 1.0):
                where = f" in group {grp + 1}" if pt.n_groups > 1 else ""
                out.append(f"model-implied latent covariance matrix{where} not positive definite")
    return out
