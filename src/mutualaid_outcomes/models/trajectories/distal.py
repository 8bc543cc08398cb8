r"""Distal outcomes of trajectory classes, corrected for classification error (BCH).

Comparing a later outcome across persons' *modal* trajectory classes treats the
classification as error-free and pulls the class means towards each other. The BCH
method (Bolck, Croon & Hagenaars 2004; Vermunt 2010; Bakk, Tekle & Vermunt 2013)
corrects for it. With posterior probabilities :math:`\tau_{is}` from the trajectory model
and modal classes :math:`W_i`, the classification-error matrix is

.. math::

    D_{st} = P(W = t \mid X = s) = \frac{\sum_i \tau_{is} 1\{W_i = t\}}{\sum_i \tau_{is}},

computed over every person of the trajectory fit. Each person then enters every class
:math:`s` with weight :math:`w_{is} = (D^{-1})_{W_i s}` (weights can be negative), and the
class mean of the distal outcome :math:`Z` solves the weighted estimating equation
:math:`\sum_i w_{is} (Z_i - \mu_s) = 0`, i.e. :math:`\mu_s = \sum_i w_{is} Z_i / \sum_i w_{is}`.
Because :math:`E[\sum_t 1\{W = t\} (D^{-1})_{ts} \mid X] = 1\{X = s\}`, this is unbiased for
:math:`E[Z \mid X = s]` whatever the distribution of :math:`Z`. Standard errors are the
sandwich of the estimating equations (Bakk & Vermunt 2016), treating the trajectory
model (hence :math:`D`) as fixed. ``method="modal"`` gives the uncorrected means of the
modal classes, for comparison. A 0/1 outcome gives class proportions.

Validated by simulation (``tests/models/trajectories/test_distal.py``): with entropy
about 0.6 the modal means are biased towards each other by several standard errors while
the BCH means are unbiased within Monte Carlo error.

References
----------
Bolck A, Croon M, Hagenaars J (2004). Estimating latent structure models with
categorical variables: one-step versus three-step estimators. *Political Analysis*
12:3-27.

Vermunt JK (2010). Latent class modeling with covariates: two improved three-step
approaches. *Political Analysis* 18:450-469.

Bakk Z, Tekle FB, Vermunt JK (2013). Estimating the association between latent class
membership and external variables using bias-adjusted three-step approaches.
*Sociological Methodology* 43:272-311.

Bakk Z, Vermunt JK (2016). Robustness of stepwise latent class modeling with continuous
distal outcomes. *Structural Equation Modeling* 23:20-31.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import check_columns, check_dataframe, check_numeric, check_option
from ...errors import DataValidationError, EstimationError
from ...results import BaseResult, glance_frame, wald_table
from .result import TrajectoryResult

__all__ = ["distal_outcome", "DistalOutcomeResult", "bch_weights"]


def bch_weights(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BCH weights ``(N, K)`` and the classification-error matrix ``D`` from posteriors.

    Examples
    --------
    >>> tau = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    >>> w, D = bch_weights(tau)
    >>> D.round(3).tolist()
    [[0.889, 0.111], [0.333, 0.667]]
    """
    N, K = tau.shape
    modal = np.argmax(tau, axis=1)
    Wm = np.zeros((N, K))
    Wm[np.arange(N), modal] = 1.0
    D = (tau.T @ Wm) / tau.sum(axis=0)[:, None]
    try:
        Dinv = np.linalg.inv(D)
    except np.linalg.LinAlgError:
        raise EstimationError(
            "The classification-error matrix is singular (a class is never the modal "
            "class); BCH weights cannot be formed. Fit fewer classes."
        ) from None
    return Dinv[modal], D


@dataclass(frozen=True, repr=False, eq=False)
class DistalOutcomeResult(BaseResult):
    """Class-specific means of a distal outcome (BCH-corrected or modal).

    Attributes
    ----------
    outcome, method : str
        The distal outcome column and ``"bch"`` or ``"modal"``.
    means : numpy.ndarray
        Class means (proportions for a 0/1 outcome).
    covariance : numpy.ndarray
        Their sandwich covariance.
    error_matrix : numpy.ndarray
        ``D[s, t] = P(modal class t | true class s)``.
    n : int
        Persons with the outcome; ``n_excluded`` persons of the fit lack it.
    """

    outcome: str
    method: str
    means: np.ndarray
    covariance: np.ndarray
    error_matrix: np.ndarray
    n: int
    n_excluded: int
    min_weight: float
    _can_exponentiate = False

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        K = len(self.means)
        se = np.sqrt(np.diag(self.covariance))
        out = wald_table([f"class{k + 1}" for k in range(K)], self.means, se, conf_level)
        out["class"] = np.arange(1, K + 1)
        return out

    def contrasts(self, conf_level: float = 0.95) -> pd.DataFrame:
        """Every pairwise difference of class means with Wald SEs and intervals."""
        K = len(self.means)
        terms, est, se = [], [], []
        for a in range(K):
            for b in range(a + 1, K):
                c = np.zeros(K)
                c[b], c[a] = 1.0, -1.0
                terms.append(f"class{b + 1} - class{a + 1}")
                est.append(float(c @ self.means))
                se.append(float(np.sqrt(c @ self.covariance @ c)))
        return wald_table(terms, est, se, conf_level)

    def _wald(self) -> tuple[float, int, float]:
        K = len(self.means)
        if K < 2:
            return np.nan, 0, np.nan
        C = np.hstack([-np.ones((K - 1, 1)), np.eye(K - 1)])
        d = C @ self.means
        stat = float(d @ np.linalg.solve(C @ self.covariance @ C.T, d))
        return stat, K - 1, float(stats.chi2.sf(stat, K - 1))

    def glance(self) -> pd.DataFrame:
        """One row: ``method, n, n_excluded, statistic, df, p_value, min_weight``.

        ``statistic`` is the Wald chi-square test that all class means are equal.
        """
        stat, df, p = self._wald()
        return glance_frame(
            {
                "method": self.method,
                "n": self.n,
                "n_excluded": self.n_excluded,
                "statistic": stat,
                "df": df,
                "p_value": p,
                "min_weight": self.min_weight,
            },
            ("method", "n", "n_excluded", "statistic", "df", "p_value", "min_weight"),
        )

    def _title(self) -> str:
        label = "BCH-corrected" if self.method == "bch" else "modal-class (uncorrected)"
        return f"Distal outcome '{self.outcome}' by trajectory class ({label})"


def _person_outcome(data: pd.DataFrame, id: str, outcome: str) -> pd.Series:
    sub = data[[id, outcome]].dropna()
    counts = sub.groupby(id)[outcome].nunique()
    bad = int((counts > 1).sum())
    if bad:
        raise DataValidationError(
            f"`outcome` ('{outcome}') must have one value per person for a distal outcome; "
            f"{bad} persons have several. Pass one row per person (e.g. the final wave)."
        )
    return sub.groupby(id)[outcome].first()


def distal_outcome(
    result: TrajectoryResult,
    data: pd.DataFrame,
    outcome: str,
    *,
    method: Literal["bch", "modal"] = "bch",
) -> DistalOutcomeResult:
    """Mean of a later (distal) outcome in each trajectory class, corrected for misclassification.

    Parameters
    ----------
    result : TrajectoryResult
        A fitted trajectory model.
    data : pandas.DataFrame
        Holds ``result.id`` and ``outcome`` (one value per person; several identical rows
        per person are fine). Not modified.
    outcome : str
        Numeric distal outcome (a 0/1 outcome gives class proportions).
    method : {"bch", "modal"}
        BCH correction (default) or plain means of the modal classes.

    Returns
    -------
    DistalOutcomeResult
        ``tidy()`` (class means), ``contrasts()`` (pairwise differences) and ``glance()``
        (Wald test of equal means).

    Raises
    ------
    ColumnNotFoundError
        ``data`` lacks the id or outcome column.
    DataValidationError
        The outcome is not numeric or varies within persons, or no fitted person has it.

    Notes
    -----
    See the module docstring for the estimator; its SEs treat the trajectory model as
    known, as Mplus' and Latent GOLD's BCH do.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.trajectories import fit_trajectories
    >>> rng = np.random.default_rng(2)
    >>> n, t = 400, np.arange(4.0)
    >>> hi = rng.random(n) < 0.5
    >>> y = np.where(hi[:, None], 2.0 + 0.5 * t, 1.0 - 0.2 * t) + rng.normal(size=(n, 4))
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "wave": np.tile(t, n), "y": y.ravel()})
    >>> res = fit_trajectories(df, "id", "wave", "y", 2, degree=1, n_starts=4, rng=1)
    >>> later = pd.DataFrame({"id": np.arange(n), "abstinent": (rng.random(n) < np.where(hi, 0.7, 0.3)).astype(float)})
    >>> distal_outcome(res, later, "abstinent").tidy()[["term", "estimate"]].round(2)
         term  estimate
    0  class1      0.31
    1  class2      0.66
    """
    check_dataframe(data)
    check_columns(data, [result.id, outcome], "outcome")
    check_numeric(data, [outcome], "outcome")
    method = check_option(method, ("bch", "modal"), "method")
    z_by_id = _person_outcome(data, result.id, outcome)
    post = result.posterior
    tau = result._tau()
    z = post[result.id].map(z_by_id).to_numpy(dtype=float)
    has = np.isfinite(z)
    if not has.any():
        raise DataValidationError(
            f"No person of the trajectory fit has a value of `outcome` ('{outcome}'); check "
            f"that `data` uses the same '{result.id}' values."
        )
    if method == "bch":
        W, D = bch_weights(tau)
    else:
        _, D = bch_weights(tau)
        W = np.zeros_like(tau)
        W[np.arange(len(tau)), np.argmax(tau, axis=1)] = 1.0
    W, zz = W[has], z[has]
    A = W.sum(axis=0)
    if np.any(np.abs(A) < 1e-8):
        raise EstimationError(
            "A class has no weight among persons with the outcome; its mean is not estimable."
        )
    mu = (W * zz[:, None]).sum(axis=0) / A
    U = W * (zz[:, None] - mu[None, :])
    V = (U.T @ U) / np.outer(A, A)
    return DistalOutcomeResult(
        outcome=outcome,
        method=method,
        means=mu,
        covariance=V,
        error_matrix=D,
        n=int(has.sum()),
        n_excluded=int((~has).sum()),
        min_weight=float(W.min()),
    )
