"""Cox partial-likelihood engine shared by the Cox, time-varying Cox and zph code.

Everything works on (start, stop] risk sets (right-censored data use ``start = -inf``),
with strata and case weights, and is vectorised with cumulative sums over rows sorted
by stratum and time: the weighted sum over the risk set at an event time ``t`` is the
sum over rows with ``stop >= t`` minus the sum over rows with ``start >= t``.

Tied event times are handled by the Breslow or the Efron approximation exactly as
R survival (coxfit6.c / agfit4.c): for Efron with ``m`` tied deaths, step ``k``
(``k = 0..m-1``) removes the fraction ``k/m`` of the deaths' risk from the
denominator and each step carries the mean death weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CoxData",
    "CoxFit",
    "fit_coxph",
    "score_residuals",
    "robust_variance",
    "robust_score_test",
    "zph_score",
    "concordance",
]


@dataclass
class CoxData:
    """Arrays describing a Cox model, prepared once and reused for every beta."""

    start: np.ndarray
    stop: np.ndarray
    event: np.ndarray
    x: np.ndarray
    weights: np.ndarray
    strata: np.ndarray
    efron: bool

    def __post_init__(self) -> None:
        n = len(self.stop)
        self.n = n
        self.p = self.x.shape[1]
        self.x_mean = self.x.mean(axis=0) if n else np.zeros(self.p)
        self.xc = self.x - self.x_mean
        # integer time ranks shared by start and stop so that keys compare exactly
        all_t = np.concatenate([self.start, self.stop])
        uniq = np.unique(all_t)
        m = len(uniq) + 2
        s = self.strata.astype(np.int64)
        rank_start = np.searchsorted(uniq, self.start).astype(np.int64)
        rank_stop = np.searchsorted(uniq, self.stop).astype(np.int64)
        self.key_start = s * m + rank_start
        self.key_stop = s * m + rank_stop
        dead = self.event > 0
        self.dead_idx = np.flatnonzero(dead)
        ev_keys, inv = np.unique(self.key_stop[dead], return_inverse=True)
        self.ev_keys = ev_keys
        self.ev_index = inv  # event-time index of each death
        self.n_times = len(ev_keys)
        self.ev_time = uniq[ev_keys % m]
        self.ev_stratum = ev_keys // m
        self.m_dead = np.bincount(inv, minlength=self.n_times).astype(float)
        self.w_dead = np.bincount(inv, weights=self.weights[dead], minlength=self.n_times)
        # sorted orders for risk-set sums
        self.ord_stop = np.argsort(self.key_stop, kind="stable")
        self.ord_start = np.argsort(self.key_start, kind="stable")
        ks = self.key_stop[self.ord_stop]
        kst = self.key_start[self.ord_start]
        # rows with stop >= t in the stratum of t: positions [lo_stop, stratum end)
        self.lo_stop = np.searchsorted(ks, ev_keys, side="left")
        self.lo_start = np.searchsorted(kst, ev_keys, side="left")
        end_key = (self.ev_stratum + 1) * m
        self.hi_stop = np.searchsorted(ks, end_key, side="left")
        self.hi_start = np.searchsorted(kst, end_key, side="left")
        # Efron / Breslow steps: one row per step
        if self.efron:
            reps = self.m_dead.astype(np.int64)
            self.step_j = np.repeat(np.arange(self.n_times), reps)
            first = np.repeat(np.cumsum(reps) - reps, reps)
            k = np.arange(len(self.step_j)) - first
            self.step_f = k / self.m_dead[self.step_j]
            self.step_w = (self.w_dead / self.m_dead)[self.step_j]
        else:
            self.step_j = np.arange(self.n_times)
            self.step_f = np.zeros(self.n_times)
            self.step_w = self.w_dead.copy()

    def risk_sums(self, vals: np.ndarray) -> np.ndarray:
        """Sum ``vals`` (n, q) over the risk set of every event time -> (J, q)."""
        out = []
        for order, lo, hi in (
            (self.ord_stop, self.lo_stop, self.hi_stop),
            (self.ord_start, self.lo_start, self.hi_start),
        ):
            v = vals[order]
            c = np.zeros((len(v) + 1, vals.shape[1]))
            np.cumsum(v, axis=0, out=c[1:])
            out.append(c[hi] - c[lo])
        return out[0] - out[1]

    def death_sums(self, vals: np.ndarray) -> np.ndarray:
        """Sum ``vals`` (n, q) over the deaths at every event time -> (J, q)."""
        res = np.zeros((self.n_times, vals.shape[1]))
        np.add.at(res, self.ev_index, vals[self.dead_idx])
        return res


@dataclass
class _Pieces:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    denom: np.ndarray
    a: np.ndarray
    r: np.ndarray  # exp(eta - shift), unweighted


def _pieces(cd: CoxData, beta: np.ndarray, x: np.ndarray | None = None) -> _Pieces:
    xc = cd.xc if x is None else x
    p = xc.shape[1]
    eta = xc @ beta
    shift = float(eta.max()) if len(eta) else 0.0
    r = np.exp(eta - shift)
    rw = r * cd.weights
    outer = (xc[:, :, None] * xc[:, None, :]).reshape(cd.n, p * p)
    vals = np.column_stack([rw, rw[:, None] * xc, rw[:, None] * outer])
    rs = cd.risk_sums(vals)
    ds = cd.death_sums(vals)
    j, f, w = cd.step_j, cd.step_f, cd.step_w
    tot = rs[j] - f[:, None] * ds[j]
    denom = tot[:, 0]
    a = tot[:, 1 : 1 + p]
    c = tot[:, 1 + p :].reshape(-1, p, p)
    dead = cd.dead_idx
    wd = cd.weights[dead]
    loglik = float(np.sum(wd * eta[dead]) - np.sum(w * np.log(denom)) - shift * np.sum(wd))
    xbar = a / denom[:, None]
    score = (wd[:, None] * xc[dead]).sum(axis=0) - (w[:, None] * xbar).sum(axis=0)
    info = np.einsum("k,kij->ij", w / denom, c) - np.einsum("k,ki,kj->ij", w, xbar, xbar)
    return _Pieces(loglik, score, info, denom, a, r)


@dataclass
class CoxFit:
    """Raw output of :func:`fit_coxph` (centred-covariate scale is undone)."""

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


def _solve_psd(info: np.ndarray) -> tuple[np.ndarray, bool]:
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
    pc = _pieces(cd, beta)
    loglik0 = pc.loglik
    inv0, _ = _solve_psd(pc.info) if p else (np.zeros((0, 0)), False)
    score_test = float(pc.score @ inv0 @ pc.score) if p else 0.0
    converged = p == 0
    n_iter = 0
    halving = 0
    step = np.zeros(p)
    for it in range(1, max_iter + 1):
        if p == 0:
            break
        n_iter = it
        inv, _ = _solve_psd(pc.info)
        step = inv @ pc.score
        new_beta = beta + step
        new = _pieces(cd, new_beta)
        while (not np.isfinite(new.loglik) or new.loglik < pc.loglik - 1e-12) and halving < 30:
            halving += 1
            step = step / 2
            new_beta = beta + step
            new = _pieces(cd, new_beta)
        done = abs(new.loglik - pc.loglik) <= eps * abs(new.loglik) and np.all(
            np.abs(step) <= 1e-8 * (1 + np.abs(new_beta))
        )
        beta, pc = new_beta, new
        if done:
            converged = True
            break
    var, singular = _solve_psd(pc.info) if p else (np.zeros((0, 0)), False)
    # R's rule for infinite coefficients: the next Newton step is still not negligible
    nxt = np.abs(var @ pc.score) if p else np.zeros(0)
    infinite = (nxt > 1e-9) & (nxt > toler_inf * np.abs(beta)) if p else np.zeros(0, bool)
    if not converged and p:
        # a likelihood that keeps climbing with growing coefficients is monotone
        big = np.abs(beta) * np.sqrt(np.maximum(np.diag(pc.info), 0))
        infinite = infinite | ((np.abs(beta) > 10) & (big < 1e-3))
    return CoxFit(
        beta=beta,
        var=var,
        info=pc.info,
        loglik=pc.loglik,
        loglik0=loglik0,
        score_test=score_test,
        n_iter=n_iter,
        converged=converged,
        infinite=np.asarray(infinite, bool),
        singular=singular,
    )


def score_residuals(cd: CoxData, beta: np.ndarray) -> np.ndarray:
    """Per-row score residuals (unweighted), as R ``residuals(fit, type = "score")``.

    Their weighted sum is the score vector.
    """
    p = cd.p
    pc = _pieces(cd, beta)
    j, f, w = cd.step_j, cd.step_f, cd.step_w
    h = w / pc.denom
    xbar = pc.a / pc.denom[:, None]
    nt = cd.n_times
    H = np.bincount(j, weights=h, minlength=nt)
    G = np.zeros((nt, p))
    np.add.at(G, j, h[:, None] * xbar)
    Hd = np.bincount(j, weights=f * h, minlength=nt)
    Gd = np.zeros((nt, p))
    np.add.at(Gd, j, (f * h)[:, None] * xbar)
    xbar_mean = np.zeros((nt, p))
    np.add.at(xbar_mean, j, xbar)
    xbar_mean /= np.bincount(j, minlength=nt)[:, None]
    cH = np.concatenate([[0.0], np.cumsum(H)])
    cG = np.vstack([np.zeros((1, p)), np.cumsum(G, axis=0)])
    lo = np.searchsorted(cd.ev_keys, cd.key_start, side="right")
    hi = np.searchsorted(cd.ev_keys, cd.key_stop, side="right")
    sH = cH[hi] - cH[lo]
    sG = cG[hi] - cG[lo]
    xc = cd.xc
    risk = xc * sH[:, None] - sG
    dead = cd.dead_idx
    jd = cd.ev_index
    risk[dead] -= xc[dead] * Hd[jd][:, None] - Gd[jd]
    resid = -pc.r[:, None] * risk
    resid[dead] += xc[dead] - xbar_mean[jd]
    return resid


def collapse(values: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum rows of ``values`` within clusters (integer codes); rows if ``cluster`` is None."""
    if cluster is None:
        return values
    n_cl = int(cluster.max()) + 1 if len(cluster) else 0
    out = np.zeros((n_cl, values.shape[1]))
    np.add.at(out, cluster, values)
    return out


def robust_variance(
    cd: CoxData, beta: np.ndarray, var: np.ndarray, cluster: np.ndarray | None
) -> np.ndarray:
    """Sandwich variance ``D'D`` from weighted dfbeta residuals collapsed by cluster."""
    resid = score_residuals(cd, beta) * cd.weights[:, None]
    d = collapse(resid @ var, cluster)
    return d.T @ d


def robust_score_test(cd: CoxData, cluster: np.ndarray | None) -> float:
    """R's robust score test at beta = 0."""
    resid = collapse(score_residuals(cd, np.zeros(cd.p)) * cd.weights[:, None], cluster)
    u = resid.sum(axis=0)
    b = resid.T @ resid
    inv, _ = _solve_psd(b)
    return float(u @ inv @ u)


def zph_score(cd: CoxData, beta: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score for ``x * g(t)`` and the 2p x 2p information at (beta, 0), as R zph1/zph2.

    ``g`` holds one value per event time (``cd.n_times``).
    """
    p = cd.p
    pc = _pieces(cd, beta)
    j, w = cd.step_j, cd.step_w
    xbar = pc.a / pc.denom[:, None]
    gs = g[j]
    dead = cd.dead_idx
    wd = cd.weights[dead]
    u2 = (wd[:, None] * g[cd.ev_index][:, None] * cd.xc[dead]).sum(axis=0) - (
        (w * gs)[:, None] * xbar
    ).sum(axis=0)
    # per-step information contributions V_k
    outer = (cd.xc[:, :, None] * cd.xc[:, None, :]).reshape(cd.n, p * p)
    rw = pc.r * cd.weights
    vals = rw[:, None] * outer
    c = (cd.risk_sums(vals)[j] - cd.step_f[:, None] * cd.death_sums(vals)[j]).reshape(-1, p, p)
    vk = c / pc.denom[:, None, None] - xbar[:, :, None] * xbar[:, None, :]
    i11 = np.einsum("k,kij->ij", w, vk)
    i12 = np.einsum("k,kij->ij", w * gs, vk)
    i22 = np.einsum("k,kij->ij", w * gs * gs, vk)
    imat = np.block([[i11, i12], [i12.T, i22]])
    return u2, imat


def concordance(cd: CoxData, eta: np.ndarray) -> tuple[float, dict[str, float]]:
    """Harrell's C as R ``concordance`` (timewt = "n"): risk-set comparisons.

    For each death at ``t`` it compares with every row at risk at ``t`` (start < t <=
    stop, same stratum) that is not itself a death at ``t``; a higher linear predictor
    for the death is concordant, equal predictors count one half. Pairs are weighted by
    the product of case weights.
    """
    conc = disc = tied = 0.0
    if cd.n_times == 0:
        return float("nan"), {"concordant": 0.0, "discordant": 0.0, "tied_x": 0.0}
    dead = cd.dead_idx
    ev_of_dead = cd.ev_index
    by_time = np.argsort(ev_of_dead, kind="stable")
    bounds = np.searchsorted(ev_of_dead[by_time], np.arange(cd.n_times + 1))
    w = cd.weights
    chunk = max(1, int(2_000_000 // max(cd.n, 1)))
    for c0 in range(0, cd.n_times, chunk):
        js = np.arange(c0, min(cd.n_times, c0 + chunk))
        keys = cd.ev_keys[js]
        at_risk = (cd.key_start[None, :] < keys[:, None]) & (cd.key_stop[None, :] >= keys[:, None])
        # remove the deaths at that time (tied on y)
        dies_here = at_risk & (cd.event[None, :] > 0) & (cd.key_stop[None, :] == keys[:, None])
        comp = at_risk & ~dies_here
        for jj, jrow in enumerate(js):
            members = np.flatnonzero(comp[jj])
            if len(members) == 0:
                continue
            e_m = eta[members]
            w_m = w[members]
            idx = dead[by_time[bounds[jrow] : bounds[jrow + 1]]]
            srt = np.argsort(e_m, kind="stable")
            e_s = e_m[srt]
            cw = np.concatenate([[0.0], np.cumsum(w_m[srt])])
            lo = np.searchsorted(e_s, eta[idx], side="left")
            hi = np.searchsorted(e_s, eta[idx], side="right")
            wi = w[idx]
            conc += float(np.sum(wi * cw[lo]))
            tied += float(np.sum(wi * (cw[hi] - cw[lo])))
            disc += float(np.sum(wi * (cw[-1] - cw[hi])))
    total = conc + disc + tied
    c = (conc + tied / 2) / total if total > 0 else float("nan")
    return c, {"concordant": conc, "discordant": disc, "tied_x": tied}
