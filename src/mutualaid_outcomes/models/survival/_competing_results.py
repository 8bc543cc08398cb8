"""Results of the competing-risks estimators, and Gray's test statistic behind two of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import check_conf_level
from ...errors import EstimationError
from ...results import ArrayCoefficients, BaseResult, glance_frame, wald_table
from ._cmprsk import gray_stratum, loglog_ci

__all__ = [
    "FINE_GRAY_GLANCE_COLUMNS",
    "CumulativeIncidenceResult",
    "FineGrayResult",
    "GrayTestResult",
    "gray_statistics",
]


@dataclass(frozen=True, repr=False)
class GrayTestResult(BaseResult):
    """Gray's test of equal cumulative incidence across groups, one row per cause.

    Attributes
    ----------
    table : pandas.DataFrame
        ``cause, statistic, df, p_value``.
    rho : float
        Power of the weight function.
    """

    table: pd.DataFrame
    rho: float
    _can_exponentiate = False

    def _title(self) -> str:
        return f"Gray's test (rho = {self.rho:g})"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        return pd.DataFrame(
            {
                "term": [f"cause[{c}]" for c in t["cause"]],
                "estimate": np.nan,
                "std_error": np.nan,
                "statistic": t["statistic"].to_numpy(),
                "p_value": t["p_value"].to_numpy(),
                "conf_low": np.nan,
                "conf_high": np.nan,
                "df": t["df"].to_numpy(),
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: number of causes, df and rho."""
        return glance_frame(
            {
                "n_causes": len(self.table),
                "df": int(self.table["df"].iloc[0]) if len(self.table) else np.nan,
                "rho": self.rho,
                "method": "Gray's test",
            },
            ("n_causes", "df", "rho", "method"),
        )


@dataclass(frozen=True, repr=False)
class CumulativeIncidenceResult(BaseResult):
    """Cumulative incidence functions by group and cause.

    Attributes
    ----------
    table : pandas.DataFrame
        ``group, cause, time, cif, variance, std_error, conf_low, conf_high``: a row at
        time 0 and one at every time with an event of that cause (the value after the
        jump).
    conf_level : float
        Level of the pointwise limits.
    causes, groups : tuple
        Sorted labels.
    n, n_dropped : int
        Rows used and excluded for missing values.
    duration, event, by : str or None
        The columns the curves were estimated from (figures label their axes, causes
        and groups with them).
    """

    table: pd.DataFrame
    conf_level: float
    causes: tuple[Any, ...]
    groups: tuple[Any, ...]
    n: int
    n_dropped: int
    notes: tuple[str, ...] = ()
    _data: Any = None
    duration: str | None = None
    event: str | None = None
    by: str | None = None
    _can_exponentiate = False

    def _title(self) -> str:
        return "Cumulative incidence (Aalen-Johansen)"

    def _notes(self) -> list[str]:
        return list(self.notes)

    def tidy(
        self, conf_level: float = 0.95, exponentiate: bool = False, *, min_cell: int | None = None
    ) -> pd.DataFrame:
        """The last value of each curve (``term`` ``cif[group, cause]``).

        With ``min_cell`` (:mod:`mutualaid_outcomes.disclosure`), a group with fewer than
        ``min_cell`` people gets NaN, and every other curve is read at its last event
        time with at least ``min_cell`` people still at risk (where a figure drawn with
        the same ``min_cell`` stops), not at its last event time, which is one
        participant's.
        """
        from ...disclosure import check_min_cell

        min_cell = check_min_cell(min_cell)
        if min_cell is None:
            return super().tidy(conf_level=conf_level, exponentiate=exponentiate)
        shown = self.table
        if self._data is not None:
            shown = self._shown_rows(min_cell)
        out = super().tidy(conf_level=conf_level, exponentiate=exponentiate)
        trimmed = self._last_values(shown, check_conf_level(conf_level))
        values = trimmed.set_index("term").reindex(out["term"])
        for c in ("estimate", "std_error", "conf_low", "conf_high"):
            out[c] = values[c].to_numpy()
        return out

    def _shown_rows(self, min_cell: int) -> pd.DataFrame:
        """Rows of :attr:`table` of groups with ``min_cell`` people, at times with as many at risk."""
        d = self._data
        keep = np.zeros(len(self.table), dtype=bool)
        for gi, g in enumerate(self.groups):
            t = np.sort(d["time"][d["group"] == gi])
            rows = (self.table["group"] == g).to_numpy()
            if len(t) < min_cell:
                continue
            tt = self.table["time"].to_numpy()[rows]
            n_risk = len(t) - np.searchsorted(t, tt, side="left")
            keep[np.flatnonzero(rows)[(n_risk >= min_cell) | (tt == 0)]] = True
        return self.table[keep]

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return self._last_values(self.table, conf_level)

    @staticmethod
    def _last_values(table: pd.DataFrame, conf_level: float) -> pd.DataFrame:
        last = table.groupby(["group", "cause"], sort=False).tail(1)
        z = float(stats.norm.ppf(0.5 + conf_level / 2))
        low, high = loglog_ci(last["cif"].to_numpy(), last["std_error"].to_numpy(), z)
        return pd.DataFrame(
            {
                "term": [f"cif[{g}, {c}]" for g, c in zip(last["group"], last["cause"])],
                "estimate": last["cif"].to_numpy(),
                "std_error": last["std_error"].to_numpy(),
                "statistic": np.nan,
                "p_value": np.nan,
                "conf_low": low,
                "conf_high": high,
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: n, rows dropped, numbers of groups and causes."""
        return glance_frame(
            {
                "n": self.n,
                "n_dropped": self.n_dropped,
                "n_groups": len(self.groups),
                "n_causes": len(self.causes),
                "conf_level": self.conf_level,
                "method": "Aalen-Johansen",
            },
            ("n", "n_dropped", "n_groups", "n_causes", "conf_level", "method"),
        )

    def at(self, times: Any) -> pd.DataFrame:
        """Cumulative incidence (step function) at given times.

        Returns
        -------
        pandas.DataFrame
            ``group, cause, time, cif, std_error``; NaN beyond a group's follow-up.
        """
        tq = np.atleast_1d(np.asarray(times, dtype=float))
        out = []
        d = self._data
        for (g, c), t in self.table.groupby(["group", "cause"], sort=False):
            gi = self.groups.index(g)
            tmax = d["time"][d["group"] == gi].max()
            idx = np.searchsorted(t["time"].to_numpy(), tq, side="right") - 1
            cif = t["cif"].to_numpy()[idx]
            se = t["std_error"].to_numpy()[idx]
            bad = tq > tmax
            out.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "cause": c,
                        "time": tq,
                        "cif": np.where(bad, np.nan, cif),
                        "std_error": np.where(bad, np.nan, se),
                    }
                )
            )
        return pd.concat(out, ignore_index=True)

    def at_risk(self, times: Any) -> pd.DataFrame:
        """Number at risk and cumulative events of any cause at given times, per group.

        ``n_risk`` at ``t`` counts people with follow-up ``>= t``; ``n_event`` counts
        events of any cause up to and including ``t`` (as R ``summary(survfit)`` on the
        multi-state fit).

        Returns
        -------
        pandas.DataFrame
            ``group, time, n_risk, n_event``.
        """
        tq = np.atleast_1d(np.asarray(times, dtype=float))
        d = self._data
        out = []
        for gi, g in enumerate(self.groups):
            m = d["group"] == gi
            t = np.sort(d["time"][m])
            te = np.sort(d["time"][m & (d["cause"] > 0)])
            out.append(
                pd.DataFrame(
                    {
                        "group": [g] * len(tq),
                        "time": tq,
                        "n_risk": len(t) - np.searchsorted(t, tq, side="left"),
                        "n_event": np.searchsorted(te, tq, side="right"),
                    }
                )
            )
        return pd.concat(out, ignore_index=True)

    def gray_test(self, *, rho: float = 0.0) -> GrayTestResult:
        """Gray's test across the groups of this result (no strata); see :func:`gray_test`."""
        d = self._data
        if len(self.groups) < 2:
            raise EstimationError("Gray's test needs at least two groups; there is one.")
        return gray_statistics(
            d["time"],
            d["cause"],
            d["group"],
            np.zeros(len(d["time"]), int),
            self.causes,
            len(self.groups),
            rho,
        )


def gray_statistics(
    time: np.ndarray,
    cause: np.ndarray,
    group: np.ndarray,
    strata: np.ndarray,
    causes: tuple,
    ng: int,
    rho: float,
) -> GrayTestResult:
    order = np.argsort(time, kind="stable")
    t, cz, g, st = time[order], cause[order], group[order], strata[order]
    rows = []
    for k, lab in enumerate(causes, start=1):
        m = np.where(cz == k, 1, np.where(cz == 0, 0, 2))
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for code in np.unique(st):
            sel = st == code
            s_k, v_k = gray_stratum(t[sel], m[sel], g[sel], ng, rho)
            s += s_k
            v += v_k
        try:
            stat = float(s @ np.linalg.solve(v, s))
        except np.linalg.LinAlgError:
            stat = np.nan
        rows.append((lab, stat, ng - 1, float(stats.chi2.sf(stat, ng - 1))))
    table = pd.DataFrame(rows, columns=["cause", "statistic", "df", "p_value"])
    return GrayTestResult(table=table, rho=float(rho))


FINE_GRAY_GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "n_events",
    "n_competing",
    "n_censored",
    "loglik",
    "loglik_null",
    "lr_statistic",
    "lr_df",
    "lr_p_value",
    "converged",
    "n_iter",
    "cause",
    "method",
    "condition_number",
    "collinear",
)


@dataclass(frozen=True, repr=False)
class FineGrayResult(ArrayCoefficients, BaseResult):
    """Result of :func:`fit_fine_gray`.

    ``tidy(exponentiate=True)`` gives subdistribution hazard ratios.

    Attributes
    ----------
    naive_vcov : numpy.ndarray
        Inverse of the information of the weighted partial likelihood.

    Notes
    -----
    Coefficient protocol: :meth:`coef` gives the log subdistribution hazard ratios,
    :meth:`vcov` their sandwich covariance (cmprsk ``crr``, accounting for the estimated
    censoring distribution), :attr:`nobs` the rows used; :attr:`df_resid` is None.
    """

    _terms: tuple[str, ...]
    _coef: np.ndarray
    _cov: np.ndarray
    naive_vcov: np.ndarray
    loglik: float
    loglik_null: float
    _nobs: int
    n_dropped: int
    n_events: int
    n_competing: int
    n_censored: int
    converged: bool
    n_iter: int
    cause: Any
    notes: tuple[str, ...] = ()
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()

    def _title(self) -> str:
        return f"Fine-Gray subdistribution hazards (cause {self.cause})"

    def _notes(self) -> list[str]:
        return list(self.notes)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return wald_table(list(self._terms), self._coef, np.sqrt(np.diag(self._cov)), conf_level)

    def glance(self) -> pd.DataFrame:
        """One row: counts by status, log pseudo-likelihoods, LR statistic, convergence.

        ``condition_number`` is Belsley's scaled condition number of the centred
        covariate matrix, ``collinear`` whether it exceeds the documented threshold
        (``1e4``, ``docs/numerics.md``).
        """
        p = len(self._terms)
        lr = 2 * (self.loglik - self.loglik_null)
        return glance_frame(
            {
                "n": self.nobs,
                "n_dropped": self.n_dropped,
                "n_events": self.n_events,
                "n_competing": self.n_competing,
                "n_censored": self.n_censored,
                "loglik": self.loglik,
                "loglik_null": self.loglik_null,
                "lr_statistic": lr,
                "lr_df": p,
                "lr_p_value": float(stats.chi2.sf(lr, p)),
                "converged": self.converged,
                "n_iter": self.n_iter,
                "cause": str(self.cause),
                "method": "Fine-Gray (cmprsk crr)",
                "condition_number": self.condition_number,
                "collinear": bool(self.collinear_columns),
            },
            FINE_GRAY_GLANCE_COLUMNS,
        )
