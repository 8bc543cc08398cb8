"""Weighted two-way tables with the Rao-Scott test of association (R ``svytable``, ``svychisq``).

For an ``r x c`` table with estimated cell proportions ``p`` (design covariance ``V``),
Pearson's ``X^2`` of the weighted table (scaled to the number of rows ``N``) is
compared with the design: with ``C`` the interaction contrasts orthogonal to the main
effects and ``D = diag(p)``,

    Delta = (C' D^{-1} C / N)^{-1} C' D^{-1} V D^{-1} C

(the generalised design effects). The default second-order correction (R ``svychisq``'s
``statistic = "F"``) refers ``F = X^2 / tr(Delta)`` to ``F(d, d nu)`` with
``d = tr(Delta)^2 / tr(Delta^2)`` and ``nu`` the design degrees of freedom (PSUs minus
strata of the whole design; the replicate rank minus 1); ``statistic='Chisq'`` gives the
first-order ``X^2 / mean(eigen(Delta))`` on ``(r - 1)(c - 1)`` df.

Validated against R survey 4.1.1 ``svychisq`` and ``svytable`` on the API and NHANES
samples (linearisation and replicate designs) to 1e-6 relative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import check_columns, check_option
from ...errors import DataValidationError
from ...results import BaseResult, glance_frame, wald_table
from ._engine import check_design, levels_of, ratio_estimates
from .results import design_glance

__all__ = ["survey_table", "SurveyTableResult", "SURVEY_TABLE_GLANCE_COLUMNS", "rao_scott"]

SURVEY_TABLE_GLANCE_COLUMNS: tuple[str, ...] = (
    "test",
    "statistic",
    "ndf",
    "ddf",
    "p_value",
    "chisq",
    "mean_deff",
    "method",
    "n",
    "n_dropped",
    "n_psu",
    "n_strata",
    "n_replicates",
    "degf",
)


@dataclass(frozen=True, repr=False, eq=False)
class SurveyTableResult(BaseResult):
    """A weighted cross-tabulation with its Rao-Scott test (immutable).

    Attributes
    ----------
    rows, cols : str
        The two variables.
    cells : pandas.DataFrame
        One row per cell: ``row``, ``col``, weighted ``count`` (estimated population),
        ``proportion`` of the total and its ``std_error``.
    test : dict
        ``statistic``, ``ndf``, ``ddf``, ``p_value``, ``chisq`` and ``mean_deff``.
    """

    rows: str
    cols: str
    cells: pd.DataFrame
    test: dict[str, Any]
    info: dict[str, Any]

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return False

    def counts(self) -> pd.DataFrame:
        """The weighted table: ``rows`` levels down, ``cols`` levels across (R ``svytable``)."""
        return self.cells.pivot(index="row", columns="col", values="count").rename_axis(
            index=self.rows, columns=self.cols
        )

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        c = self.cells
        terms = [f"{self.rows}={r}:{self.cols}={k}" for r, k in zip(c["row"], c["col"])]
        out = wald_table(terms, c["proportion"], c["std_error"], conf_level)
        out["statistic"] = np.nan
        out["p_value"] = np.nan
        out["row"] = c["row"].to_numpy()
        out["col"] = c["col"].to_numpy()
        out["count"] = c["count"].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """One row: test, statistic, ndf, ddf, p_value, chisq, mean_deff and design facts."""
        values = {**self.info, **self.test}
        values = {k: v for k, v in values.items() if k in SURVEY_TABLE_GLANCE_COLUMNS}
        return glance_frame(values, SURVEY_TABLE_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Weighted table of {self.rows} by {self.cols} ({self.test['test']})"


def rao_scott(
    p: np.ndarray, V: np.ndarray, nr: int, nc: int, N: float, nu: float, statistic: str = "F"
) -> dict[str, Any]:
    """Rao-Scott test from cell proportions ``p`` (rows varying fastest) and covariance ``V``.

    Examples
    --------
    >>> p = np.array([0.3, 0.2, 0.2, 0.3])
    >>> out = rao_scott(p, np.diag(p * (1 - p)) / 100, 2, 2, 100, 50)
    >>> round(out["statistic"], 4), round(out["ndf"], 4)
    (5.2632, 1.0)
    """
    r_idx = np.tile(np.arange(nr), nc)
    c_idx = np.repeat(np.arange(nc), nr)
    R = (r_idx[:, None] == np.arange(1, nr)).astype(float)
    Cc = (c_idx[:, None] == np.arange(1, nc)).astype(float)
    X1 = np.column_stack([np.ones(nr * nc), R, Cc])
    inter = np.column_stack([R[:, i] * Cc[:, j] for j in range(nc - 1) for i in range(nr - 1)])
    coef, *_ = np.linalg.lstsq(X1, inter, rcond=None)
    C = inter - X1 @ coef
    with np.errstate(divide="ignore"):
        inv = np.where(p == 0, 0.0, 1.0 / p)
    denom = C.T @ (C * (inv / N)[:, None])
    numr = (C * inv[:, None]).T @ V @ (C * inv[:, None])
    Delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(Delta))
    d0 = tr**2 / float(np.trace(Delta @ Delta))
    table = (N * p).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        chisq = float(np.sum((table - expected) ** 2 / expected))
    if statistic == "F":
        F = chisq / tr
        return {
            "test": "Rao-Scott F",
            "statistic": F,
            "ndf": d0,
            "ddf": d0 * nu,
            "p_value": float(stats.f.sf(F, d0, d0 * nu)),
            "chisq": chisq,
            "mean_deff": tr / Delta.shape[0],
        }
    df = Delta.shape[0]
    adj = chisq / (tr / df)
    return {
        "test": "Rao-Scott chi-square",
        "statistic": adj,
        "ndf": float(df),
        "ddf": np.nan,
        "p_value": float(stats.chi2.sf(adj, df)),
        "chisq": chisq,
        "mean_deff": tr / df,
    }


def survey_table(
    design: Any,
    rows: str,
    cols: str,
    *,
    statistic: Literal["F", "Chisq"] = "F",
) -> SurveyTableResult:
    """Weighted cross-tabulation with the Rao-Scott test of independence (R ``svychisq``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design (possibly a subset).
    rows, cols : str
        The two categorical variables (any values; missing values are left out).
    statistic : {'F', 'Chisq'}
        Second-order Rao-Scott F (default, as R) or the first-order adjusted chi-square.

    Returns
    -------
    SurveyTableResult
        ``counts()`` is the weighted table, ``tidy()`` the cell proportions with SEs,
        ``glance()`` the test.

    Raises
    ------
    ColumnNotFoundError
        A column is not in the data.
    DataValidationError
        A variable with fewer than two levels.

    Notes
    -----
    See the module docstring for the statistic.

    References
    ----------
    Rao, J. N. K., & Scott, A. J. (1984). On chi-squared tests for multiway contingency
    tables with cell proportions estimated from survey data. *Annals of Statistics*, 12,
    46-60.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.survey import survey_design
    >>> rng = np.random.default_rng(5)
    >>> df = pd.DataFrame({"psu": np.repeat(np.arange(30), 10), "w": rng.uniform(1, 2, 300),
    ...                    "sex": rng.choice(["F", "M"], 300), "aa": rng.choice([0, 1], 300)})
    >>> res = survey_table(survey_design(df, weights="w", cluster="psu"), "sex", "aa")
    >>> res.counts().shape
    (2, 2)
    >>> bool(0 < res.glance().loc[0, "p_value"] < 1)
    True
    """
    design = check_design(design)
    check_option(statistic, ("F", "Chisq"), "statistic")
    check_columns(design.data, [rows, cols], "rows/cols")
    data = design.data
    rl, cl = levels_of(data[rows]), levels_of(data[cols])
    for name, lv in ((rows, rl), (cols, cl)):
        if len(lv) < 2:
            raise DataValidationError(
                f"'{name}' has {len(lv)} level(s); a test of association needs at least 2."
            )
    nr, nc = len(rl), len(cl)
    miss = (data[rows].isna() | data[cols].isna()).to_numpy()
    rv, cv = data[rows], data[cols]
    mm = np.empty((len(data), nr * nc))
    for j, c in enumerate(cl):
        for i, r in enumerate(rl):  # eq/fillna: nullable columns (pd.NA) compare as False
            mm[:, i + nr * j] = (rv.eq(r).fillna(False) & cv.eq(c).fillna(False)).to_numpy(bool)
    mm[miss] = np.nan
    est = ratio_estimates(design, mm, np.ones_like(mm), [design.in_domain])
    p, V = est.estimate, est.cov
    if design.kind == "linearization":
        N = float(design.n_rows)
        nu = float(design.n_psu - design.n_strata)
    else:
        N = float(design.in_domain.sum())
        nu = design.degf
    test = rao_scott(p, V, nr, nc, N, nu, statistic)
    w = design.analysis_weights
    counts = np.where(np.isnan(mm), 0.0, mm).T @ w
    cells = pd.DataFrame(
        {
            "row": np.tile(np.asarray(rl, dtype=object), nc),
            "col": np.repeat(np.asarray(cl, dtype=object), nr),
            "count": counts,
            "proportion": p,
            "std_error": np.sqrt(np.clip(np.diag(V), 0, None)),
        }
    )
    info = design_glance(design)
    info.update(n=est.n_used, n_dropped=est.n_dropped)
    return SurveyTableResult(rows, cols, cells, test, info)
