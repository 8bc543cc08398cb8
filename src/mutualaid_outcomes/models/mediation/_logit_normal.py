"""Exact integration of a logistic outcome over a normal mediator.

``E[expit(c + s Z)]``, ``Z ~ N(0, 1)``, is the mean of a logit-outcome model over the
mediator distribution of :func:`..causal.causal_mediation` (``c`` the linear predictor at
the mediator mean, ``s`` the mediator coefficient times the mediator residual SD). It has
no closed form; this module integrates it by Gauss-Hermite quadrature for small spreads
and the trapezoid rule for large ones, to an absolute error below
:data:`QUADRATURE_ATOL`, with rules chosen per draw from ``|s|`` alone.

:func:`logit_normal_expect` returns the per-person values; :func:`logit_normal_means`
returns only their (weighted) means over persons, which is all the IKT estimands need,
and shares one exponential per person and draw between the two mediator distributions
of a treatment value.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import special

__all__ = [
    "QUADRATURE_ATOL",
    "QUADRATURE_ATOL_SINGLE",
    "logit_normal_nodes",
    "logit_normal_rule",
    "logit_normal_expect",
    "logit_normal_means",
]

#: Truncation of the standard normal mediator residual in the logit-outcome integral
#: (the normal mass beyond 9 SD is below 1e-18).
Z_MAX = 9.0


def logit_normal_nodes(spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid nodes and weights for E[expit(c + spread * Z)], Z ~ N(0, 1).

    The integrand is analytic in the strip ``|Im z| < pi / |spread|`` (the poles of
    expit), so the trapezoid rule with step ``h`` has error about
    ``exp(-2 pi^2 / (|spread| h))`` times the growth of the Gaussian factor in that strip
    (Trefethen & Weideman 2014). ``h = 0.6 / |spread|`` (at most 0.7) keeps it below
    1e-11 for every c in [-30, 30] at spreads 0.8 to 8, checked against a 1e-15 rule
    (``h = 0.715 / |spread|``, used before, reached 3e-10 near 1.1).
    :func:`logit_normal_rule` uses it for spreads above about 1.45.
    """
    h = min(0.7, 0.6 / max(abs(float(spread)), 1e-12))
    k = int(np.ceil(Z_MAX / h))
    z = np.arange(-k, k + 1) * h
    w = h * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return z, w


#: Target absolute error of every E[expit(c + s Z)]. The estimands are averages and
#: differences of these expectations (probabilities), so 1e-10 keeps them far inside the
#: 1e-6 relative agreement asked of deterministic quantities even for effects of 1e-3.
QUADRATURE_ATOL = 1e-10

#: Gauss-Hermite nodes that bring the error of E[expit(c + s Z)] below 1e-11 for every
#: c in [-30, 30] at s = 0.05, 0.10, ..., 1.45 (found against a 1e-15 trapezoid rule;
#: one node is added as a margin, for QUADRATURE_ATOL). Beyond that the trapezoid rule
#: needs fewer nodes.
_GH_NODES = (
    4, 5, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 20, 21, 23, 25,
    27, 29, 31, 33, 35, 37, 39, 42, 44,
)  # fmt: skip
#: The same below 1e-9 at s = 0.05, ..., 2.00 (plus one node: error below
#: QUADRATURE_ATOL_SINGLE), for values computed in single precision, whose rounding
#: (about 6e-8 relative) is larger than that.
_GH_NODES_SINGLE = (
    3, 4, 4, 5, 5, 6, 6, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
    19, 21, 22, 23, 25, 26, 28, 29, 31, 33, 35, 36, 38, 40, 42, 44, 46, 48, 51, 53,
)  # fmt: skip
#: Target absolute error of the rules used in single precision (the draws behind
#: intervals).
QUADRATURE_ATOL_SINGLE = 1e-8
_GH_STEP = 0.05
#: Gauss-Hermite weights below this are dropped (the integrand is bounded by 1).
_GH_WEIGHT_FLOOR = 1e-17


@functools.lru_cache(maxsize=64)
def _gauss_hermite(k: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = hermegauss(k)
    w = w / np.sqrt(2 * np.pi)
    keep = w > _GH_WEIGHT_FLOOR
    return z[keep], w[keep]


def _rule_key(spread: float, single: bool = False) -> int:
    """Which rule serves ``|spread|``: Gauss-Hermite nodes (> 0) or a trapezoid bin (<= 0).

    The key depends on the spread (and the precision) alone, so a draw gets the same
    rule in whatever batch of draws it is evaluated.
    """
    s = abs(float(spread))
    return _bin_key(max(0, int(np.ceil(s / _GH_STEP - 1e-9)) - 1), single)


@functools.lru_cache(maxsize=1024)
def _bin_key(i: int, single: bool = False) -> int:
    table = _GH_NODES_SINGLE if single else _GH_NODES
    if i < len(table):
        # an even count: the means pair the nodes +-z (see _means_run)
        k = table[i] + 1
        k += k % 2
        if k < logit_normal_nodes((i + 1) * _GH_STEP)[0].size:
            return k
    return -i


def _rule_of_key(key: int) -> tuple[np.ndarray, np.ndarray]:
    # a trapezoid bin takes the rule of its largest spread (a finer step for the rest)
    return _gauss_hermite(key) if key > 0 else logit_normal_nodes((1 - key) * _GH_STEP)


def logit_normal_rule(spread: float, *, single: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[expit(c + spread * Z)], Z ~ N(0, 1), error below 1e-10.

    Gauss-Hermite (probabilists' weight) with the number of nodes taken from a table
    indexed by ``|spread|`` while it needs fewer nodes than the trapezoid rule of
    :func:`logit_normal_nodes`, that rule (at the upper end of the table's 0.05-wide bin
    of ``|spread|``) otherwise. Gauss-Hermite error falls like
    ``exp(-2 (pi / |spread|) sqrt(K))`` (poles of expit at distance ``pi / |spread|``), so
    it is much cheaper for small spreads (6 nodes at 0.05, 14 at 0.6 against 31; an even
    count) and the trapezoid rule, whose node count grows only linearly, wins above
    about 1.45. ``single=True``: the rule for values computed in single precision, error
    below 1e-8 (12 nodes at 0.6), Gauss-Hermite up to a spread of 2.
    """
    return _rule_of_key(_rule_key(spread, single))


# Elements of the (nodes, rows, draws) work array of logit_normal_expect: small enough
# to stay in cache.
_NODE_BLOCK = 1 << 17


def logit_normal_expect(centre: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """E[expit(centre + spread * Z)], Z ~ N(0, 1), for ``(n, S)`` centres, ``(S,)`` spreads.

    Each column is integrated with the rule its own spread needs
    (:func:`logit_normal_rule`), columns sharing a rule together, so a few large spreads
    do not raise the cost of the rest and a column's value does not depend on the other
    columns. With ``a = exp(c)`` and ``v_k = exp(-s z_k)``,
    ``expit(c + s z_k) = a / (a + v_k)``: one exponential per (row, draw) and an addition
    and a division per node; the weighted sum over nodes is a matrix-vector product.
    Centres are clipped to ``+-(700 - max|s z|)``, where expit is 1 or below 1e-130
    either way, so that ``a`` stays finite.
    """
    dtype = np.float64
    # work on draws x rows (each draw's values contiguous); a transposed view of a
    # draws-major array, as ikt_effects passes, is used without a copy
    ct = np.ascontiguousarray(np.asarray(centre, dtype=dtype).T)
    spread = np.asarray(spread, dtype=float)
    out = np.empty(ct.shape, dtype=dtype)
    if ct.size == 0:
        return out.T
    keys = rule_keys(spread)
    # runs of draws with the same rule (one run per rule when the draws come sorted by
    # spread, as from ikt_effects) are slices; scattered draws are gathered
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    if cuts.size < 2 * np.unique(keys).size:
        for lo, hi in zip([0, *cuts], [*cuts, keys.size]):
            _expect_draws(ct[lo:hi], spread[lo:hi], _rule_of_key(int(keys[lo])), out[lo:hi])
        return out.T
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        part = np.empty((rows.size, ct.shape[1]), dtype=dtype)
        _expect_draws(ct[rows], spread[rows], _rule_of_key(int(key)), part)
        out[rows] = part
    return out.T


def _expect_draws(
    centre: np.ndarray, spread: np.ndarray, rule: tuple[np.ndarray, np.ndarray], out: np.ndarray
) -> None:
    """:func:`logit_normal_expect` for draws sharing one rule, into ``out``.

    ``centre`` is draws x persons.
    """
    z, w = rule
    reach = float(np.max(np.abs(spread))) * float(np.max(np.abs(z)))
    # centres are clipped at +-(700 - reach); harmless while 700 - 2 * reach stays large
    if not np.isfinite(reach) or reach > 200.0:
        acc = np.zeros(centre.shape)
        for z_k, w_k in zip(z, w):
            acc += w_k * special.expit(centre + spread[:, None] * z_k)
        out[...] = acc
        return
    lim = 700.0 - reach
    if centre.max() > lim or centre.min() < -lim:
        centre = np.clip(centre, -lim, lim)
    dtype = out.dtype
    a = np.exp(centre)
    v = np.exp(-np.multiply.outer(z, spread)).astype(dtype)[:, :, None]  # (K, S, 1)
    w = w.astype(dtype)
    s, n = centre.shape
    k = z.size
    per = max(1, _NODE_BLOCK // max(1, n * k))
    work = np.empty((k, min(per, s), n), dtype=dtype)
    for lo in range(0, s, per):
        hi = min(s, lo + per)
        t = work[:, : hi - lo]
        ab = a[lo:hi]
        np.add(ab, v[:, lo:hi], out=t)
        np.divide(ab, t, out=t)
        # weighted sum over the nodes: one matrix-vector product per block of draws
        np.dot(w, t.reshape(k, -1), out=out[lo:hi].reshape(-1))


def rule_keys(spread: np.ndarray, single: bool = False) -> np.ndarray:
    """:func:`_rule_key` of every spread (one per bin of ``|spread|``)."""
    bins = np.maximum(0, np.ceil(np.abs(np.asarray(spread, float)) / _GH_STEP - 1e-9) - 1)
    uniq, inv = np.unique(bins.astype(np.int64), return_inverse=True)
    keys = [_bin_key(int(i), single) for i in uniq]
    return np.array(keys, dtype=np.int64)[inv.reshape(-1)]


def logit_normal_means(
    base: np.ndarray,
    shifts: np.ndarray,
    spread: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Means over persons of E[expit(base + shift + spread * Z)], for several shifts.

    Parameters
    ----------
    base : (S, n) array
        Per draw (row) and person (column), the part of the centre that varies by
        person. float64: double precision and the rules of :func:`logit_normal_rule`
        (error below 1e-10); float32: single precision (rounding about 6e-8 relative per
        value, sums in double precision) and the rules to 1e-8 (``single=True``).
    shifts : (S, J) array
        Per draw, the constants added to the centre (J mediator distributions).
    spread : (S,) array
    weights : (S, n) array, optional
        Averaging weights per draw, summing to one (the plain mean when omitted).

    Returns
    -------
    (S, J) float64 array

    Notes
    -----
    With ``A = exp(base + k0)`` (``k0`` the mean shift of the draw) and
    ``u_jk = exp(-(shift_j - k0) - s z_k)``, ``expit(base + shift_j + s z_k) =
    A / (A + u_jk)``: one exponential per person and draw serves every shift and node,
    and the sums over persons are taken without storing per-person values. The nodes
    ``+-z`` are summed in pairs, one division per pair (see :func:`_means_run`). Runs of
    draws whose centres plus the reach of the nodes exceed 38 (single) or 330 (double
    precision), where ``A**2`` could overflow, go through :func:`logit_normal_expect`
    in double precision instead.
    """
    base = np.asarray(base)
    shifts = np.asarray(shifts, dtype=float)
    spread = np.asarray(spread, dtype=float)
    s, n = base.shape
    out = np.empty((s, shifts.shape[1]))
    keys = rule_keys(spread, single=base.dtype == np.float32)
    cuts = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1), s]
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        wb = None if weights is None else weights[lo:hi]
        rule = _rule_of_key(int(keys[lo]))
        out[lo:hi] = _means_run(base[lo:hi], shifts[lo:hi], spread[lo:hi], wb, rule)
    return out


def _means_run(
    base: np.ndarray,
    shifts: np.ndarray,
    spread: np.ndarray,
    weights: np.ndarray | None,
    rule: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """:func:`logit_normal_means` for draws that share one rule.

    The rules are symmetric (nodes ``+-z`` with equal weights, and 0 for an odd count);
    with ``u+- = r exp(-+s z)``, ``q = A^2``, ``m = A (u+ + u-)`` and ``u+ u- = r^2``, the
    pair contributes ``A/(A + u+) + A/(A + u-) = (2q + m) / (q + r^2 + m)``: one division
    per pair of nodes. Every term is positive, so nothing cancels.
    """
    z, w = rule
    dtype = base.dtype
    k0 = shifts.mean(axis=1)
    rel = shifts - k0[:, None]
    s_abs = np.abs(spread)
    reach = float(s_abs.max()) * float(np.max(np.abs(z)))
    # A^2 and A (u+ + u-) must stay finite: exp(2 (|centre| + reach)) within range
    edge = float(np.max(np.abs(base).max(axis=1) + np.abs(k0) + np.abs(rel).max(axis=1)))
    if not edge + reach < (38.0 if dtype == np.float32 else 330.0):
        return _means_general(base, shifts, spread, weights)
    a = np.exp(base + k0.astype(dtype)[:, None])
    ns, n = base.shape
    half = z.size // 2
    zp, wp = z[z.size - half :], w[z.size - half :].astype(dtype)
    w_mid = float(w[half]) if z.size % 2 else 0.0
    cosh = 2.0 * np.cosh(np.multiply.outer(zp, s_abs))  # (half, S)
    per = max(1, _NODE_BLOCK // max(1, n * max(half, 1)))
    d_max = min(per, ns)
    t_den = np.empty((half, d_max, n), dtype=dtype)
    t_num = np.empty_like(t_den)
    q = np.empty((d_max, n), dtype=dtype)
    q2, qp = np.empty_like(q), np.empty_like(q)
    values = np.empty((d_max, n), dtype=dtype)
    out = np.empty(shifts.shape)
    r = np.exp(-rel)  # (S, J)
    pair_sum = (cosh[:, :, None] * r[None]).astype(dtype)  # u+ + u-, (half, S, J)
    r2 = (r * r).astype(dtype)
    rd = r.astype(dtype)
    for lo in range(0, ns, per):
        hi = min(ns, lo + per)
        d = hi - lo
        ab, v, sq, sq2 = a[lo:hi], values[:d], q[:d], q2[:d]
        den, num = t_den[:, :d], t_num[:, :d]
        np.multiply(ab, ab, out=sq)
        np.add(sq, sq, out=sq2)
        for j in range(shifts.shape[1]):
            np.add(sq, r2[lo:hi, j : j + 1], out=qp[:d])
            np.multiply(ab, pair_sum[:, lo:hi, j : j + 1], out=den)  # m
            np.add(den, sq2, out=num)
            np.add(den, qp[:d], out=den)
            np.divide(num, den, out=den)
            np.dot(wp, den.reshape(half, -1), out=v.reshape(-1))
            if w_mid:
                v += w_mid * (ab / (ab + rd[lo:hi, j : j + 1]))
            if weights is None:
                out[lo:hi, j] = v.sum(axis=1, dtype=np.float64) / n
            else:
                out[lo:hi, j] = np.einsum("dn,dn->d", v, weights[lo:hi])
    return out


def _means_general(
    base: np.ndarray, shifts: np.ndarray, spread: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """:func:`logit_normal_means` through the per-person values (extreme centres)."""
    base = base.astype(float)
    out = np.empty(shifts.shape)
    for j in range(shifts.shape[1]):
        e = logit_normal_expect((base + shifts[:, j : j + 1]).T, spread)  # (n, S)
        out[:, j] = e.mean(axis=0) if weights is None else (e * weights.T).sum(axis=0)
    return out
