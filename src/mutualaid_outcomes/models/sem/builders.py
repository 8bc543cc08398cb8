r"""Builders for longitudinal designs: cross-lagged panels and latent growth curves.

Both take long data (one row per person and wave), reshape them to one row per person
with columns ``{variable}_t{time}`` (the package's wave suffix, e.g. ``attend_t6``),
write the lavaan syntax and fit it with :func:`~mutualaid_outcomes.models.sem.fit_sem`
(FIML by default, so people with missing waves are kept). The syntax is available as
``result.syntax``.

* :func:`cross_lagged_panel` -- the cross-lagged panel model (CLPM): each variable at
  wave :math:`t` regressed on all variables at :math:`t-1`, within-wave residual
  covariances; or, with ``random_intercepts=True``, the random-intercept CLPM of Hamaker,
  Kuiper & Grasman (2015): a random intercept per variable (loadings 1) separates stable
  between-person differences from within-person deviations, whose lagged effects are the
  within-person cross-lagged effects (syntax as Mulder & Hamaker 2021).
* :func:`latent_growth` -- linear or quadratic latent growth curve: intercept and slope
  factors with loadings 1 and the time scores, observed intercepts fixed to 0 and latent
  means free (as lavaan's ``growth()``).

References
----------
Hamaker, E. L., Kuiper, R. M. & Grasman, R. P. P. P. (2015). A critique of the
cross-lagged panel model. *Psychological Methods*, 20, 102-116.
Mulder, J. D. & Hamaker, E. L. (2021). Three extensions of the random intercept
cross-lagged panel model. *Structural Equation Modeling*, 28, 638-648.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import as_column_list, check_columns, check_dataframe, check_option
from ...errors import DataValidationError
from ...prep.panel import wave_suffix
from .fit import fit_sem
from .results import SEMResult

__all__ = ["cross_lagged_panel", "latent_growth", "panel_wide"]


def panel_wide(
    data: pd.DataFrame,
    id: str,
    time: str,
    variables: Sequence[str],
    covariates: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[Any], dict[str, list[str]]]:
    """Long to wide: one row per ``id``, columns ``{v}_t{time}`` for every wave.

    Returns the wide frame, the sorted waves and ``{variable: [column per wave]}``.
    Time-invariant ``covariates`` are carried over (first non-missing value per person).

    Raises
    ------
    DataValidationError
        Duplicated ``(id, time)`` rows, fewer than two waves, or a covariate that varies
        within a person.

    Examples
    --------
    >>> long = pd.DataFrame({"id": [1, 1, 2], "month": [0, 6, 0], "y": [1.0, 2.0, 3.0]})
    >>> wide, waves, cols = panel_wide(long, "id", "month", ["y"])
    >>> wide.columns.tolist(), cols
    (['id', 'y_t0', 'y_t6'], {'y': ['y_t0', 'y_t6']})
    """
    data = check_dataframe(data)
    check_columns(data, [id, time, *variables, *covariates], "data")
    sub = data.loc[data[time].notna() & data[id].notna()]
    dup = sub.duplicated([id, time])
    if dup.any():
        raise DataValidationError(
            f"`data` has {int(dup.sum())} duplicated ({id!r}, {time!r}) rows; give one row per "
            "person and wave."
        )
    waves = sorted(pd.unique(sub[time]))
    if len(waves) < 2:
        raise DataValidationError(
            f"`{time}` has {len(waves)} distinct value(s); at least two waves are needed."
        )
    ids = pd.unique(sub[id])
    wide = pd.DataFrame({id: ids})
    cols: dict[str, list[str]] = {v: [] for v in variables}
    for w in waves:
        at = sub.loc[sub[time] == w].set_index(id)
        for v in variables:
            name = f"{v}_{wave_suffix(w)}"
            wide[name] = at[v].reindex(ids).to_numpy(dtype=float, na_value=np.nan)
            cols[v].append(name)
    for c in covariates:
        per = sub.groupby(id)[c].nunique(dropna=True)
        if (per > 1).any():
            raise DataValidationError(
                f"Covariate '{c}' varies within {int((per > 1).sum())} people; covariates of a "
                "panel model must be time-invariant (use a baseline value)."
            )
        wide[c] = sub.groupby(id)[c].first().reindex(ids).to_numpy()
    return wide, waves, cols


def _clpm_syntax(cols: dict[str, list[str]], covariates: Sequence[str], equal_lags: bool) -> str:
    vs = list(cols)
    T = len(next(iter(cols.values())))
    lines = ["# autoregressive and cross-lagged paths"]
    for t in range(1, T):
        for v in vs:
            terms = [(f"b_{v}_{u}*" if equal_lags else "") + cols[u][t - 1] for u in vs]
            lines.append(f"{cols[v][t]} ~ " + " + ".join(terms))
    lines.append("# wave-1 variances and within-wave (residual) covariances")
    lines += [f"{cols[v][0]} ~~ {cols[v][0]}" for v in vs]
    for t in range(T):
        lines += [f"{cols[a][t]} ~~ {cols[b][t]}" for a, b in itertools.combinations(vs, 2)]
    if covariates:
        lines.append("# time-invariant covariates")
        lines += [f"{cols[v][t]} ~ " + " + ".join(covariates) for t in range(T) for v in vs]
    return "\n".join(lines) + "\n"


def _riclpm_syntax(cols: dict[str, list[str]], covariates: Sequence[str], equal_lags: bool) -> str:
    vs = list(cols)
    T = len(next(iter(cols.values())))
    w = {v: [f"w_{c}" for c in cols[v]] for v in vs}
    lines = ["# random intercepts (stable between-person differences)"]
    lines += [f"ri_{v} =~ " + " + ".join(f"1*{c}" for c in cols[v]) for v in vs]
    lines.append("# within-person components")
    lines += [f"{w[v][t]} =~ 1*{cols[v][t]}" for v in vs for t in range(T)]
    lines.append("# within-person autoregressive and cross-lagged paths")
    for t in range(1, T):
        for v in vs:
            terms = [(f"b_{v}_{u}*" if equal_lags else "") + w[u][t - 1] for u in vs]
            lines.append(f"{w[v][t]} ~ " + " + ".join(terms))
    lines.append("# within-wave covariances; random-intercept covariances")
    for t in range(T):
        lines += [f"{w[a][t]} ~~ {w[b][t]}" for a, b in itertools.combinations(vs, 2)]
    lines += [f"ri_{a} ~~ ri_{b}" for a, b in itertools.combinations(vs, 2)]
    lines.append("# random intercepts uncorrelated with the wave-1 within components")
    lines += [f"ri_{v} ~~ " + " + ".join(f"0*{w[u][0]}" for u in vs) for v in vs]
    lines.append("# no measurement error beyond the within component")
    lines += [f"{c} ~~ 0*{c}" for v in vs for c in cols[v]]
    if covariates:
        lines.append("# time-invariant covariates")
        lines += [f"{cols[v][t]} ~ " + " + ".join(covariates) for t in range(T) for v in vs]
    return "\n".join(lines) + "\n"


def cross_lagged_panel(
    data: pd.DataFrame,
    id: str,
    time: str,
    variables: Sequence[str],
    *,
    random_intercepts: bool = False,
    covariates: Sequence[str] | None = None,
    equal_lags: bool = False,
    missing: Literal["fiml", "listwise"] = "fiml",
    estimator: Literal["ML", "MLR"] = "ML",
    cov_type: Literal["model", "robust"] | None = None,
    n_boot: int = 0,
    ci: Literal["wald", "percentile", "bca"] | None = None,
    conf_level: float = 0.95,
    rng: Any = None,
) -> SEMResult:
    """Cross-lagged panel model (CLPM) or random-intercept CLPM from long data.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per person and wave.
    id, time : str
        Person and wave columns (``time`` numeric, e.g. months).
    variables : sequence of str
        Two or more repeated measures (e.g. ``["attend", "drinks"]``).
    random_intercepts : bool
        Fit the RI-CLPM (Hamaker et al. 2015) instead of the CLPM.
    covariates : sequence of str, optional
        Time-invariant covariates predicting every observed variable.
    equal_lags : bool
        Constrain autoregressive and cross-lagged effects equal over waves.
    missing, estimator, cov_type, n_boot, ci, conf_level, rng
        Passed to :func:`fit_sem`.

    Returns
    -------
    SEMResult
        Terms use the wide names, e.g. ``drinks_t6 ~ attend_t0`` (CLPM) or
        ``w_drinks_t6 ~ w_attend_t0`` (RI-CLPM within-person effects); ``result.syntax``
        holds the model.

    Raises
    ------
    DataValidationError
        Fewer than two variables or waves, duplicated person-waves.

    Notes
    -----
    In the CLPM the wave-1 variances and covariances are free parameters (so people
    missing at wave 1 are kept under FIML). In the RI-CLPM the observed residual
    variances are fixed to 0 and the random intercepts are uncorrelated with the wave-1
    within components. Validated against lavaan 0.6.14 (FIML, ML and MLR) with
    ``tests/reference/sem_lavaan.R``.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> n = 300
    >>> ri = rng.normal(size=(n, 2))
    >>> rows = []
    >>> x, y = rng.normal(size=n), rng.normal(size=n)
    >>> for t in (0, 6, 12):
    ...     rows.append(pd.DataFrame({"id": range(n), "month": t,
    ...                               "attend": ri[:, 0] + x, "drinks": ri[:, 1] + y}))
    ...     x, y = 0.4 * x - 0.2 * y + rng.normal(size=n), 0.3 * y + rng.normal(size=n)
    >>> long = pd.concat(rows)
    >>> res = cross_lagged_panel(long, "id", "month", ["attend", "drinks"],
    ...                          random_intercepts=True)
    >>> round(float(res.coef()["w_attend_t6 ~ w_drinks_t0"]), 2)
    -0.19
    """
    variables = as_column_list(variables, "variables")
    if len(variables) < 2:
        raise DataValidationError(
            "`variables` needs at least two repeated measures for cross-lagged paths."
        )
    covs = as_column_list(covariates, "covariates")
    wide, _, cols = panel_wide(data, id, time, variables, covs)
    if random_intercepts and len(next(iter(cols.values()))) < 3:
        raise DataValidationError("The random-intercept CLPM needs at least three waves.")
    builder = _riclpm_syntax if random_intercepts else _clpm_syntax
    syntax = builder(cols, covs, bool(equal_lags))
    return fit_sem(
        wide,
        syntax,
        missing=missing,
        estimator=estimator,
        cov_type=cov_type,
        n_boot=n_boot,
        ci=ci,
        conf_level=conf_level,
        rng=rng,
    )


def _growth_syntax(cols: list[str], scores: np.ndarray, quadratic: bool, covariates) -> str:
    def fmt(x: float) -> str:
        return f"{x:.10g}"

    lines = ["# growth factors"]
    lines.append("i =~ " + " + ".join(f"1*{c}" for c in cols))
    lines.append("s =~ " + " + ".join(f"{fmt(t)}*{c}" for t, c in zip(scores, cols)))
    factors = ["i", "s"]
    if quadratic:
        lines.append("q =~ " + " + ".join(f"{fmt(t * t)}*{c}" for t, c in zip(scores, cols)))
        factors.append("q")
    lines.append("# observed intercepts fixed to 0, factor means free")
    lines += [f"{c} ~ 0*1" for c in cols]
    lines += [f"{f} ~ 1" for f in factors]
    if covariates:
        lines.append("# time-invariant covariates")
        lines += [f"{f} ~ " + " + ".join(covariates) for f in factors]
    return "\n".join(lines) + "\n"


def latent_growth(
    data: pd.DataFrame,
    id: str,
    time: str,
    outcome: str,
    *,
    shape: Literal["linear", "quadratic"] = "linear",
    time_scale: float = 1.0,
    covariates: Sequence[str] | None = None,
    missing: Literal["fiml", "listwise"] = "fiml",
    estimator: Literal["ML", "MLR"] = "ML",
    cov_type: Literal["model", "robust"] | None = None,
    conf_level: float = 0.95,
) -> SEMResult:
    """Linear or quadratic latent growth curve model from long data.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per person and wave.
    id, time : str
        Person and wave columns.
    outcome : str
        The repeated measure.
    shape : {"linear", "quadratic"}
        Growth factors ``i, s`` (and ``q``).
    time_scale : float
        Time scores are ``(time - first wave) / time_scale`` (e.g. 12 for months -> years).
    covariates : sequence of str, optional
        Time-invariant predictors of the growth factors.
    missing, estimator, cov_type, conf_level
        Passed to :func:`fit_sem`.

    Returns
    -------
    SEMResult
        Growth-factor means are the terms ``i ~1`` and ``s ~1`` (intercepts of the
        factors when covariates are given).

    Notes
    -----
    The model of lavaan's ``growth()``: loadings of ``i`` fixed to 1, of ``s`` to the
    time scores (of ``q`` to their squares), observed intercepts fixed to 0, factor
    means and (co)variances and wave-specific residual variances free. Validated
    against ``lavaan::growth`` 0.6.14 with FIML and a covariate.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> n = 400
    >>> i, s = 3 + rng.normal(size=n), -0.5 + 0.3 * rng.normal(size=n)
    >>> long = pd.concat([pd.DataFrame({"id": range(n), "month": m,
    ...                                 "drinks": i + s * m / 12 + rng.normal(scale=0.5, size=n)})
    ...                   for m in (0, 6, 12, 18)])
    >>> res = latent_growth(long, "id", "month", "drinks", time_scale=12)
    >>> round(float(res.coef()["s ~1"]), 2)
    -0.52
    """
    check_option(shape, ("linear", "quadratic"), "shape")
    if not np.isfinite(time_scale) or time_scale <= 0:
        raise DataValidationError(f"`time_scale` must be a positive number; got {time_scale!r}.")
    covs = as_column_list(covariates, "covariates")
    wide, waves, cols = panel_wide(data, id, time, [outcome], covs)
    need = 4 if shape == "quadratic" else 3
    if len(waves) < need:
        raise DataValidationError(
            f"A {shape} growth model needs at least {need} waves; got {len(waves)}."
        )
    scores = (np.asarray(waves, dtype=float) - float(waves[0])) / float(time_scale)
    syntax = _growth_syntax(cols[outcome], scores, shape == "quadratic", covs)
    return fit_sem(
        wide, syntax, missing=missing, estimator=estimator, cov_type=cov_type, conf_level=conf_level
    )
