"""Internal-consistency reliability: Cronbach's alpha (with CIs), item statistics, omega total.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from mutualaid_outcomes.instruments.reliability import reliability
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=200)
>>> df = pd.DataFrame({f"x{i}": f + rng.normal(size=200) for i in range(4)})
>>> res = reliability(df, ["x0", "x1", "x2", "x3"])
>>> round(res.alpha, 2)
0.76
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._validation import (
    MissingReport,
    as_column_list,
    check_columns,
    check_conf_level,
    check_dataframe,
    check_numeric,
    check_option,
    listwise_delete,
)
from ..errors import DataValidationError, EstimationError
from ..results import TIDY_COLUMNS, BaseResult

__all__ = ["ReliabilityResult", "reliability", "GLANCE_COLUMNS"]

#: glance() columns of every ReliabilityResult
GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "n_items",
    "alpha",
    "std_alpha",
    "g6_smc",
    "average_r",
    "omega_total",
    "mean",
    "sd",
    "method",
)


def _smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations 1 - 1 / diag(R^-1) (pseudo-inverse if singular)."""
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(r)
    return 1.0 - 1.0 / np.diag(inv)


def _alpha_parts(c: np.ndarray, r: np.ndarray) -> dict[str, float]:
    k = c.shape[0]
    sum_c = c.sum()
    sum_r = r.sum()
    raw = (1.0 - np.trace(c) / sum_c) * k / (k - 1)
    std = (1.0 - k / sum_r) * k / (k - 1)
    g6 = 1.0 - (k - _smc(r).sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    q = (2 * k**2 / ((k - 1) ** 2 * sum_c**3)) * (
        sum_c * (np.trace(c @ c) + np.trace(c) ** 2) - 2 * np.trace(c) * (c @ c).sum()
    )
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "q": q}


def _minres_one_factor(r: np.ndarray) -> np.ndarray:
    """Loadings of a one-factor minimum-residual solution, parameterised as psych does.

    psych's ``fa(fm="minres")`` searches uniquenesses ``psi`` in ``[0.005, 1]``; for each
    ``psi`` the loadings are the first eigenvector of ``R - diag(psi)`` times the root of
    its eigenvalue, and the objective is ``sum_{i<j} (r_ij - l_i l_j)^2``. The same
    problem is solved here with an analytic gradient and tight tolerances, starting
    from psych's start ``psi = 1 - smc``.
    """
    p = r.shape[0]
    off = ~np.eye(p, dtype=bool)

    def loadings(psi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, v = np.linalg.eigh(r - np.diag(psi))
        return w[::-1], v[:, ::-1], v[:, -1]

    def fun(psi: np.ndarray) -> tuple[float, np.ndarray]:
        w, vecs, v = loadings(psi)
        e = max(w[0], 0.0)
        resid = (r - e * np.outer(v, v)) * off
        f = 0.25 * float((resid**2).sum())
        # derivatives of the leading eigenpair with respect to psi_k
        de = -(v**2)
        gap = w[0] - w[1:]
        v1 = vecs[:, 1:]
        d = -(v1 / gap) @ v1.T * v[None, :]
        ev = resid @ v
        grad = -0.5 * (de * (v @ ev) + 2 * e * (d.T @ ev))
        return f, grad

    start = np.clip(1.0 - _smc(r), 0.005, 1.0)
    opt = optimize.minimize(
        fun,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * p,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000},
    )
    w, _, v = loadings(opt.x)
    lam = v * np.sqrt(max(w[0], 0.0))
    if lam.sum() < 0:
        lam = -lam
    return lam


@dataclass(frozen=True)
class ReliabilityResult(BaseResult):
    """Reliability of a set of items (immutable).

    Attributes
    ----------
    alpha, std_alpha, g6_smc, average_r, omega_total : float
        Raw and standardised Cronbach's alpha, Guttman's lambda 6, mean inter-item
        correlation, McDonald's omega total.
    alpha_se : float
        Duhachek & Iacobucci (2004) asymptotic standard error of alpha (psych ``ase``).
    item_stats : pandas.DataFrame
        One row per item: ``item, n, raw_r, std_r, r_cor, r_drop, mean, sd,
        alpha_if_deleted, std_alpha_if_deleted, g6_if_deleted, average_r_if_deleted,
        loading``.
    n, n_items : int
        Rows used and number of items.
    missing_report : MissingReport
        Rows dropped for missing values.
    mean, sd : float
        Mean and SD of the person-level mean item score (psych's default).
    """

    alpha: float
    std_alpha: float
    g6_smc: float
    average_r: float
    omega_total: float
    alpha_se: float
    item_stats: pd.DataFrame
    n: int
    n_items: int
    missing_report: MissingReport
    mean: float
    sd: float

    _can_exponentiate = False

    def feldt_ci(self, conf_level: float = 0.95) -> tuple[float, float]:
        """Feldt (1965) interval for alpha, as psych ``alpha.ci``.

        ``1 - (1 - alpha) F_{1-p/2}`` and ``1 - (1 - alpha) F_{p/2}`` with
        ``F ~ F(n - 1, (n - 1)(k - 1))`` and ``p = 1 - conf_level``.
        """
        conf_level = check_conf_level(conf_level)
        p = 1 - conf_level
        d1, d2 = self.n - 1, (self.n - 1) * (self.n_items - 1)
        lo = 1 - (1 - self.alpha) * stats.f.ppf(1 - p / 2, d1, d2)
        hi = 1 - (1 - self.alpha) * stats.f.ppf(p / 2, d1, d2)
        return float(lo), float(hi)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        z = stats.norm.ppf(0.5 + conf_level / 2)
        flo, fhi = self.feldt_ci(conf_level)
        rows = [
            ("alpha", self.alpha, self.alpha_se, flo, fhi, "Feldt interval"),
            (
                "alpha_duhachek",
                self.alpha,
                self.alpha_se,
                self.alpha - z * self.alpha_se,
                self.alpha + z * self.alpha_se,
                "Duhachek & Iacobucci normal interval",
            ),
            ("std_alpha", self.std_alpha, np.nan, np.nan, np.nan, "standardised alpha"),
            ("g6_smc", self.g6_smc, np.nan, np.nan, np.nan, "Guttman lambda 6"),
            ("average_r", self.average_r, np.nan, np.nan, np.nan, "mean inter-item r"),
            (
                "omega_total",
                self.omega_total,
                np.nan,
                np.nan,
                np.nan,
                "one-factor minres, as psych::omega(nfactors = 1)",
            ),
        ]
        out = pd.DataFrame(
            [
                {
                    "term": t,
                    "estimate": e,
                    "std_error": se,
                    "statistic": np.nan,
                    "p_value": np.nan,
                    "conf_low": lo,
                    "conf_high": hi,
                    "interval": m,
                }
                for t, e, se, lo, hi, m in rows
            ]
        )
        return out[[*TIDY_COLUMNS, "interval"]]

    def glance(self) -> pd.DataFrame:
        """One row: n, n_dropped, n_items, alpha, std_alpha, g6_smc, average_r, omega_total, mean, sd, method."""
        from ..results import glance_frame

        return glance_frame(
            {
                "n": self.n,
                "n_dropped": self.missing_report.n_dropped,
                "n_items": self.n_items,
                "alpha": self.alpha,
                "std_alpha": self.std_alpha,
                "g6_smc": self.g6_smc,
                "average_r": self.average_r,
                "omega_total": self.omega_total,
                "mean": self.mean,
                "sd": self.sd,
                "method": "Cronbach alpha; omega total (one-factor minres)",
            },
            GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"Reliability of {self.n_items} items"

    def _notes(self) -> list[str]:
        return [self.missing_report.describe()]


def _check_items(
    data: pd.DataFrame, items: str | Sequence[str], reverse: str | Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The item columns (at least two, distinct, numeric) and the reversed ones among them."""
    cols = as_column_list(items, "items")
    if len(cols) < 2:
        raise DataValidationError(f"`items` must name at least two columns; got {len(cols)}.")
    if len(set(cols)) != len(cols):
        raise DataValidationError("`items` lists a column more than once.")
    check_columns(data, cols, "items")
    check_numeric(data, cols, "items")
    rev = as_column_list(reverse, "reverse")
    unknown = [c for c in rev if c not in cols]
    if unknown:
        raise DataValidationError(f"`reverse` names {unknown}, which are not in `items`.")
    return cols, rev


def _if_deleted(c: np.ndarray, r: np.ndarray) -> dict[str, list[float]]:
    """Raw and standardised alpha, G6 and average r with each item dropped in turn."""
    k = c.shape[0]
    drop: dict[str, list[float]] = {"raw": [], "std": [], "g6": [], "av_r": []}
    for j in range(k):
        keep = [i for i in range(k) if i != j]
        if k > 2:
            part = _alpha_parts(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            for key in drop:
                drop[key].append(part[key])
        else:
            other = keep[0]
            drop["raw"].append(c[0, 1] / c[other, other])
            drop["std"].append(r[0, 1])
            drop["g6"].append(float(_smc(r)[0]))
            drop["av_r"].append(r[0, 1])
    return drop


def _omega(r_om: np.ndarray) -> tuple[np.ndarray, float]:
    """One-factor (minres) loadings and omega total, as ``psych::omega(flip = TRUE)``."""
    lam = _minres_one_factor(r_om)
    # psych::omega(flip = TRUE): items loading negatively are reversed before omega
    sign = np.where(lam < 0, -1.0, 1.0)
    r_flip = r_om * np.outer(sign, sign)
    if (sign < 0).any():
        lam = np.abs(_minres_one_factor(r_flip))
    return lam, 1.0 - (1.0 - lam**2).sum() / r_flip.sum()


def reliability(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    conf_level: float = 0.95,
    reverse: Sequence[str] | None = None,
    use: Literal["listwise", "pairwise"] = "listwise",
) -> ReliabilityResult:
    """Cronbach's alpha with confidence intervals, item statistics and McDonald's omega total.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, one row per respondent. Not modified.
    items : sequence of str
        Item columns (at least two; three or more for alpha-if-deleted).
    conf_level : float
        Level of the intervals in ``tidy()``.
    reverse : sequence of str, optional
        Items to reverse before analysis, as psych ``alpha(keys=)``:
        ``x' = (min + max) - x`` with the minimum and maximum over all items.
    use : {'listwise', 'pairwise'}
        Missing item responses. ``'listwise'`` (default): rows with any missing item
        are dropped. ``'pairwise'``: R ``psych::alpha``'s default (``use =
        "pairwise"``) -- each covariance from the rows answering both items, the
        total score the mean of the answered items; only rows answering no item are
        dropped.

    Returns
    -------
    ReliabilityResult
        ``tidy()`` rows ``alpha`` (Feldt interval), ``alpha_duhachek`` (normal interval
        from the asymptotic SE), ``std_alpha``, ``g6_smc``, ``average_r``,
        ``omega_total``; ``item_stats`` with item-total correlations and the
        if-item-deleted statistics; ``glance()``.

    Raises
    ------
    ColumnNotFoundError
        An item is not a column.
    DataValidationError
        Non-numeric items, fewer than two items, or an item without variance.
    EstimationError
        Fewer than three complete rows (``'listwise'``), or a pair of items answered
        together in fewer than three rows (``'pairwise'``).
    OptionError
        ``use`` is not one of the values above.

    Notes
    -----
    With ``use='listwise'`` rows with any missing item are dropped (reported in
    ``glance()`` and the summary notes). With ``use='pairwise'`` (psych's default),
    ``C`` holds pairwise-complete covariances (R ``cov(x, use = "pairwise")``),
    ``R = cov2cor(C)``, the total score is the mean of the answered items, ``raw_r``
    its pairwise correlation with each item, ``item_stats['n']`` the rows answering
    each item, and ``n`` (used in the ASE and the Feldt interval) the rows answering
    at least one item; psych's ``n`` counts every row passed in, so the two differ only
    when some row answers no item (such rows are dropped and reported here). Omega
    total then uses the pairwise correlations (R ``cor(x, use = "pairwise")``), as
    psych::omega does. With covariance matrix ``C`` and correlation matrix ``R`` of the
    ``k`` items: raw alpha ``k/(k-1) (1 - tr C / 1'C1)``, standardised alpha
    ``k/(k-1) (1 - k / 1'R1)``, lambda 6 ``1 - (k - sum smc) / 1'R1``, and the
    Duhachek-Iacobucci SE ``sqrt(Q / n)``. Item statistics: ``raw_r`` is the
    correlation of the item with the total, ``std_r`` the same from ``R``, ``r_cor``
    corrects for overlap using the smc, ``r_drop`` correlates the item with the total
    of the other items. Omega total is ``1 - sum(u) / 1'R1`` with uniquenesses
    ``u = 1 - l^2`` of a one-factor minimum-residual solution, the definition
    psych::omega uses with ``nfactors = 1``; as psych (``flip = TRUE``), items with
    negative loadings are reversed first, and ``loading`` reports the flipped
    (positive) loadings.

    Validated against R psych 2.2.9 (``tests/reference/reliability.R``) on
    ``attitude``, ``USJudgeRatings`` and bfi C1-C5: alpha, standardised alpha,
    lambda 6, average r, ASE, Feldt limits, item-total correlations and all
    if-deleted statistics agree to 1e-8 relative. psych fits the minres solution with
    ``optim`` (L-BFGS-B), which stops about 1e-6 short of the exact optimum used here,
    so omega total agrees to 1e-5 relative and loadings to 1e-4 (named tolerances in
    the tests; the largest gaps occur where a uniqueness sits at psych's 0.005 bound).
    ``use='pairwise'`` reproduces ``psych::alpha``'s default on bfi C1-C5 (with its
    missing responses) and on ``attitude`` with one item missing in every row
    (``tests/reference/reliability_pairwise.R``), to the same tolerances.

    References
    ----------
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16:297-334. Feldt LS (1965). The approximate sampling distribution
    of Kuder-Richardson reliability coefficient twenty. Psychometrika 30:357-370.
    Duhachek A, Iacobucci D (2004). Alpha's standard error (ASE). Journal of Applied
    Psychology 89:792-808. McDonald RP (1999). Test Theory: A Unified Treatment.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and
    Personality Research, version 2.2.9.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> f = rng.normal(size=300)
    >>> df = pd.DataFrame({f"i{j}": f + rng.normal(size=300) for j in range(5)})
    >>> res = reliability(df, [f"i{j}" for j in range(5)])
    >>> res.tidy().loc[:1, ["term", "estimate", "conf_low", "conf_high"]].round(3)
                 term  estimate  conf_low  conf_high
    0           alpha     0.806     0.769      0.839
    1  alpha_duhachek     0.806     0.772      0.841
    """
    data = check_dataframe(data, "data")
    cols, rev = _check_items(data, items, reverse)
    conf_level = check_conf_level(conf_level)
    check_option(use, ("listwise", "pairwise"), "use")
    if use == "listwise":
        clean, report = listwise_delete(data, cols, "data")
    else:
        clean, report = _drop_unanswered(data, cols)
    x = clean.to_numpy(dtype=float, copy=True)  # written to below (reverse keying)
    n, k = x.shape
    if rev:
        adjust = np.nanmin(x) + np.nanmax(x)
        for name in rev:
            j = cols.index(name)
            x[:, j] = adjust - x[:, j]
    m = _moments(x, cols, pairwise=use == "pairwise")
    c, r, sds = m["c"], m["r"], m["sds"]
    tot = _alpha_parts(c, r)
    total_mean = m["total"]

    # item statistics
    sum_c = c.sum()
    raw_r = m["raw_r"]
    std_r = r.sum(axis=0) / np.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, _smc(r))
    r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    col_c = c.sum(axis=0)
    v_drop = sum_c - 2 * col_c + np.diag(c)
    r_drop = (col_c - np.diag(c)) / np.sqrt(np.diag(c) * v_drop)
    drop = _if_deleted(c, r)
    lam, omega_total = _omega(m["r_omega"])

    item_stats = pd.DataFrame(
        {
            "item": cols,
            "n": m["item_n"],
            "raw_r": raw_r,
            "std_r": std_r,
            "r_cor": r_cor,
            "r_drop": r_drop,
            "mean": np.nanmean(x, axis=0),
            "sd": sds,
            "alpha_if_deleted": drop["raw"],
            "std_alpha_if_deleted": drop["std"],
            "g6_if_deleted": drop["g6"],
            "average_r_if_deleted": drop["av_r"],
            "loading": lam,
        }
    )
    return ReliabilityResult(
        alpha=float(tot["raw"]),
        std_alpha=float(tot["std"]),
        g6_smc=float(tot["g6"]),
        average_r=float(tot["av_r"]),
        omega_total=float(omega_total),
        alpha_se=float(np.sqrt(tot["q"] / n)),
        item_stats=item_stats,
        n=int(n),
        n_items=int(k),
        missing_report=report,
        mean=float(total_mean.mean()),
        sd=float(total_mean.std(ddof=1)),
    )


def _drop_unanswered(data: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, MissingReport]:
    """Rows answering at least one item (pairwise use), with the report of the others."""
    sub = data.loc[:, cols]
    keep = sub.notna().any(axis=1)
    isna = sub.loc[~keep].isna()
    report = MissingReport(int(len(data)), int(keep.sum()), {c: int(isna[c].sum()) for c in cols})
    return sub.loc[keep].copy(), report


def _moments(x: np.ndarray, cols: list[str], *, pairwise: bool) -> dict[str, np.ndarray]:
    """Covariances, correlations, total score and item-total r (listwise or pairwise).

    Pairwise as psych::alpha: ``C = cov(x, use = "pairwise")``, ``R = cov2cor(C)``, the
    total the mean of the answered items, ``raw_r = cor(total, x, use = "pairwise")``;
    omega uses ``cor(x, use = "pairwise")``.
    """
    n, k = x.shape
    frame = pd.DataFrame(x)
    answered = ~np.isnan(x)
    if pairwise:
        # rows answering both items of every pair: a float product (BLAS; the counts
        # are whole numbers far below 2**53, so exact), not numpy's integer loop
        ans = answered.astype(np.float64)
        both = (ans.T @ ans).astype(np.int64)
    else:  # listwise: every kept row answers every item
        both = np.full((k, k), n, dtype=np.int64)
    if both.min() < 3:
        i, j = np.unravel_index(int(np.argmin(both)), both.shape)
        what = (
            "complete rows" if not pairwise else f"rows answering both {cols[i]!r} and {cols[j]!r}"
        )
        raise EstimationError(f"reliability needs at least 3 {what}; got {int(both[i, j])}.")
    c = frame.cov(ddof=1).to_numpy() if pairwise else np.cov(x, rowvar=False, ddof=1)
    sds = np.sqrt(np.diag(c))
    flat = [cols[j] for j in np.flatnonzero(~(sds > 0))]
    if flat:
        where = "answered rows" if pairwise else "complete rows"
        raise DataValidationError(f"`items` {flat} have no variance in the {where}.")
    r = c / np.outer(sds, sds)
    if not pairwise:
        raw_r = c.sum(axis=0) / np.sqrt(c.sum() * np.diag(c))
        return {
            "c": c, "r": r, "sds": sds, "r_omega": r, "total": x.mean(axis=1),
            "raw_r": raw_r, "item_n": np.full(k, n, dtype=np.int64),
        }  # fmt: skip
    total = np.nanmean(x, axis=1)
    raw_r = frame.corrwith(pd.Series(total), axis=0).to_numpy()
    return {
        "c": c, "r": r, "sds": sds, "r_omega": frame.corr().to_numpy(), "total": total,
        "raw_r": raw_r, "item_n": answered.sum(axis=0).astype(np.int64),
    }  # fmt: skip
