r"""Cox partial-likelihood engine shared by the Cox, time-varying Cox and zph code.

The rows are sorted once, by stratum, then stop time, with the deaths before the
censored rows at a tied time. In that order the risk set of an event time ``t`` in
stratum ``s`` is a suffix of the rows sorted by stop time (``stop >= t``) less a suffix
of the rows sorted by start time (``start >= t``: not yet entered) -- the sorted-entry
(two-pointer) form of the counting-process risk set. Rows of later strata are in both
suffixes and cancel; for right-censored data (no ``start``) the second suffix is just
the later strata. Every risk-set sum is therefore a difference of two reverse
cumulative sums, and one Newton step costs O(N p^2) after the O(N log N) sort: no
per-event loop, no N x N or N x p^2 intermediate.

Tied event times are handled by the Breslow or the Efron approximation exactly as
R survival (coxfit6.c / agfit4.c): for Efron with ``m`` tied deaths, step ``k``
(``k = 0..m-1``) removes the fraction ``k/m`` of the deaths' risk from the
denominator and each step carries the mean death weight. The information matrix
is accumulated per row, :math:`\sum_k (w_k/D_k) C_k = X^\top \mathrm{diag}(a) X`
with :math:`a_i = w_i e^{\eta_i}(\sum_{k: i \in R_k} w_k/D_k - [i \text{ dies}]
\sum_{k \in \text{its time}} f_k w_k/D_k)`, the same per-row hazard sums that give
the score residuals (R's ``coxscore``/``agscore``).

Covariates are stored transposed (p x N) so that every per-covariate operation runs
over contiguous memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

__all__ = ["CoxData", "CoxFit", "Pieces", "fit_coxph", "pieces", "solve_psd", "step_info"]


def _rev_cumsum(v: np.ndarray) -> np.ndarray:
    """Suffix sums along the last axis, with a trailing zero: ``out[..., i] = v[..., i:].sum()``."""
    out = np.zeros(v.shape[:-1] + (v.shape[-1] + 1,))
    np.cumsum(v[..., ::-1], axis=-1, out=out[..., -2::-1])
    return out


class CoxData:
    """Arrays describing a Cox model, sorted and indexed once and reused for every beta.

    Parameters are in the caller's row order; every stored per-row array is in the
    sorted order ``order`` (``stop[i]`` here is the caller's ``stop[order[i]]``).

    Attributes
    ----------
    n, p : int
        Rows and covariates.
    xc : ndarray (p, n)
        Covariates centred at their unweighted means, transposed.
    x : ndarray (p, n)
        Uncentred covariates, transposed.
    n_times : int
        Distinct (stratum, event time) pairs ``J``.
    dead_pos, dead_j : ndarray (D,)
        Sorted positions of the deaths and the index of their event time.
    ev_first, ev_m, ev_wsum : ndarray (J,)
        Position of the first death at each event time, the number of deaths and
        their total weight.
    row_lo, row_hi : ndarray (n,)
        Row ``i`` is at risk at exactly the event times ``row_lo[i] <= j < row_hi[i]``.
    step_j, step_f, step_w, step_first
        Efron / Breslow steps: event time of each step, removed fraction, weight, and the
        first step of each event time.
    """

    # counting-process data only (``start`` given), else None
    key_start: np.ndarray | None
    ord_start: np.ndarray | None
    lo_start: np.ndarray | None
    # right-censored data only, else None
    hi_stratum: np.ndarray | None

    def __init__(
        self,
        *,
        stop: np.ndarray,
        event: np.ndarray,
        x: np.ndarray,
        weights: np.ndarray,
        strata: np.ndarray,
        efron: bool,
        start: np.ndarray | None = None,
    ) -> None:
        n = len(stop)
        self.n, self.p = n, x.shape[1]
        self.efron = efron
        self.counting = start is not None
        strata = np.asarray(strata, dtype=np.int64)
        # weighted covariate means in the caller's order, as R's fit$means (used for
        # R's centred linear predictor in the concordance)
        wsum = np.cumsum(weights)[-1]
        self.lp_means = np.array([np.cumsum(weights * x[:, k])[-1] / wsum for k in range(self.p)])
        ev = np.asarray(event) > 0
        self.n_strata = int(strata.max()) + 1 if n else 0
        keys = (~ev, stop) if self.n_strata == 1 else (~ev, stop, strata)
        order = np.lexsort(keys)  # stratum, then stop time, deaths first at a tie
        self.order = order
        self.stop = stop[order]
        self.start = start[order] if start is not None else None
        self.event = ev[order]
        self.weights = weights[order]
        self.strata = strata[order]
        self.x = np.take(x.T, order, axis=1)
        self.x_mean = self.x.mean(axis=1) if n else np.zeros(self.p)
        self.xc = self.x - self.x_mean[:, None]
        self._time_keys()
        self._index_events()
        self._index_risk_sets()
        self._index_steps()
        wd = self.weights[self.dead_pos]
        self.wx_dead = np.einsum("ij,j->i", self.xc[:, self.dead_pos], wd)
        self.w_dead = float(wd.sum())

    def _time_keys(self) -> None:
        """Integer keys that order (stratum, time) exactly, for stop and start times.

        Right-censored data: the dense index of (stratum, stop) in the sorted rows.
        Counting-process data: ``stratum * m + rank`` with ``rank(u)`` the number of
        distinct stop times ``<= u``, so that for an event time ``t`` and any start
        ``u`` in its stratum, ``u < t`` if and only if ``key(u) < key(t)``.
        """
        t, s = self.stop, self.strata
        if self.start is None:  # right-censored data
            new = np.ones(self.n, dtype=np.int64)
            new[0] = 0
            new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
            self.key_stop = np.cumsum(new)
            self.key_start = None
            return
        uniq = np.unique(t)
        m = len(uniq) + 1
        self.key_stop = s * m + np.searchsorted(uniq, t, side="right")
        self.ord_start = np.lexsort((self.start, s))
        kst = s[self.ord_start] * m + np.searchsorted(
            uniq, self.start[self.ord_start], side="right"
        )
        self.key_start = np.empty_like(kst)
        self.key_start[self.ord_start] = kst

    def _index_events(self) -> None:
        dpos = np.flatnonzero(self.event)
        dk = self.key_stop[dpos]
        new = np.ones(len(dpos), dtype=bool)
        new[1:] = dk[1:] != dk[:-1]
        first_d = np.flatnonzero(new)  # index into dpos of each time's first death
        self.dead_pos = dpos
        self.dead_j = np.cumsum(new) - 1
        self.n_times = len(first_d)
        self.ev_first = dpos[first_d]
        self.ev_first_d = first_d
        self.ev_m = np.diff(np.append(first_d, len(dpos)))
        self.ev_keys = dk[first_d]
        self.ev_stratum = self.strata[self.ev_first]
        self.ev_time = self.stop[self.ev_first]
        self.ev_wsum = np.add.reduceat(self.weights[dpos], first_d) if len(dpos) else np.zeros(0)

    def _index_risk_sets(self) -> None:
        """Suffix limits of every risk set and each row's range of event times."""
        self.row_hi = np.searchsorted(self.ev_keys, self.key_stop, side="right")
        if self.counting:
            ord_start = cast(np.ndarray, self.ord_start)
            kst = cast(np.ndarray, self.key_start)[ord_start]
            self.lo_start = np.searchsorted(kst, self.ev_keys, side="left")
            self.row_lo = np.empty(self.n, dtype=np.int64)
            self.row_lo[ord_start] = np.searchsorted(self.ev_keys, kst, side="right")
            self.hi_stratum = None
        else:
            self.ord_start = self.lo_start = None
            self.hi_stratum = np.searchsorted(self.strata, self.ev_stratum, side="right")
            self.row_lo = np.searchsorted(self.ev_stratum, self.strata, side="left")

    def _index_steps(self) -> None:
        if self.efron:
            j = self.dead_j
            k = np.arange(len(j)) - self.ev_first_d[j]
            self.step_j = j
            self.step_f = k / self.ev_m[j]
            self.step_w = (self.ev_wsum / self.ev_m)[j]
            self.step_first = self.ev_first_d
        else:
            self.step_j = np.arange(self.n_times)
            self.step_f = np.zeros(self.n_times)
            self.step_w = self.ev_wsum.copy()
            self.step_first = np.arange(self.n_times)
        self.step_count = np.diff(np.append(self.step_first, len(self.step_j)))
        # Efron steps that remove part of the tied deaths' risk (none without ties)
        self.tied = bool(self.efron and np.any(self.ev_m > 1))

    def risk_and_death_sums(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Sums of ``v`` (q, n) over the risk set and the deaths of every event time (q, J).

        The death sums are only formed when some event time has tied deaths (they enter
        Efron's correction only); otherwise ``None``.
        """
        rc = _rev_cumsum(v)
        first = np.take(rc, self.ev_first, axis=1)
        if self.counting:
            # both are set for counting-process data
            ord_start = cast(np.ndarray, self.ord_start)
            lo_start = cast(np.ndarray, self.lo_start)
            risk = first - np.take(_rev_cumsum(v[:, ord_start]), lo_start, axis=1)
        elif self.n_strata > 1:
            risk = first - np.take(rc, cast(np.ndarray, self.hi_stratum), axis=1)
        else:
            risk = first  # the suffix runs to the end of the data
        deaths = None
        if self.tied:
            deaths = first - np.take(rc, self.ev_first + self.ev_m, axis=1)
        return risk, deaths

    def per_time(self, v: np.ndarray) -> np.ndarray:
        """Sum per-step values (..., S) within each event time -> (..., J)."""
        if not self.efron:
            return v
        return np.add.reduceat(v, self.step_first, axis=-1)

    def row_sums(self, per_time: np.ndarray) -> np.ndarray:
        """For per-event-time values (..., J): each row's sum over the times it is at risk."""
        c = np.zeros(per_time.shape[:-1] + (per_time.shape[-1] + 1,))
        np.cumsum(per_time, axis=-1, out=c[..., 1:])
        out = np.take(c, self.row_hi, axis=-1)
        if self.counting or self.n_strata > 1:
            out -= np.take(c, self.row_lo, axis=-1)
        return out


@dataclass
class Pieces:
    """Log partial likelihood, score, information and the per-step risk-set quantities."""

    loglik: float
    score: np.ndarray
    info: np.ndarray | None
    eta: np.ndarray
    r: np.ndarray  # exp(eta - shift), unweighted
    denom: np.ndarray  # per step
    xbar: np.ndarray  # (p, S)


def _lincomb(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``beta @ x`` for x (p, n), one column at a time (no BLAS threads for a p-vector)."""
    out = x[0] * beta[0]
    for k in range(1, len(beta)):
        out += x[k] * beta[k]
    return out


def pieces(cd: CoxData, beta: np.ndarray, info: bool = True) -> Pieces:
    """Everything a Newton step needs at ``beta`` (centred-covariate scale)."""
    xc, w = cd.xc, cd.weights
    eta = _lincomb(xc, beta)
    shift = float(eta.max())
    r = np.exp(eta - shift)
    v = np.empty((cd.p + 1, cd.n))
    np.multiply(r, w, out=v[0])
    np.multiply(xc, v[0], out=v[1:])
    risk, deaths = cd.risk_and_death_sums(v)
    if deaths is not None:  # Efron with ties: step k removes k/m of the deaths' risk
        tot = np.take(risk, cd.step_j, axis=1)
        tot -= cd.step_f * np.take(deaths, cd.step_j, axis=1)
    else:
        tot = risk if not cd.efron else np.take(risk, cd.step_j, axis=1)
    denom = tot[0]
    xbar = tot[1:] / denom
    loglik = float(beta @ cd.wx_dead - cd.step_w @ np.log(denom) - shift * cd.w_dead)
    score = cd.wx_dead - np.einsum("ij,j->i", xbar, cd.step_w)
    pc = Pieces(loglik, score, None, eta, r, denom, xbar)
    if info:
        pc.info = step_info(cd, pc, cd.step_w)
    return pc


def _info(pc: Pieces) -> np.ndarray:
    """The information matrix of ``pc`` (always formed by ``pieces(..., info=True)``)."""
    return cast(np.ndarray, pc.info)


def step_info(cd: CoxData, pc: Pieces, c: np.ndarray) -> np.ndarray:
    r""":math:`\sum_k c_k V_k` with :math:`V_k = C_k/D_k - \bar x_k \bar x_k^\top`.

    ``c`` holds one value per step (the step weights give the information matrix);
    the sum is accumulated per row as described in the module docstring.
    """
    h = c / pc.denom
    a = cd.row_sums(cd.per_time(h))
    if cd.tied:
        a[cd.dead_pos] -= cd.per_time(cd.step_f * h)[cd.dead_j]
    a *= pc.r
    a *= cd.weights
    xc = cd.xc
    return (xc * a) @ xc.T - (pc.xbar * c) @ pc.xbar.T


@dataclass
class CoxFit:
    """Raw output of :func:`fit_coxph` (coefficients on the centred-covariate scale)."""

    beta: np.ndarray
    var: np.ndarray
    info: np.ndarray
    loglik: float
    loglik0: float
    score_test: float
    n_iter: int
    converged: bool
    infinite: np.ndarray  # bool per coefficient: monotone likelihood suspected
    singular: bool


def solve_psd(info: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of an information matrix; flags (near) singularity."""
    try:
        chol = np.linalg.cholesky(info)
        inv_chol = np.linalg.inv(chol)
        inv = inv_chol.T @ inv_chol
        d = np.diag(chol)
        singular = bool(np.any(d <= np.sqrt(np.finfo(float).eps) * max(d.max(), 1e-300)))
        return inv, singular
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info), True


def fit_coxph(
    cd: CoxData,
    max_iter: int = 30,
    eps: float = 1e-10,
    toler_inf: float = np.sqrt(1e-9),
) -> CoxFit:
    """Newton-Raphson with step halving, as R coxph; convergence is tighter than R's."""
    p = cd.p
    beta = np.zeros(p)
    pc = pieces(cd, beta)
    loglik0 = pc.loglik
    inv0, _ = solve_psd(_info(pc)) if p else (np.zeros((0, 0)), False)
    score_test = float(pc.score @ inv0 @ pc.score) if p else 0.0
    converged = p == 0
    n_iter = 0
    halving = 0
    step = np.zeros(p)
    for it in range(1, max_iter + 1):
        if p == 0:
            break
        n_iter = it
        inv, _ = solve_psd(_info(pc))
        step = inv @ pc.score
        new_beta = beta + step
        new = pieces(cd, new_beta)
        while (not np.isfinite(new.loglik) or new.loglik < pc.loglik - 1e-12) and halving < 30:
            halving += 1
            step = step / 2
            new_beta = beta + step
            new = pieces(cd, new_beta)
        done = abs(new.loglik - pc.loglik) <= eps * abs(new.loglik) and np.all(
            np.abs(step) <= 1e-8 * (1 + np.abs(new_beta))
        )
        beta, pc = new_beta, new
        if done:
            converged = True
            break
    var, singular = solve_psd(_info(pc)) if p else (np.zeros((0, 0)), False)
    # R's rule for infinite coefficients: the next Newton step is still not negligible
    nxt = np.abs(var @ pc.score) if p else np.zeros(0)
    infinite = (nxt > 1e-9) & (nxt > toler_inf * np.abs(beta)) if p else np.zeros(0, bool)
    if not converged and p:
        # a likelihood that keeps climbing with growing coefficients is monotone
        big = np.abs(beta) * np.sqrt(np.maximum(np.diag(_info(pc)), 0))
        infinite = infinite | ((np.abs(beta) > 10) & (big < 1e-3))
    return CoxFit(
        beta=beta,
        var=var,
        info=_info(pc),
        loglik=pc.loglik,
        loglik0=loglik0,
        score_test=score_test,
        n_iter=n_iter,
        converged=converged,
        infinite=np.asarray(infinite, bool),
        singular=singular,
    )
