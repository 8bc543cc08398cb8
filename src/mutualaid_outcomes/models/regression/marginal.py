"""Average marginal effects (AME) with delta-method standard errors.

For a numeric predictor ``x`` the AME is the sample average of the derivative of the
predicted mean, ``n^{-1} sum_i d mu_i / d x_i`` (central finite difference with step
``1e-4`` times the range of ``x``, as R ``marginaleffects``). For a categorical
predictor (string, categorical, boolean, or wrapped in ``C()``) each non-reference level
``L`` gets the average contrast ``n^{-1} sum_i [mu_i(x = L) - mu_i(x = ref)]`` with every
row set to ``L`` and to the reference level in turn. The SEs come from the delta method,
``J V J'``, with ``J`` the Jacobian of the AMEs with respect to the parameters (central
differences) and ``V`` the model's covariance under its ``cov_type``. Averages are
unweighted over the estimation rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..._validation import MissingReport, as_column_list, check_conf_level
from ...errors import DataValidationError
from ...results import BaseResult, glance_frame, wald_table
from .._core.design import formula_columns, split_formula

__all__ = ["MarginalEffectsResult", "average_marginal_effects", "AME_GLANCE_COLUMNS"]


class FittedRegression(Protocol):
    """What :func:`average_marginal_effects` reads from a fitted model.

    :class:`~mutualaid_outcomes.models.regression.glm.RegressionResult` and
    :class:`~mutualaid_outcomes.models.regression.gee.GEEResult` provide it; naming the
    protocol here keeps this module below both in the import graph.
    """

    # read-only: the results are frozen dataclasses
    @property
    def formula(self) -> str: ...

    @property
    def family(self) -> str: ...

    @property
    def link(self) -> str: ...

    @property
    def cov_type(self) -> str: ...

    @property
    def missing(self) -> MissingReport: ...

    @property
    def _data(self) -> pd.DataFrame: ...

    @property
    def _params(self) -> pd.Series: ...

    @property
    def _cov(self) -> pd.DataFrame: ...

    @property
    def nobs(self) -> int: ...

    @property
    def _predictor(self) -> Any: ...

    def _matrices(self, newdata: pd.DataFrame | None) -> dict[str, np.ndarray]: ...


AME_GLANCE_COLUMNS: tuple[str, ...] = ("method", "family", "link", "cov_type", "n", "n_dropped")


@dataclass(frozen=True, repr=False, eq=False)
class MarginalEffectsResult(BaseResult):
    """Average marginal effects on the response scale (probability, count, proportion).

    Coefficient protocol: :meth:`coef` gives the average marginal effects by term,
    :meth:`vcov` their delta-method covariance, :attr:`nobs` the rows averaged over;
    :attr:`df_resid` is None (normal reference).
    """

    table: pd.DataFrame
    _cov: pd.DataFrame = field(repr=False)
    family: str
    link: str
    cov_type: str
    _nobs: int
    n_dropped: int
    conf_level: float = 0.95
    _can_exponentiate = False

    @property
    def terms(self) -> tuple[str, ...]:
        """Effect names (a column, or ``column[level - reference]``)."""
        return tuple(self.table["term"])

    def coef(self) -> pd.Series:
        """Average marginal effects indexed by term."""
        return pd.Series(
            np.array(self.table["estimate"], dtype=float), index=list(self.terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Delta-method covariance of the effects."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows the effects are averaged over (the model's estimation rows)."""
        return self._nobs

    @property
    def df_resid(self) -> None:
        """None: the intervals use the normal distribution."""
        return None

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = wald_table(
            self.table["term"], self.table["estimate"], self.table["std_error"], conf_level
        )
        t["contrast"] = self.table["contrast"].to_numpy()
        return t

    def glance(self) -> pd.DataFrame:
        """One row: ``method, family, link, cov_type, n, n_dropped``."""
        return glance_frame(
            {
                "method": "average marginal effect (delta method)",
                "family": self.family,
                "link": self.link,
                "cov_type": self.cov_type,
                "n": self.nobs,
                "n_dropped": self.n_dropped,
            },
            AME_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"Average marginal effects ({self.family}, {self.cov_type} SEs)"


def _is_categorical(var: str, series: pd.Series, formula: str) -> bool:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return True
    return re.search(rf"C\(\s*{re.escape(var)}\b", formula) is not None


def average_marginal_effects(
    result: FittedRegression,
    variables: str | list[str] | None = None,
    *,
    conf_level: float = 0.95,
) -> MarginalEffectsResult:
    """Average marginal effects of ``variables`` (default: every predictor column).

    Parameters
    ----------
    result : RegressionResult or GEEResult
        A fitted (non-ordinal) regression or GEE model.
    variables : str or list of str, optional
        Predictor columns; default all columns on the right-hand side.
    conf_level : float
        Confidence level.

    Returns
    -------
    MarginalEffectsResult
        ``tidy()`` has one row per slope (term = column name, ``contrast='dY/dX'``) or per
        non-reference level (term ``'arm[TSF - CBT]'``, ``contrast='TSF - CBT'``).

    Raises
    ------
    DataValidationError
        If a requested variable is not a predictor of the model.
    """
    conf_level = check_conf_level(conf_level)
    wanted = _wanted_predictors(result, variables)
    items = _counterfactuals(result, wanted)
    est, cov = _delta_method(result, items)
    terms = [it[0] for it in items]
    table = pd.DataFrame(
        {
            "term": terms,
            "estimate": est,
            "std_error": np.sqrt(np.clip(np.diag(cov), 0, None)),
            "contrast": [it[1] for it in items],
        }
    )
    return MarginalEffectsResult(
        table=table,
        _cov=pd.DataFrame(cov, index=terms, columns=terms),
        family=result.family,
        link=result.link,
        cov_type=result.cov_type,
        _nobs=result.nobs,
        n_dropped=result.missing.n_dropped,
        conf_level=conf_level,
    )


def _wanted_predictors(result: FittedRegression, variables: Any) -> list[str]:
    """The requested predictor columns (default: every column of the right-hand sides)."""
    data = result._data
    _, rhs = split_formula(result.formula)
    predictors = formula_columns(f"~ {rhs}", data)
    zero_design = getattr(result, "_zero_design", None)
    if zero_design is not None:
        predictors += [
            c for c in formula_columns(f"~ {zero_design.rhs}", data) if c not in predictors
        ]
    wanted = as_column_list(variables, "variables") or predictors
    bad = [v for v in wanted if v not in predictors]
    if bad:
        raise DataValidationError(
            f"`variables` {bad} are not predictors of this model; predictors: {predictors}."
        )
    return wanted


def _counterfactuals(
    result: FittedRegression, wanted: list[str]
) -> list[tuple[str, str, dict[str, np.ndarray], dict[str, np.ndarray], float]]:
    """Per effect: term, contrast, the two counterfactual design matrices and the divisor.

    Built once; the parameter Jacobian reuses them.
    """
    data = result._data
    items = []
    for var in wanted:
        s = data[var]
        if _is_categorical(var, s, result.formula):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if lv in set(s)]
            else:
                levels = sorted(pd.unique(s).tolist())
            ref = levels[0]
            d_ref = data.copy()
            d_ref[var] = pd.Series([ref] * len(data), index=data.index, dtype=s.dtype)
            m_ref = result._matrices(d_ref)
            for lv in levels[1:]:
                d_lv = data.copy()
                d_lv[var] = pd.Series([lv] * len(data), index=data.index, dtype=s.dtype)
                items.append((f"{var}[{lv} - {ref}]", f"{lv} - {ref}", m_ref, d_lv, 1.0))
        else:
            x = s.to_numpy(dtype=float)
            rng_ = float(np.ptp(x))
            h = 1e-4 * (rng_ if rng_ > 0 else 1.0)
            lo, hi = data.copy(), data.copy()
            lo[var] = x - h / 2
            hi[var] = x + h / 2
            items.append((var, "dY/dX", result._matrices(lo), hi, h))
    return [(t, c, m0, result._matrices(d1), denom) for t, c, m0, d1, denom in items]


def _delta_method(
    result: FittedRegression, items: list[tuple[str, str, dict, dict, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """AMEs at the estimates and their delta-method covariance ``J V J'``.

    Every parameter the predictions depend on enters (e.g. the zero part of
    zero-inflated models); ``J`` by central differences.
    """
    theta = result._params.to_numpy()
    V = result._cov.to_numpy()
    predictor = result._predictor

    def ames(p: np.ndarray) -> np.ndarray:
        out = np.empty(len(items))
        for j, (_t, _c, m0, m1, denom) in enumerate(items):
            out[j] = np.mean(predictor(m1, p, "response") - predictor(m0, p, "response"))
            out[j] /= denom
        return out

    est = ames(theta)
    J = np.zeros((len(est), len(theta)))
    for k in range(len(theta)):
        step = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += step
        tm[k] -= step
        J[:, k] = (ames(tp) - ames(tm)) / (2 * step)
    return est, J @ V @ J.T
