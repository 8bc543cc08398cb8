"""Taylor-linearisation variance of estimated totals in a multi-stage design.

For an estimator whose influence values are the rows ``z_i`` of ``Z`` (already multiplied
by the sampling weight), the variance is that of the estimated total of ``Z``. With PSU
totals ``t_hj = sum_{i in PSU j of stratum h} z_i``, ``n_h`` sampled and ``N_h``
population PSUs in stratum ``h``:

    V_1 = sum_h (1 - n_h / N_h) n_h / (n_h - 1) sum_j (t_hj - tbar_h)(t_hj - tbar_h)'

(``1 - n_h / N_h = 1`` without FPC). With an FPC at the first stage and later stages,
each stage-1 cluster adds its own within-cluster variance computed the same way from
the stage-2 units, multiplied by the stage-1 sampling fraction ``n_h / N_h``, and so on
down the stages (the recursion of R ``survey:::multistage``). Strata with a single PSU
follow ``lonely_psu``: ``'adjust'`` uses the uncentred total ``f_h t t'``, ``'average'``
drops them and multiplies the other strata of the same call by ``H / H_ok``,
``'remove'`` and ``'certainty'`` add zero (``survey:::onestrat``).

Every sum is one sparse product over all rows (no loop over PSUs); validated against R
survey 4.1 ``svyrecvar`` through the estimators' reference tests.
"""

from __future__ import annotations

import numpy as np

from ._stages import CENSUS_TOL, Stage
from .design import SurveyDesign

__all__ = ["linearized_vcov"]


def _cluster_totals(
    stage: Stage, Z: np.ndarray, codes: np.ndarray | None, n_domains: int
) -> np.ndarray:
    """Cluster totals of ``Z``; with domain ``codes`` one column per (domain, column of Z)."""
    if codes is None:
        return stage.clusters.sums(Z)
    G = stage.clusters.n_groups
    keep = codes >= 0
    idx = stage.clusters.codes[keep] * n_domains + codes[keep]
    cols = []
    for k in range(Z.shape[1]):
        t = np.bincount(idx, weights=Z[keep, k], minlength=G * n_domains)
        cols.append(t.reshape(G, n_domains))
    # order (domain, column): domain-major, as the estimators lay out their estimates
    return np.stack(cols, axis=2).reshape(G, n_domains * Z.shape[1])


def _stage_term(
    stage: Stage,
    T: np.ndarray,
    multiplier: np.ndarray,
    lonely_psu: str,
    group_of_stratum: np.ndarray,
) -> np.ndarray:
    """One stage's contribution: sum over strata of ``multiplier_h * scale_h * D_h' D_h``."""
    H = stage.strata.n_groups
    cs = stage.cluster_stratum
    n_h = stage.n_sampled
    f = stage.fraction_unsampled
    scale = np.where(n_h > 1, f * n_h / np.maximum(n_h - 1, 1), f)
    scale = np.where(f < CENSUS_TOL, 0.0, scale)
    S = np.zeros((H, T.shape[1]))
    np.add.at(S, cs, T)
    centre = S / n_h[:, None]
    lonely = n_h == 1
    if lonely_psu == "adjust":
        centre[lonely] = 0.0
    weight = scale * multiplier
    if lonely_psu == "average" and lonely.any():
        ok = ~lonely | (f < CENSUS_TOL)
        n_groups = int(group_of_stratum.max()) + 1
        n_str = np.bincount(group_of_stratum, minlength=n_groups).astype(float)
        n_ok = np.bincount(group_of_stratum, weights=ok.astype(float), minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = n_str / n_ok
        weight = np.where(ok, weight * factor[group_of_stratum], 0.0)
    D = T - centre[cs]
    Dw = D * np.sqrt(weight[cs])[:, None]
    return Dw.T @ Dw


def linearized_vcov(
    design: SurveyDesign,
    Z: np.ndarray,
    codes: np.ndarray | None = None,
    n_domains: int = 1,
) -> np.ndarray:
    """Covariance matrix of the estimated totals of the columns of ``Z``.

    Parameters
    ----------
    design : SurveyDesign
        The design (its strata, clusters, FPCs and lonely-PSU rule).
    Z : numpy.ndarray
        ``n x p`` influence values, already multiplied by the sampling weights (zero for
        rows outside a subset).
    codes : numpy.ndarray, optional
        Domain of each row (``0..n_domains-1``, ``-1`` for none): the totals are then
        those of ``Z`` within each domain, ordered domain by domain (``n_domains * p``
        columns), computed with one ``bincount`` per column instead of a dense
        ``n x (n_domains p)`` matrix.
    n_domains : int
        Number of domains in ``codes``.

    Returns
    -------
    numpy.ndarray
        ``p x p`` covariance matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survey.design import survey_design
    >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "w": [1.0, 1, 1, 1]})
    >>> d = survey_design(df, weights="w", cluster="psu")
    >>> float(linearized_vcov(d, np.array([[1.0], [2.0], [3.0], [4.0]]))[0, 0])
    6.666666666666666
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    stages = design.stages
    first = stages[0]
    V = _stage_term(
        first,
        _cluster_totals(first, Z, codes, n_domains),
        np.ones(first.strata.n_groups),
        design.lonely_psu,
        np.zeros(first.strata.n_groups, dtype=np.int64),
    )
    if not design.fpc_given or len(stages) == 1:
        return V
    # multiplier of each cluster at the previous stage: product of ancestors' n/N
    prev = first
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(np.isinf(prev.popsize), 0.0, prev.n_sampled / prev.popsize)
    cluster_mult = frac[prev.cluster_stratum]
    for stage in stages[1:]:
        parent = stage.stratum_parent
        if parent is None:  # set for every stage after the first
            raise ValueError("a later sampling stage has no parent clusters")
        mult = cluster_mult[parent]
        if np.any(mult > 0):
            T = _cluster_totals(stage, Z, codes, n_domains)
            V = V + _stage_term(stage, T, mult, design.lonely_psu, parent)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(np.isinf(stage.popsize), 0.0, stage.n_sampled / stage.popsize)
        cluster_mult = mult[stage.cluster_stratum] * frac[stage.cluster_stratum]
    return V
