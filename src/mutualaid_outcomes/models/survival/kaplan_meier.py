"""Kaplan-Meier survival curves, median survival, numbers at risk and log-rank tests.

Agrees with R survival 3.5.3 ``survfit`` (Greenwood variance, ``conf.type`` "log",
"log-log" and "plain"), ``quantile.survfit`` (median and its confidence interval) and
``survdiff`` (log-rank test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import (
    check_columns,
    check_conf_level,
    check_dataframe,
    check_option,
    renamed,
)
from ...disclosure import check_min_cell
from ...errors import ArgumentTypeError, DataValidationError, EstimationError
from ...prep._survival_input import (
    check_column_names,
    check_durations,
    complete_survival_rows,
    event_indicator,
    group_codes,
)
from ...results import BaseResult, glance_frame
from ._km_disclosure import suppress_quantiles
from ._survival_quantiles import findq

__all__ = ["KaplanMeierResult", "LogRankResult", "kaplan_meier", "KM_TABLE_COLUMNS"]

ConfType = Literal["log", "log-log", "plain"]

#: columns of ``KaplanMeierResult.table``
KM_TABLE_COLUMNS: tuple[str, ...] = (
    "group",
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "std_error",
    "conf_low",
    "conf_high",
)

_KM_GLANCE = (
    "n",
    "n_dropped",
    "n_events",
    "n_groups",
    "conf_level",
    "conf_type",
    "logrank_statistic",
    "logrank_df",
    "logrank_p_value",
    "method",
)


def _confint(
    surv: np.ndarray, se_log: np.ndarray, z: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits as R ``survfit_confint`` with the standard error of log S."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = se_log * surv
            return np.maximum(surv - z * se2, 0), np.minimum(surv + z * se2, 1)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(xx) - z * se_log), np.minimum(np.exp(np.log(xx) + z * se_log), 1)
        xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
        se2 = z * se_log / np.log(xx)
        low = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
        high = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        return low, high


@dataclass(frozen=True, repr=False)
class LogRankResult(BaseResult):
    """A log-rank test (``KaplanMeierResult.logrank()`` or ``.trend_test()``).

    Attributes
    ----------
    statistic, df, p_value : float
        Chi-square statistic, its degrees of freedom and p-value.
    table : pandas.DataFrame
        Per group: ``group, n, observed, expected`` (and ``score`` for the trend test).
    variance : numpy.ndarray
        Variance matrix of observed minus expected (R ``survdiff()$var``).
    kind : str
        ``"logrank"`` or ``"trend"``.
    """

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame
    variance: np.ndarray
    kind: str
    _can_exponentiate = False

    def _title(self) -> str:
        return "Log-rank test" if self.kind == "logrank" else "Log-rank test for trend"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "term": [self.kind],
                "estimate": [np.nan],
                "std_error": [np.nan],
                "statistic": [self.statistic],
                "p_value": [self.p_value],
                "conf_low": [np.nan],
                "conf_high": [np.nan],
                "df": [self.df],
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: statistic, df, p-value, number of groups, test kind."""
        return glance_frame(
            {
                "statistic": self.statistic,
                "df": self.df,
                "p_value": self.p_value,
                "n_groups": len(self.table),
                "method": self.kind,
            },
            ("statistic", "df", "p_value", "n_groups", "method"),
        )


@dataclass(frozen=True, repr=False)
class KaplanMeierResult(BaseResult):
    """Kaplan-Meier estimates for one or several groups.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group and distinct time (events and censorings), columns
        ``group, time, n_risk, n_event, n_censor, survival, std_error, conf_low,
        conf_high``; ``std_error`` is the Greenwood standard error of the survival
        probability (as R ``summary.survfit``).
    conf_level : float
        Confidence level of the pointwise limits.
    conf_type : str
        Transformation used for the limits.
    groups : tuple
        Group labels in sorted order (``("all",)`` without ``by``).
    n, n_dropped : int
        Rows used and rows excluded for missing values.
    by : str or None
        The grouping column.
    notes : tuple of str
        Exclusions.
    duration, event : str or None
        The follow-up time and event columns (figures label their axes with them).
    """

    table: pd.DataFrame
    conf_level: float
    conf_type: str
    groups: tuple[Any, ...]
    n: int
    n_dropped: int
    by: str | None = None
    notes: tuple[str, ...] = ()
    duration: str | None = None
    event: str | None = None
    _data: Any = field(default=None, compare=False)
    _can_exponentiate = False

    def _title(self) -> str:
        return f"Kaplan-Meier estimate ({self.conf_type} confidence limits)"

    def _notes(self) -> list[str]:
        return list(self.notes)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        med = self.median_survival() if conf_level == self.conf_level else None
        if med is None:
            med = _recompute(self, conf_level).median_survival()
        return pd.DataFrame(
            {
                "term": [f"median[{g}]" for g in med["group"]],
                "estimate": med["median"].to_numpy(),
                "std_error": np.nan,
                "statistic": np.nan,
                "p_value": np.nan,
                "conf_low": med["conf_low"].to_numpy(),
                "conf_high": med["conf_high"].to_numpy(),
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: n, events, groups, CI settings and the log-rank test (if groups)."""
        vals = {
            "n": self.n,
            "n_dropped": self.n_dropped,
            "n_events": int(self.table["n_event"].sum()),
            "n_groups": len(self.groups),
            "conf_level": self.conf_level,
            "conf_type": self.conf_type,
            "method": "Kaplan-Meier",
        }
        if len(self.groups) > 1:
            lr = self.logrank()
            vals.update(
                logrank_statistic=lr.statistic, logrank_df=lr.df, logrank_p_value=lr.p_value
            )
        return glance_frame(vals, _KM_GLANCE)

    # ------------------------------------------------------------------
    def tidy(
        self, conf_level: float = 0.95, exponentiate: bool = False, *, min_cell: int | None = None
    ) -> pd.DataFrame:
        """Median survival per group (``term`` ``median[group]``).

        With ``min_cell``, medians and limits of groups with fewer than ``min_cell``
        people, or reached only where fewer than ``min_cell`` remain at risk, are NaN
        (see :mod:`mutualaid_outcomes.disclosure`).
        """
        out = super().tidy(conf_level=conf_level, exponentiate=exponentiate)
        if min_cell is None:
            return out
        med = out.assign(group=list(self.groups))
        cols = ("estimate", "conf_low", "conf_high")
        return suppress_quantiles(med, self.table, check_min_cell(min_cell), cols).drop(
            columns="group"
        )

    def quantile(
        self, probs: Sequence[float] = (0.25, 0.5, 0.75), *, min_cell: int | None = None
    ) -> pd.DataFrame:
        """Survival-time quantiles with confidence limits (R ``quantile.survfit``).

        The ``p`` quantile is the first time at which the curve falls to ``1 - p`` or
        below; where the curve equals ``1 - p`` exactly over an interval, the midpoint
        of the interval is used. Limits apply the same rule to the pointwise
        confidence band. NaN where the curve (or band) never reaches ``1 - p``.

        Returns
        -------
        pandas.DataFrame
            ``group, prob, time, conf_low, conf_high``.
        """
        probs_arr = np.asarray(probs, dtype=float)
        if np.any((probs_arr < 0) | (probs_arr > 1)) or np.any(np.isnan(probs_arr)):
            raise DataValidationError(f"`probs` must lie in [0, 1]; got {list(probs)}.")
        tol = np.sqrt(np.finfo(float).eps)
        rows = []
        for g in self.groups:
            t = self.table[self.table["group"] == g]
            x = np.r_[0.0, t["time"].to_numpy()]
            for p in probs_arr:
                rows.append(
                    (
                        g,
                        p,
                        findq(x, np.r_[0.0, 1 - t["survival"].to_numpy()], p, tol),
                        findq(x, np.r_[0.0, 1 - t["conf_low"].to_numpy()], p, tol),
                        findq(x, np.r_[0.0, 1 - t["conf_high"].to_numpy()], p, tol),
                    )
                )
        out = pd.DataFrame(rows, columns=["group", "prob", "time", "conf_low", "conf_high"])
        cols = ("time", "conf_low", "conf_high")
        return suppress_quantiles(out, self.table, check_min_cell(min_cell), cols)

    def median_survival(self, *, min_cell: int | None = None) -> pd.DataFrame:
        """Median survival time with its confidence limits per group.

        Returns
        -------
        pandas.DataFrame
            ``group, median, conf_low, conf_high`` (NaN where not reached).
        """
        q = self.quantile([0.5], min_cell=min_cell)
        return q.rename(columns={"time": "median"}).drop(columns="prob")

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Survival probability, standard error and limits at given times.

        The curve is a right-continuous step function; beyond a group's last follow-up
        time the value is NaN.

        Returns
        -------
        pandas.DataFrame
            ``group, time, survival, std_error, conf_low, conf_high``.
        """
        tq = _check_times(times)
        out = []
        for g in self.groups:
            t = self.table[self.table["group"] == g]
            tt = t["time"].to_numpy()
            idx = np.searchsorted(tt, tq, side="right") - 1
            cols = {}
            for c in ("survival", "std_error", "conf_low", "conf_high"):
                v = np.r_[
                    1.0 if c in ("survival", "conf_low", "conf_high") else 0.0, t[c].to_numpy()
                ]
                val = v[idx + 1]
                val = np.where(tq > tt[-1], np.nan, val)
                cols[c] = val
            out.append(pd.DataFrame({"group": [g] * len(tq), "time": tq, **cols}))
        return pd.concat(out, ignore_index=True)

    def at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Number at risk and cumulative events (and censorings) at given times.

        ``n_risk`` at ``t`` counts people with follow-up ``>= t`` (as R
        ``summary(fit, times)``); ``n_event`` and ``n_censor`` count those up to and
        including ``t``.

        Returns
        -------
        pandas.DataFrame
            ``group, time, n_risk, n_event, n_censor``.
        """
        tq = _check_times(times)
        out = []
        for g in self.groups:
            t = self.table[self.table["group"] == g]
            tt = t["time"].to_numpy()
            n_total = int(t["n_risk"].iloc[0])
            ce = np.r_[0, np.cumsum(t["n_event"].to_numpy())]
            cc = np.r_[0, np.cumsum(t["n_censor"].to_numpy())]
            left = np.searchsorted(tt, tq, side="left")
            right = np.searchsorted(tt, tq, side="right")
            n_before = ce[left] + cc[left]
            out.append(
                pd.DataFrame(
                    {
                        "group": [g] * len(tq),
                        "time": tq,
                        "n_risk": (n_total - n_before).astype(int),
                        "n_event": ce[right].astype(int),
                        "n_censor": cc[right].astype(int),
                    }
                )
            )
        return pd.concat(out, ignore_index=True)

    def _counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per distinct event time and group: numbers at risk and events."""
        d = self._data
        times = np.unique(d["time"][d["event"] > 0])
        k = len(self.groups)
        n_risk = np.zeros((len(times), k))
        n_ev = np.zeros((len(times), k))
        for gi in range(k):
            m = d["group"] == gi
            tg = np.sort(d["time"][m])
            n_risk[:, gi] = len(tg) - np.searchsorted(tg, times, side="left")
            te = d["time"][m & (d["event"] > 0)]
            n_ev[:, gi] = np.bincount(np.searchsorted(times, te), minlength=len(times))
        return times, n_risk, n_ev

    def _logrank_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(self.groups) < 2:
            raise EstimationError("A log-rank test needs at least two groups; there is one.")
        _, n_risk, n_ev = self._counts()
        n = n_risk.sum(axis=1)
        d = n_ev.sum(axis=1)
        obs = n_ev.sum(axis=0)
        exp_ = (d[:, None] * n_risk / n[:, None]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
        v = np.einsum("t,tg->g", f * n, n_risk)
        var = np.diag(v) - np.einsum("t,tg,th->gh", f, n_risk, n_risk)
        return obs, exp_, var

    def logrank(self) -> LogRankResult:
        """Log-rank test of equal survival across groups (R ``survdiff``, rho = 0).

        Returns
        -------
        LogRankResult
            Chi-square on (number of groups with expected > 0) - 1 df.
        """
        obs, exp_, var = self._logrank_parts()
        keep = exp_ > 0
        idx = np.flatnonzero(keep)[:-1]
        oe = (obs - exp_)[idx]
        chisq = float(oe @ np.linalg.solve(var[np.ix_(idx, idx)], oe)) if len(idx) else np.nan
        df = int(keep.sum() - 1)
        table = self._group_table(obs, exp_)
        return LogRankResult(chisq, df, float(stats.chi2.sf(chisq, df)), table, var, "logrank")

    def trend_test(self, scores: Sequence[float] | None = None) -> LogRankResult:
        r"""Log-rank test for trend across ordered groups.

        Parameters
        ----------
        scores : sequence of float, optional
            One score per group in the order of ``groups``; default 1, 2, ..., k.

        Returns
        -------
        LogRankResult
            :math:`(s^\top(O-E))^2 / s^\top V s` on 1 df, with :math:`V` the
            log-rank variance matrix (R ``survdiff()$var``).
        """
        obs, exp_, var = self._logrank_parts()
        k = len(self.groups)
        s = np.arange(1.0, k + 1) if scores is None else np.asarray(scores, dtype=float)
        if s.shape != (k,) or not np.all(np.isfinite(s)):
            raise DataValidationError(
                f"`scores` must give one finite number per group ({k} groups: "
                f"{list(self.groups)}); got {scores!r}."
            )
        num = float(s @ (obs - exp_))
        chisq = num * num / float(s @ var @ s)
        table = self._group_table(obs, exp_)
        table["score"] = s
        return LogRankResult(chisq, 1, float(stats.chi2.sf(chisq, 1)), table, var, "trend")

    def _group_table(self, obs: np.ndarray, exp_: np.ndarray) -> pd.DataFrame:
        n = np.bincount(self._data["group"], minlength=len(self.groups))
        return pd.DataFrame({"group": list(self.groups), "n": n, "observed": obs, "expected": exp_})


def _check_times(times: Sequence[float]) -> np.ndarray:
    try:
        tq = np.atleast_1d(np.asarray(times, dtype=float))
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"`times` must be numbers; got {times!r}.") from None
    if np.any(np.isnan(tq)) or np.any(tq < 0):
        raise DataValidationError(f"`times` must be non-negative numbers; got {times!r}.")
    return tq


def _km_table(
    time: np.ndarray, event: np.ndarray, label: Any, z: float, conf_type: str
) -> pd.DataFrame:
    ut, inv = np.unique(time, return_inverse=True)
    n_ev = np.bincount(inv, weights=event, minlength=len(ut))
    n_all = np.bincount(inv, minlength=len(ut)).astype(float)
    n_risk = len(time) - np.r_[0, np.cumsum(n_all)[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - n_ev / n_risk)
        inc = np.where(n_ev > 0, n_ev / (n_risk * (n_risk - n_ev)), 0.0)
    se_log = np.sqrt(np.cumsum(inc))
    low, high = _confint(surv, se_log, z, conf_type)
    with np.errstate(invalid="ignore"):
        se_surv = se_log * surv
    return pd.DataFrame(
        {
            "group": [label] * len(ut),
            "time": ut,
            "n_risk": n_risk.astype(int),
            "n_event": n_ev.astype(int),
            "n_censor": (n_all - n_ev).astype(int),
            "survival": surv,
            "std_error": se_surv,
            "conf_low": low,
            "conf_high": high,
        }
    )


def _recompute(res: KaplanMeierResult, conf_level: float) -> KaplanMeierResult:
    d = res._data
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    tables = [
        _km_table(d["time"][d["group"] == i], d["event"][d["group"] == i], g, z, res.conf_type)
        for i, g in enumerate(res.groups)
    ]
    return KaplanMeierResult(
        table=pd.concat(tables, ignore_index=True),
        conf_level=conf_level,
        conf_type=res.conf_type,
        groups=res.groups,
        n=res.n,
        n_dropped=res.n_dropped,
        by=res.by,
        notes=res.notes,
        duration=res.duration,
        event=res.event,
        _data=d,
    )


@renamed(group="by")
def kaplan_meier(
    data: pd.DataFrame,
    duration: str,
    event: str,
    by: str | None = None,
    *,
    conf_level: float = 0.95,
    conf_type: ConfType = "log",
) -> KaplanMeierResult:
    r"""Kaplan-Meier survival curves with Greenwood confidence limits.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    duration : str
        Follow-up time (>= 0).
    event : str
        1 = event, 0 = censored (booleans accepted).
    by : str, optional
        Estimate one curve per value of this column (sorted).
    conf_level : float
        Level of the pointwise limits.
    conf_type : {"log", "log-log", "plain"}
        Scale of the limits; R ``survfit``'s default is ``"log"``.

    Returns
    -------
    KaplanMeierResult
        ``table`` (survival curve), ``median_survival()``, ``quantile()``,
        ``survival_at(times)``, ``at_risk(times)``, ``logrank()``, ``trend_test()``;
        ``tidy()`` gives the median per group and ``glance()`` the log-rank test.

    Raises
    ------
    DataValidationError
        Negative durations, events not coded 0/1.
    EstimationError
        No complete rows.
    ColumnNotFoundError, OptionError, ArgumentTypeError
        Unknown columns or options.

    Notes
    -----
    :math:`\hat S(t)=\prod_{t_j\le t}(1-d_j/n_j)` with Greenwood's
    :math:`\widehat{\operatorname{var}}\{\log\hat S(t)\}=\sum_{t_j\le t}
    d_j/\{n_j(n_j-d_j)\}`. Limits: "log" :math:`\hat S e^{\pm z\,se}` (upper capped
    at 1), "log-log" on :math:`\log(-\log \hat S)`, "plain" :math:`\hat S(1\pm z\,se)`
    clipped to [0, 1]. Rows with a missing duration, event or group are excluded and
    reported in ``glance()["n_dropped"]``. Survival, standard errors, limits, medians
    with their limits, numbers at risk and the log-rank statistic agree with R survival
    3.5.3 to 1e-6 relative (``tests/reference/survival_km.R``).

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
    JASA 53:457-481.
    Brookmeyer R, Crowley J (1982). A confidence interval for the median survival
    time. Biometrics 38:29-41.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier
    >>> df = pd.DataFrame({"t": [2, 3, 3, 5, 8, 9, 12, 14], "e": [1, 1, 0, 1, 0, 1, 1, 0],
    ...                    "arm": ["a", "b"] * 4})
    >>> km = kaplan_meier(df, "t", "e")
    >>> km.table[["time", "n_risk", "n_event", "survival"]].round(3).head(3)
       time  n_risk  n_event  survival
    0   2.0       8        1     0.875
    1   3.0       7        1     0.750
    2   5.0       5        1     0.600
    >>> round(float(km.median_survival()["median"].iloc[0]), 1)
    9.0
    """
    data = check_dataframe(data)
    conf_level = check_conf_level(conf_level)
    conf_type = check_option(conf_type, ("log", "log-log", "plain"), "conf_type")
    check_column_names(("duration", duration), ("event", event))
    check_columns(data, [duration], "duration")
    check_columns(data, [event], "event")
    extra = []
    if by is not None:
        check_column_names(("by", by))
        check_columns(data, [by], "by")
        extra.append(by)
    sub, notes, n_in = complete_survival_rows(data, duration, event, extra)
    t = sub[duration].to_numpy(dtype=float)
    check_durations(t, duration)
    e = event_indicator(sub[event], event)
    codes, groups = group_codes(sub, by, len(t))
    d = {"time": t, "event": e, "group": codes}
    res = KaplanMeierResult(
        table=pd.DataFrame(columns=list(KM_TABLE_COLUMNS)),
        conf_level=conf_level,
        conf_type=conf_type,
        groups=groups,
        n=len(t),
        n_dropped=n_in - len(t),
        by=by,
        notes=tuple(notes),
        duration=duration,
        event=event,
        _data=d,
    )
    return _recompute(res, conf_level)
