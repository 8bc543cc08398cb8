"""cmprsk's numerics (R cmprsk 2.2-11): cumulative incidence, Gray's score, Fine-Gray sums.

All events of any cause at a time are processed together and people censored at an
event time are still at risk at that time, as in ``cuminc`` and ``crr``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FineGrayData", "cuminc_table", "gray_stratum", "loglog_ci"]


def loglog_ci(cif: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Limits on the log(-log) scale: cif ** exp(±z se / (cif log cif))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = z * se / (cif * np.log(cif))
        low = cif ** np.exp(-k)
        high = cif ** np.exp(k)
    ok = (cif > 0) & (cif < 1)
    return np.where(ok, low, cif), np.where(ok, high, cif)


def cuminc_table(time: np.ndarray, cause: np.ndarray, k: int) -> pd.DataFrame:
    """Compute cmprsk ``cinc`` for cause code ``k`` on one group, vectorised over times."""
    ut, inv = np.unique(time, return_inverse=True)
    nd1 = np.bincount(inv, weights=(cause == k).astype(float), minlength=len(ut))
    nd = np.bincount(inv, weights=(cause > 0).astype(float), minlength=len(ut))
    nd2 = nd - nd1
    n_at = np.bincount(inv, minlength=len(ut)).astype(float)
    rs = len(time) - np.r_[0.0, np.cumsum(n_at)[:-1]]
    ev = nd > 0
    ut, nd1, nd2, nd, rs = ut[ev], nd1[ev], nd2[ev], nd[ev], rs[ev]
    with np.errstate(divide="ignore", invalid="ignore"):
        fkn = np.cumprod((rs - nd) / rs)
    fk = np.r_[1.0, fkn[:-1]]
    f = np.cumsum(fk * nd1 / rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        # other-cause contributions
        t5 = np.where(nd2 > 1, 1 - (nd2 - 1) / (rs - 1), 1.0)
        t6 = fk * fk * t5 * nd2 / (rs * rs)
        use2 = (nd2 > 0) & (fkn > 0)
        t3 = np.where(use2, 1 / fkn, 0.0)
        t4 = np.where(use2, f / fkn, 0.0)
        a1 = np.where(use2, t4 * t4 * t6, 0.0)
        a2 = np.where(use2, t3 * t4 * t6, 0.0)
        a3 = np.where(use2, t3 * t3 * t6, 0.0)
        # cause-k contributions
        u5 = np.where(nd1 > 1, 1 - (nd1 - 1) / (rs - 1), 1.0)
        u6 = fk * fk * u5 * nd1 / (rs * rs)
        s3 = np.where(fkn > 0, 1 / np.where(fkn > 0, fkn, 1), 0.0)
        s4 = 1 + s3 * f
        use1 = nd1 > 0
        b1 = np.where(use1, s4 * s4 * u6, 0.0)
        b2 = np.where(use1, s3 * s4 * u6, 0.0)
        b3 = np.where(use1, s3 * s3 * u6, 0.0)
    v1 = np.cumsum(a1 + b1)
    v2 = np.cumsum(a2 + b2)
    v3 = np.cumsum(a3 + b3)
    var = v1 + f * f * v3 - 2 * f * v2
    jump = nd1 > 0
    return pd.DataFrame(
        {
            "time": np.r_[0.0, ut[jump]],
            "cif": np.r_[0.0, f[jump]],
            "variance": np.r_[0.0, var[jump]],
        }
    )


def gray_stratum(y: np.ndarray, m: np.ndarray, ig: np.ndarray, ng: int, rho: float):
    """Score and variance of Gray's test in one stratum (cmprsk ``crst``).

    A direct port of cmprsk's Fortran ``crstm`` loop over the distinct times, kept in one
    piece (over 80 lines) so that it can be read against the original line by line.

    ``m``: 0 censored, 1 cause of interest, 2 other cause; ``ig``: groups 0..ng-1;
    rows sorted by ``y``.
    """
    ng1 = ng - 1
    rs = np.bincount(ig, minlength=ng).astype(float)
    s = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    f1m = np.zeros(ng)
    f1 = np.zeros(ng)
    skmm = np.ones(ng)
    skm = np.ones(ng)
    v3 = np.zeros(ng)
    v2 = np.zeros((ng1, ng))
    c = np.zeros((ng, ng))
    fm = 0.0
    f = 0.0
    ut, start_idx = np.unique(y, return_index=True)
    bounds = np.r_[start_idx, len(y)]
    for b in range(len(ut)):
        sl = slice(bounds[b], bounds[b + 1])
        d = np.zeros((3, ng))
        np.add.at(d, (m[sl], ig[sl]), 1.0)
        nd1 = d[1].sum()
        nd2 = d[2].sum()
        if nd1 > 0 or nd2 > 0:
            pos = rs > 0
            td = d[1] + d[2]
            skm = np.where(pos, skmm * (rs - td) / np.where(pos, rs, 1), skm)
            f1 = np.where(pos, f1m + skmm * d[1] / np.where(pos, rs, 1), f1)
            tr = float(np.sum(np.where(pos, rs / skmm, 0.0)))
            tq = float(np.sum(np.where(pos, rs * (1 - f1m) / skmm, 0.0)))
            f = fm + nd1 / tr
            fb = (1 - fm) ** rho
            a = np.zeros((ng, ng))
            for i in range(ng):
                if rs[i] <= 0:
                    continue
                t1 = rs[i] / skmm[i]
                a[i, i] = fb * t1 * (1 - t1 / tr)
                c[i, i] += a[i, i] * nd1 / (tr * (1 - fm))
                for j in range(i + 1, ng):
                    if rs[j] <= 0:
                        continue
                    a[i, j] = -fb * t1 * rs[j] / (skmm[j] * tr)
                    c[i, j] += a[i, j] * nd1 / (tr * (1 - fm))
            iu = np.triu_indices(ng, 1)
            a[(iu[1], iu[0])] = a[iu]
            c[(iu[1], iu[0])] = c[iu]
            for i in range(ng1):
                if rs[i] > 0:
                    s[i] += fb * (d[1, i] - nd1 * rs[i] * (1 - f1m[i]) / (skmm[i] * tq))
            if nd1 > 0:
                for k in range(ng):
                    if rs[k] <= 0:
                        continue
                    t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1.0
                    t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1.0
                    t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                    v3[k] += t4 * t4 * t3
                    t1v = a[:ng1, k] - t4 * c[:ng1, k]
                    v2[:, k] += t1v * t4 * t3
                    v += np.tril(np.outer(t1v, t1v)) * t3
            if nd2 > 0:
                for k in range(ng):
                    if skm[k] <= 0 or d[2, k] <= 0:
                        continue
                    t4 = (1 - f) / skm[k]
                    t5 = 1 - (d[2, k] - 1) / (rs[k] - 1) if d[2, k] > 1 else 1.0
                    t3 = t5 * (skmm[k] ** 2 * d[2, k]) / rs[k] ** 2
                    v3[k] += t4 * t4 * t3
                    t1v = t4 * c[:ng1, k]
                    v2[:, k] -= t1v * t4 * t3
                    v += np.tril(np.outer(t1v, t1v)) * t3
        if bounds[b + 1] >= len(y):
            break
        np.subtract.at(rs, ig[sl], 1.0)
        fm = f
        f1m = f1.copy()
        skmm = skm.copy()
    cc = c[:ng1, :]
    v += np.tril(cc @ np.diag(v3) @ cc.T + cc @ v2.T + v2 @ cc.T)
    v = np.tril(v) + np.tril(v, -1).T
    return s, v


class FineGrayData:
    """Sorted data and the censoring distribution for the Fine-Gray likelihood."""

    def __init__(self, t: np.ndarray, status: np.ndarray, x: np.ndarray) -> None:
        order = np.argsort(t, kind="stable")
        self.t = t[order]
        self.s = status[order]  # 1 cause of interest, 2 competing, 0 censored
        self.x = x[order]
        n = len(self.t)
        # Kaplan-Meier of the censoring distribution, G(t-) for every row (as crr)
        cens = (self.s == 0).astype(float)
        ut, inv = np.unique(self.t, return_inverse=True)
        dc = np.bincount(inv, weights=cens, minlength=len(ut))
        n_at = np.bincount(inv, minlength=len(ut)).astype(float)
        nr = n - np.r_[0.0, np.cumsum(n_at)[:-1]]
        g = np.cumprod(1 - dc / nr)
        eps = np.finfo(float).eps
        knots = np.r_[min(0.0, ut[0]) - 10 * eps, ut, ut[-1] * (1 + 10 * eps)]
        vals = np.r_[1.0, g, 0.0]
        xout = self.t * (1 - 100 * eps)
        idx = np.clip(np.searchsorted(knots, xout, side="right") - 1, 0, len(knots) - 1)
        self.G = vals[idx]
        fail = self.s == 1
        self.fail_idx = np.flatnonzero(fail)
        self.u, first = np.unique(self.t[fail], return_index=True)
        self.d = np.bincount(np.searchsorted(self.u, self.t[fail]), minlength=len(self.u)).astype(
            float
        )
        self.Gu = self.G[self.fail_idx][first]  # G(u-) at each distinct failure time
        self.ge = np.searchsorted(self.t, self.u, side="left")  # first row with t >= u
        self.other = self.s == 2

    def sums(self, beta: np.ndarray, second: bool = True):
        """S0, S1 (and S2) over the weighted risk set at each distinct failure time."""
        eta = self.x @ beta
        shift = float(eta.max())
        r = np.exp(eta - shift)
        p = self.x.shape[1]
        cols = [r[:, None], r[:, None] * self.x]
        if second:
            cols.append(
                (r[:, None, None] * self.x[:, :, None] * self.x[:, None, :]).reshape(-1, p * p)
            )
        v = np.hstack(cols)
        c = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
        at_risk = c[-1] - c[self.ge]  # t >= u, weight 1
        vo = np.where(self.other, 1 / self.G, 0.0)[:, None] * v
        co = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(vo, axis=0)])
        before = co[self.ge] * self.Gu[:, None]  # competing events before u, weight G(u-)/G(t-)
        tot = at_risk + before
        s0 = tot[:, 0]
        s1 = tot[:, 1 : 1 + p]
        s2 = tot[:, 1 + p :].reshape(-1, p, p) if second else None
        return eta, shift, r, s0, s1, s2

    def loglik(self, beta: np.ndarray) -> float:
        eta, shift, _, s0, _, _ = self.sums(beta, second=False)
        return float(eta[self.fail_idx].sum() - np.sum(self.d * (np.log(s0) + shift)))

    def derivs(self, beta: np.ndarray):
        eta, shift, r, s0, s1, s2 = self.sums(beta)
        xbar = s1 / s0[:, None]
        ll = float(eta[self.fail_idx].sum() - np.sum(self.d * (np.log(s0) + shift)))
        score = self.x[self.fail_idx].sum(axis=0) - (self.d[:, None] * xbar).sum(axis=0)
        info = np.einsum("u,uij->ij", self.d / s0, s2) - np.einsum(
            "u,ui,uj->ij", self.d, xbar, xbar
        )
        return ll, score, info, (eta, shift, r, s0, s1)

    def sandwich_meat(self, beta: np.ndarray) -> np.ndarray:
        """Sum of outer products of eta_i + psi_i (cmprsk ``crrvv``), vectorised."""
        _, _, _, (eta, shift, r, s0, s1) = self.derivs(beta)
        t, s, x, G = self.t, self.s, self.x, self.G
        n, p = x.shape
        xbar = s1 / s0[:, None]
        dlam = self.d / s0
        a = self.d[:, None] * s1 / (s0 * s0)[:, None]
        # eta_i: dN part and the d Lambda part over the subject's weighted at-risk times
        k_le = np.searchsorted(self.u, t, side="right")  # failure times <= t_i
        c_l = np.r_[0.0, np.cumsum(dlam)]
        c_a = np.vstack([np.zeros((1, p)), np.cumsum(a, axis=0)])
        part = x * c_l[k_le][:, None] - c_a[k_le]
        g_l = np.r_[0.0, np.cumsum(self.Gu * dlam)]
        g_a = np.vstack([np.zeros((1, p)), np.cumsum(self.Gu[:, None] * a, axis=0)])
        after = (x * (g_l[-1] - g_l[k_le])[:, None] - (g_a[-1] - g_a[k_le])) / G[:, None]
        part = part + np.where(self.other[:, None], after, 0.0)
        eta_i = -r[:, None] * part
        fi = self.fail_idx
        jf = np.searchsorted(self.u, t[fi])
        eta_i[fi] += x[fi] - xbar[jf]
        # psi_i: influence of the censoring Kaplan-Meier estimate
        ut, first = np.unique(t, return_index=True)
        n_risk = (n - first).astype(float)
        cens_cnt = np.bincount(np.searchsorted(ut, t[s == 0]), minlength=len(ut)).astype(float)
        ro = np.where(self.other, r / G, 0.0)
        c_r0 = np.r_[0.0, np.cumsum(ro)]
        c_r1 = np.vstack([np.zeros((1, p)), np.cumsum(ro[:, None] * x, axis=0)])
        r0 = c_r0[first]  # competing events strictly before each distinct time
        r1 = c_r1[first]
        k_ge = np.searchsorted(self.u, ut, side="left")  # failure times >= time
        k0 = np.r_[np.cumsum((self.d * self.Gu / s0)[::-1])[::-1], 0.0]
        k1 = np.vstack(
            [
                np.cumsum(
                    (self.d[:, None] * self.Gu[:, None] * s1 / (s0 * s0)[:, None])[::-1], axis=0
                )[::-1],
                np.zeros((1, p)),
            ]
        )
        # exp(-shift) scaling: r carries exp(-shift) and s0, s1 too, so q is scale free
        q = r1 * k0[k_ge][:, None] - r0[:, None] * k1[k_ge]
        step = cens_cnt[:, None] * q / (n_risk * n_risk)[:, None]
        ss2 = -np.cumsum(step, axis=0)
        ti = np.searchsorted(ut, t)
        psi = ss2[ti] + np.where((s == 0)[:, None], q[ti] / n_risk[ti][:, None], 0.0)
        st = eta_i + psi
        return st.T @ st
