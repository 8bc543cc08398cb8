"""Effect sizes and sampling variances from study summary statistics (R metafor ``escalc``).

:func:`effect_sizes` returns a copy of the data with the effect ``yi`` and its sampling
variance ``vi`` appended, ready for :func:`~mutualaid_outcomes.models.meta.meta_analysis`.

Measures (group 1 is the experimental group, group 2 the comparison):

======== ===================================== ==========================================
measure  inputs                                effect ``yi`` and variance ``vi``
======== ===================================== ==========================================
``RR``   events1, n1, events2, n2              ``log(p1 / p2)``; ``1/a - 1/n1 + 1/c - 1/n2``
``OR``   events1, n1, events2, n2              ``log(a d / (b c))``; ``1/a + 1/b + 1/c + 1/d``
``RD``   events1, n1, events2, n2              ``p1 - p2``; ``p1 q1 / n1 + p2 q2 / n2``
``IRR``  events1, time1, events2, time2        ``log((x1/t1) / (x2/t2))``; ``1/x1 + 1/x2``
``MD``   mean1, sd1, n1, mean2, sd2, n2        ``m1 - m2``; ``sd1^2/n1 + sd2^2/n2``
``SMD``  mean1, sd1, n1, mean2, sd2, n2        Hedges' g ``c(m) d``; ``1/n1 + 1/n2 + g^2 / (2 n)``
``COR``  r, n                                  ``r``; ``(1 - r^2)^2 / (n - 1)``
``ZCOR`` r, n                                  ``atanh(r)``; ``1 / (n - 3)``
======== ===================================== ==========================================

For the 2x2 measures ``a, b, c, d`` are events and non-events in the two groups. SMD uses
the pooled SD ``s_p = sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (n - 2))``, ``d = (m1 - m2) / s_p``
and escalc's exact small-sample correction ``c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``
with ``m = n1 + n2 - 2`` (Hedges 1981), and its large-sample variance (``vtype = "LS"``).
COR and ZCOR have no variance for ``n <= 3`` (as escalc).

Continuity correction (counts only; escalc's ``add``, ``to`` and ``drop00``): with
``to="only0"`` (default) ``add`` (0.5) is added to all four cells (both event counts for
IRR) of the studies that have a zero cell; ``"all"`` adds it to every study, ``"if0all"``
to every study when any study has a zero cell, ``"none"`` never (effects that are then
infinite are set to missing). ``drop00=True`` sets studies with no events (or only
events) in both groups to missing instead. The correction applies to the effect and its
variance and is reported: the ``corrected`` column marks the studies changed, a
:class:`~mutualaid_outcomes.errors.DataWarning` counts them, and
``DataFrame.attrs["continuity"]`` records the rule.

Validated against metafor 3.8.1 ``escalc`` (tests/reference/meta_metafor.R) on the BCG
vaccine trials (RR, OR, RD), the catheter-infection trials of Niel-Weise et al. (2007; zero
cells, every ``to`` rule and ``drop00``), Normand (1999; SMD, MD), Molloy et al. (2014; COR,
ZCOR) and Hart et al. (1999; IRR): agreement to 1e-12 relative.

References
----------
Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related
estimators. J Educ Stat 6:107-128. Viechtbauer W (2010). Conducting meta-analyses in R
with the metafor package. J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import gammaln

from ..._validation import check_columns, check_dataframe, check_option
from ...errors import ArgumentTypeError, DataValidationError, DataWarning, OptionError

__all__ = ["effect_sizes", "MEASURES", "RATIO_MEASURES"]

Measure = Literal["RR", "OR", "RD", "IRR", "MD", "SMD", "COR", "ZCOR"]

#: the measures and the summary statistics each needs
MEASURES: dict[str, tuple[str, ...]] = {
    "RR": ("events1", "n1", "events2", "n2"),
    "OR": ("events1", "n1", "events2", "n2"),
    "RD": ("events1", "n1", "events2", "n2"),
    "IRR": ("events1", "time1", "events2", "time2"),
    "MD": ("mean1", "sd1", "n1", "mean2", "sd2", "n2"),
    "SMD": ("mean1", "sd1", "n1", "mean2", "sd2", "n2"),
    "COR": ("r", "n"),
    "ZCOR": ("r", "n"),
}
#: measures on the log scale, for which exponentiated results are ratios
RATIO_MEASURES: tuple[str, ...] = ("RR", "OR", "IRR")
_CONTINUITY_TO = ("only0", "all", "if0all", "none")


def _columns(data: pd.DataFrame, measure: str, roles: Mapping[str, str | None]) -> dict:
    needed = MEASURES[measure]
    missing = [r for r in needed if roles.get(r) is None]
    if missing:
        raise DataValidationError(
            f"measure={measure!r} needs the columns {', '.join(f'`{r}`' for r in needed)}; "
            f"missing: {', '.join(f'`{r}`' for r in missing)}."
        )
    extra = [r for r, c in roles.items() if c is not None and r not in needed]
    if extra:
        raise OptionError(
            f"{', '.join(f'`{r}`' for r in extra)} not used by measure={measure!r}, which "
            f"takes {', '.join(f'`{r}`' for r in needed)}."
        )
    out = {}
    for role in needed:
        col = roles[role]
        if not isinstance(col, str):
            raise ArgumentTypeError(f"`{role}` must be a column name; got {col!r}.")
        check_columns(data, col, role)
        series = data[col]
        if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
            raise DataValidationError(f"`{role}` ('{col}') must be numeric; got {series.dtype}.")
        out[role] = series.to_numpy(dtype=float)
    return out


def _bad_rows(mask: np.ndarray, labels: pd.Index, limit: int = 8) -> str:
    rows = [str(x) for x in labels[mask][:limit]]
    more = f" and {int(mask.sum()) - limit} more" if mask.sum() > limit else ""
    return ", ".join(rows) + more


def _check_counts(x: dict, index: pd.Index, pairs: tuple[tuple[str, str], ...]) -> None:
    for ev, tot in pairs:
        e, t = x[ev], x[tot]
        with np.errstate(invalid="ignore"):
            neg = e < 0
            bad_t = t <= 0
            over = (e > t) if tot.startswith("n") else np.zeros_like(neg)
        if np.any(neg):
            raise DataValidationError(
                f"`{ev}` has negative counts in rows {_bad_rows(neg, index)}; counts must be >= 0."
            )
        if np.any(bad_t):
            raise DataValidationError(
                f"`{tot}` must be > 0; rows {_bad_rows(bad_t, index)} are not."
            )
        if np.any(over):
            raise DataValidationError(
                f"`{ev}` exceeds `{tot}` in rows {_bad_rows(over, index)}; events cannot "
                "outnumber participants."
            )


def _continuity(
    cells: list[np.ndarray], add: float, to: str, drop00: bool, double_zero: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Apply escalc's rule to the cells; return new cells, corrected and dropped masks."""
    cells = [c.copy() for c in cells]
    dropped = double_zero & drop00
    for c in cells:
        c[dropped] = np.nan
    with np.errstate(invalid="ignore"):
        zero = np.zeros(len(cells[0]), dtype=bool)
        for c in cells:
            zero |= c == 0
    if to == "all":
        corrected = ~np.isnan(cells[0])
    elif to == "only0":
        corrected = zero
    elif to == "if0all":
        corrected = ~np.isnan(cells[0]) if zero.any() else zero
    else:
        corrected = np.zeros_like(zero)
    if add == 0:
        corrected = np.zeros_like(zero)
    for c in cells:
        c[corrected] += add
    return cells, corrected, dropped


def _binary(measure: str, x: dict, add: float, to: str, drop00: bool):
    a, c = x["events1"], x["events2"]
    b, d = x["n1"] - a, x["n2"] - c
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    (a, b, c, d), corrected, dropped = _continuity([a, b, c, d], add, to, drop00, double_zero)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        else:
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return yi, vi, corrected, dropped


def _rates(x: dict, add: float, to: str, drop00: bool):
    x1, x2, t1, t2 = x["events1"], x["events2"], x["time1"], x["time2"]
    double_zero = (x1 == 0) & (x2 == 0)
    (x1, x2), corrected, dropped = _continuity([x1, x2], add, to, drop00, double_zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log(x1 / t1) - np.log(x2 / t2)
        vi = 1 / x1 + 1 / x2
    return yi, vi, corrected, dropped


def _hedges_c(m: np.ndarray) -> np.ndarray:
    """Escalc's exact bias correction ``Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, out)


def _means(measure: str, x: dict, index: pd.Index):
    m1, m2, s1, s2, n1, n2 = (x[k] for k in ("mean1", "mean2", "sd1", "sd2", "n1", "n2"))
    for name, s in (("sd1", s1), ("sd2", s2)):
        with np.errstate(invalid="ignore"):
            neg = s < 0
        if np.any(neg):
            raise DataValidationError(
                f"`{name}` is negative in rows {_bad_rows(neg, index)}; SDs must be >= 0."
            )
    for name, n in (("n1", n1), ("n2", n2)):
        with np.errstate(invalid="ignore"):
            bad = n <= 0
        if np.any(bad):
            raise DataValidationError(
                f"`{name}` must be > 0; rows {_bad_rows(bad, index)} are not."
            )
    if measure == "MD":
        return m1 - m2, s1**2 / n1 + s2**2 / n2
    n = n1 + n2
    m = n - 2
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
        g = _hedges_c(m) * (m1 - m2) / sp
        vi = 1 / n1 + 1 / n2 + g**2 / (2 * n)
    return g, vi


def _correlations(measure: str, x: dict, index: pd.Index):
    r, n = x["r"], x["n"]
    with np.errstate(invalid="ignore"):
        bad_r = np.abs(r) > 1
        bad_n = n <= 0
    if np.any(bad_r):
        raise DataValidationError(
            f"`r` must lie in [-1, 1]; rows {_bad_rows(bad_r, index)} do not."
        )
    if np.any(bad_n):
        raise DataValidationError(f"`n` must be > 0; rows {_bad_rows(bad_n, index)} are not.")
    with np.errstate(invalid="ignore", divide="ignore"):
        if measure == "COR":
            yi, vi = r.copy(), (1 - r**2) ** 2 / (n - 1)
        else:
            yi, vi = np.arctanh(r), 1 / (n - 3)
    vi = np.where(n <= 3, np.nan, vi)
    return yi, vi


def _check_options(data: pd.DataFrame, measure, to, add, names) -> None:
    check_option(measure, tuple(MEASURES), "measure")
    check_option(to, _CONTINUITY_TO, "to")
    number = isinstance(add, (int, float)) and not isinstance(add, bool)
    if not number or not np.isfinite(add) or add < 0:
        raise DataValidationError(f"`add` must be a finite number >= 0; got {add!r}.")
    if not (
        isinstance(names, tuple) and len(names) == 2 and all(isinstance(c, str) for c in names)
    ):
        raise ArgumentTypeError(f"`names` must be a tuple of two column names; got {names!r}.")
    clash = [c for c in names if c in data.columns]
    if clash:
        raise DataValidationError(
            f"`data` already has column(s) {clash}; pass other `names` for the effect and "
            "variance columns."
        )


def _compute(measure: str, x: dict, index: pd.Index, add: float, to: str, drop00: bool):
    """Effects, variances and (counts only) the corrected and dropped masks."""
    if measure in ("RR", "OR", "RD"):
        _check_counts(x, index, (("events1", "n1"), ("events2", "n2")))
        return _binary(measure, x, add, to, drop00)
    if measure == "IRR":
        _check_counts(x, index, (("events1", "time1"), ("events2", "time2")))
        return _rates(x, add, to, drop00)
    if measure in ("MD", "SMD"):
        return (*_means(measure, x, index), None, None)
    return (*_correlations(measure, x, index), None, None)


def _report_continuity(index, corrected, dropped, add, to, drop00) -> dict:
    """The continuity rule applied, with warnings naming the rows it changed."""
    rule = {
        "add": float(add),
        "to": to,
        "drop00": bool(drop00),
        "n_corrected": int(corrected.sum()),
        "n_dropped": int(dropped.sum()),
        "rows_corrected": [str(i) for i in index[corrected]],
        "rows_dropped": [str(i) for i in index[dropped]],
    }
    if rule["n_corrected"] and to != "all":
        warnings.warn(
            f"Continuity correction: added {add:g} to every cell of {rule['n_corrected']} "
            f"studies with a zero cell (to={to!r}; rows {_bad_rows(corrected, index)}).",
            DataWarning,
            stacklevel=3,
        )
    if rule["n_dropped"]:
        warnings.warn(
            f"drop00=True: {rule['n_dropped']} studies with no events (or no non-events) in "
            f"both groups set to missing (rows {_bad_rows(dropped, index)}).",
            DataWarning,
            stacklevel=3,
        )
    return rule


def effect_sizes(
    data: pd.DataFrame,
    measure: Measure,
    *,
    events1: str | None = None,
    n1: str | None = None,
    events2: str | None = None,
    n2: str | None = None,
    time1: str | None = None,
    time2: str | None = None,
    mean1: str | None = None,
    sd1: str | None = None,
    mean2: str | None = None,
    sd2: str | None = None,
    r: str | None = None,
    n: str | None = None,
    add: float = 0.5,
    to: Literal["only0", "all", "if0all", "none"] = "only0",
    drop00: bool = False,
    names: tuple[str, str] = ("yi", "vi"),
) -> pd.DataFrame:
    """Compute effect sizes and their sampling variances from summary statistics.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per study (or comparison).
    measure : {"RR", "OR", "RD", "IRR", "MD", "SMD", "COR", "ZCOR"}
        Log risk ratio, log odds ratio, risk difference, log incidence rate ratio, mean
        difference, standardised mean difference (Hedges' g), correlation, Fisher-z
        correlation. See the module docstring for the formulas.
    events1, n1, events2, n2 : str, optional
        Columns of event counts and group sizes (RR, OR, RD; n1 and n2 are also the group
        sizes of MD and SMD).
    time1, time2 : str, optional
        Columns of person-time (IRR, with ``events1``/``events2``).
    mean1, sd1, mean2, sd2 : str, optional
        Columns of group means and SDs (MD, SMD).
    r, n : str, optional
        Columns of correlations and sample sizes (COR, ZCOR).
    add : float
        Continuity correction added to cells (counts only).
    to : {"only0", "all", "if0all", "none"}
        Which studies get the correction (metafor's ``to``).
    drop00 : bool
        Set studies with zero events (or zero non-events) in both groups to missing.
    names : tuple of two str
        Names of the effect and variance columns added.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with the effect and variance columns (and, for count measures,
        a boolean ``corrected`` column); ``attrs["measure"]`` holds the measure and, for
        counts, ``attrs["continuity"]`` the correction rule and the rows it changed.
        Rows whose inputs are missing get missing effects.

    Raises
    ------
    OptionError
        For an unknown ``measure`` or ``to``, or columns the measure does not use.
    DataValidationError
        For missing roles, non-numeric columns, negative counts or SDs, events above the
        group size, non-positive group sizes or person-time, ``|r| > 1``, or output
        columns that already exist.

    Warns
    -----
    DataWarning
        When a continuity correction was applied or studies were dropped, and when some
        effects cannot be computed.

    Notes
    -----
    Validated against metafor 3.8.1 ``escalc`` to 1e-12 relative; see the module docstring.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3):1-48.

    Examples
    --------
    >>> import pandas as pd
    >>> trials = pd.DataFrame({"tpos": [4, 6], "tn": [123, 306], "cpos": [11, 29],
    ...                        "cn": [139, 303]})
    >>> es = effect_sizes(trials, "RR", events1="tpos", n1="tn", events2="cpos", n2="cn")
    >>> es[["yi", "vi"]].round(4)
           yi      vi
    0 -0.8893  0.3256
    1 -1.5854  0.1946

    In R: ``escalc("RR", ai = tpos, n1i = tn, ci = cpos, n2i = cn, data = trials)``.
    """
    data = check_dataframe(data)
    _check_options(data, measure, to, add, names)
    roles = dict(
        events1=events1, n1=n1, events2=events2, n2=n2, time1=time1, time2=time2,
        mean1=mean1, sd1=sd1, mean2=mean2, sd2=sd2, r=r, n=n,
    )  # fmt: skip
    x = _columns(data, measure, roles)
    index = data.index
    yi, vi, corrected, dropped = _compute(measure, x, index, float(add), to, drop00)
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | (vi < 0)
    out = data.copy()
    out[names[0]] = np.where(bad, np.nan, yi)
    out[names[1]] = np.where(bad, np.nan, vi)
    out.attrs = dict(data.attrs)
    out.attrs["measure"] = measure
    if corrected is not None:
        out["corrected"] = corrected
        out.attrs["continuity"] = _report_continuity(index, corrected, dropped, add, to, drop00)
    inputs_missing = np.zeros(len(out), dtype=bool)
    for arr in x.values():
        inputs_missing |= np.isnan(arr)
    lost = bad & ~inputs_missing & ~(dropped if dropped is not None else False)
    if lost.any():
        warnings.warn(
            f"{int(lost.sum())} effect(s) could not be computed and are missing (rows "
            f"{_bad_rows(lost, index)}): infinite or undefined values, e.g. a zero cell with "
            "to='none' or n <= 3 for correlations.",
            DataWarning,
            stacklevel=2,
        )
    return out
