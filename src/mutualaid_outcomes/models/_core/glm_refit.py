r"""Many GLM refits near a common solution: Newton steps for all fits in one pass.

Replicate-weight variances (R ``svyglm`` on a replicate design) refit one GLM with every
replicate weight set: ``S`` fits (80 or more) over the same ``n`` rows (a million or
more), each close to the full-sample estimate. :func:`refit_near` solves the score
equations of every fit,

.. math:: U_s(\beta) = X'\{w_s (y - \mu(X\beta))\} = 0,

for the canonical links (gaussian/identity, binomial/logit, Poisson/log) from starting
values near the solutions (a first Newton step from the full-sample estimate, see
:func:`common_start_step`).

Iteration
---------
A *pass* reads the rows once for all fits still iterating: linear predictors
``eta = X B`` (``rows x S``, one matrix product), means (one exponential per cell), the
scores ``X' (W_rep * (y - mu))`` (one matrix product) and, where asked, the Hessians
``X' diag(w_s V(mu_s)) X`` of all those fits at once, as the product of the ``p(p+1)/2``
pairwise products of the columns of ``X`` with the ``rows x S`` matrix ``W_rep * V(mu)``.
The first pass takes an exact Newton (Fisher scoring) step for every fit; later passes
keep each fit's last Hessian (chord steps, score only) unless its steps shrink by less
than :data:`NEWTON_RATE` per pass, in which case it gets a new Hessian. Newton converges
quadratically from these starts, so two passes usually suffice: from the first-step
error ``e``, the Newton pass leaves about ``e^2`` and the chord pass with that Hessian
about ``e^3``.

Convergence
-----------
A fit has converged when either the core's rule of :mod:`.glm` holds (the largest step
is at most ``tol * (1 + max|beta|)``) or the distance to the root left after the step,
estimated from the contraction of the last two steps, is far within it:
``10 * rate / (1 - rate) * |step| <= tol * (1 + max|beta|)`` with
``rate = |step| / |previous step| <= 1/2``. For an iteration contracting at ``rate``
the remaining distance after a step is at most ``rate / (1 - rate)`` times the step;
the factor 10 covers estimating the rate from two steps. The second form saves the
pass that would only confirm a step already below the tolerance. Both leave the
estimates within ``tol / 10`` (relative) of the root, far inside the ``1e-6`` relative
agreement with R's refits that the tests ask for. The collinearity rule of :mod:`.ols`
applies to every step.

Fits whose step grows (separation, poor starts) or that have not converged after
:data:`MAX_PASSES` passes continue with the full scoring steps of
:func:`.glm_chunked.irls_chunked` from where they stopped, so their estimates and flags
are those of the full iteration. The separation test of :mod:`.glm` is applied at the
final estimates: the last pass records the largest ``|eta|`` of each fit, which bounds
``|eta|`` after the last step (plus ``max_i ||x_i||_1`` times the step); only fits whose
bound reaches the boundary are checked row by row.

Work
----
Rows are processed in blocks of :data:`BLOCK_ROWS`, on up to ``n_workers`` threads
(numpy releases the GIL in these products; BLAS is held to one thread meanwhile), and
within a block in chunks of about :data:`CHUNK_CELLS` cells so the working arrays stay
in cache. Block sums are added in block order, so the results do not depend on the
number of threads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ...parallel import available_cores, blas_single_thread
from .glm import MAX_ITER, SEPARATION_EPS, TOL, IRLSFit, link_inverse
from .glm_chunked import irls_chunked
from .ols import solve_batched

__all__ = [
    "BLOCK_ROWS",
    "CHUNK_CELLS",
    "MAX_PASSES",
    "NEWTON_RATE",
    "common_start_step",
    "refit_near",
]

#: Rows per block of work (one thread's task); block sums are added in block order.
BLOCK_ROWS = 32_768
#: Cells (rows x fits) per working array inside a block (256 KB: stays in cache).
CHUNK_CELLS = 32_768
#: A fit whose step shrank by less than this factor in the last pass gets a new Hessian.
NEWTON_RATE = 0.05
#: Passes before a fit that has not converged continues with full scoring steps.
MAX_PASSES = 12
#: Largest contraction rate for which the distance-to-root estimate is trusted.
_RATE_TRUSTED = 0.5
#: Safety factor on that estimate (the rate comes from only two steps).
_RATE_SAFETY = 10.0
LINK_OF = {"gaussian": "identity", "binomial": "logit", "poisson": "log"}


@dataclass(frozen=True, eq=False)
class _Rows:
    """What a pass reads: the design with signs and row factors folded in, and the weights.

    For binary binomial responses ``x_eta`` and ``x_score`` carry ``s = 2y - 1`` (then
    ``y - mu = s expit(-s eta)``: one exponential per cell and no cancellation where
    ``mu`` rounds to 0 or 1); with factored weights ``a_i M[codes_i, s]`` the row factor
    ``a`` is in ``x_score`` and a pass gathers rows of ``M``. ``x_score * x_eta`` pairs
    are then ``a_i x_i x_i'`` either way (``s^2 = 1``).
    """

    x_eta: np.ndarray
    x_score: np.ndarray
    y: np.ndarray
    family: str
    block: Callable[[slice], np.ndarray]
    codes: np.ndarray | None
    mult: np.ndarray | None
    l1: float  # max_i ||x_i||_1: bounds the change of eta from a step

    @classmethod
    def build(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        family: str,
        block: Callable[[slice], np.ndarray],
        factored: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    ) -> _Rows:
        x_eta = x_score = x
        if family == "binomial":
            x_eta = x_score = x * (2.0 * y - 1.0)[:, None]
        codes = mult = None
        if factored is not None:
            x_score = x_score * np.asarray(factored[0], dtype=float)[:, None]
            codes = np.asarray(factored[1])
            mult = np.asarray(factored[2], dtype=float)
        l1 = float(np.abs(x).sum(axis=1).max(initial=0.0))
        return cls(x_eta, x_score, y, family, block, codes, mult, l1)


def _blocks(n: int) -> list[slice]:
    return [slice(a, min(n, a + BLOCK_ROWS)) for a in range(0, n, BLOCK_ROWS)]


def _map_blocks(job: Callable[[slice], tuple], n: int, workers: int) -> list[tuple]:
    """``job`` on every block of rows, on up to ``workers`` threads, in block order."""
    blocks = _blocks(n)
    if workers > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(min(workers, len(blocks))) as pool:
            return list(pool.map(job, blocks))
    return [job(b) for b in blocks]


def _pairs(a: np.ndarray, b: np.ndarray, iu: np.ndarray, ju: np.ndarray) -> np.ndarray:
    """``rows x p(p+1)/2`` products ``a[:, i] * b[:, j]`` for ``i <= j``."""
    return a[:, iu] * b[:, ju]


def _unpack(c: np.ndarray, p: int) -> np.ndarray:
    """``(m, p, p)`` symmetric matrices from packed upper triangles ``(m, p(p+1)/2)``."""
    iu, ju = np.triu_indices(p)
    out = np.empty((c.shape[0], p, p))
    out[:, iu, ju] = c
    out[:, ju, iu] = c
    return out


def _pass_block(
    rows: _Rows,
    bt: np.ndarray,
    idx: np.ndarray,
    mult: np.ndarray | None,
    hcols: np.ndarray,
    sl: slice,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score, packed Hessians (fits ``hcols`` of ``idx``) and max ``|eta|`` of one block."""
    p, m = bt.shape
    iu, ju = np.triu_indices(p)
    ch = int(min(max(CHUNK_CELLS // m, 64), sl.stop - sl.start))
    buf, wbuf = np.empty((ch, m)), np.empty((ch, m))
    all_h = hcols.size == m
    tbuf = np.empty((ch, hcols.size)) if hcols.size else None
    score = np.zeros((p, m))
    hess = np.zeros((len(iu), hcols.size))
    hi = np.zeros(m)
    fam = rows.family
    for a in range(sl.start, sl.stop, ch):
        c = slice(a, min(sl.stop, a + ch))
        k = c.stop - c.start
        r, w = buf[:k], wbuf[:k]
        np.matmul(rows.x_eta[c], bt, out=r)
        if fam == "binomial":  # |s eta| = |eta|: the separation bound
            np.maximum(hi, r.max(axis=0), out=hi)
            np.maximum(hi, -r.min(axis=0), out=hi)
        if mult is not None:
            np.take(mult, rows.codes[c], axis=0, out=w)  # type: ignore[index]
        else:
            w[...] = rows.block(c)[:, idx]
        if fam in ("binomial", "poisson"):
            np.exp(r, out=r)  # binomial: exp(s eta); poisson: mu
        if fam == "binomial":
            r += 1.0
            np.reciprocal(r, out=r)  # s (y - mu) = expit(-s eta)
        if tbuf is not None:
            t = tbuf[:k]
            rh = r if all_h else r[:, hcols]
            wh = w if all_h else w[:, hcols]
            if fam == "binomial":  # V(mu) = r (1 - r)
                np.subtract(1.0, rh, out=t)
                t *= rh
                t *= wh
            elif fam == "poisson":  # V(mu) = mu
                np.multiply(rh, wh, out=t)
            else:
                t[...] = wh
            hess += _pairs(rows.x_score[c], rows.x_eta[c], iu, ju).T @ t
        if fam != "binomial":
            np.subtract(rows.y[c, None], r, out=r)
        r *= w
        score += rows.x_score[c].T @ r
    return score, hess, hi


def _pass(
    rows: _Rows, beta: np.ndarray, idx: np.ndarray, newton: np.ndarray, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass over the rows for the fits ``idx`` at ``beta`` (``m x p``).

    Returns their scores ``(m, p)``, the Hessians ``(h, p, p)`` of the fits flagged in
    ``newton`` and the largest ``|eta|`` of each fit ``(m,)`` (binomial; else zeros).
    """
    bt = np.ascontiguousarray(beta.T)
    mult = None if rows.mult is None else np.ascontiguousarray(rows.mult[:, idx])
    hcols = np.flatnonzero(newton)
    job = functools.partial(_pass_block, rows, bt, idx, mult, hcols)
    parts = _map_blocks(job, len(rows.y), workers)
    score, hess, hi = parts[0]
    for s, h, e in parts[1:]:
        score += s
        hess += h
        np.maximum(hi, e, out=hi)
    return score.T, _unpack(hess.T, bt.shape[0]), hi


def refit_near(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    *,
    family: str,
    start: np.ndarray,
    factored: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    n_workers: int | None = None,
) -> IRLSFit:
    r"""Many GLM fits started near their solutions: Newton, then chord steps, per pass.

    Canonical links only. Each fit ``s`` solves the score equations of
    :func:`.glm_chunked.irls_chunked`; see the module docstring for the iteration, the
    convergence rule and the hand-over of difficult fits to full scoring steps.

    Parameters
    ----------
    x, y : numpy.ndarray
        ``(n, p)`` design and ``(n,)`` response.
    weights_block : callable
        ``weights_block(slice) -> (rows, S)`` prior weights.
    family : str
        ``'gaussian'``, ``'binomial'`` or ``'poisson'`` (canonical link).
    start : numpy.ndarray
        ``(S, p)`` starting coefficients (e.g. from :func:`common_start_step`).
    factored : tuple of numpy.ndarray, optional
        ``(a, codes, M)`` when the weights are ``a_i M[codes_i, s]`` (survey replicate
        multipliers by PSU): passes then gather rows of ``M`` instead of calling
        ``weights_block`` (same values, less work).
    max_iter, tol : int, float
        Iteration limit (all steps) and step tolerance of :mod:`.glm`.
    n_workers : int, optional
        Threads for the passes; default every core this process may use.

    Returns
    -------
    IRLSFit
        ``n_iter`` counts the steps of each fit (passes and any full scoring steps).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.column_stack([np.ones(400), rng.normal(size=400)])
    >>> y = (rng.uniform(size=400) < 0.4).astype(float)
    >>> w = rng.uniform(0.5, 1.5, size=(400, 3))
    >>> ref = irls_chunked(x, y, lambda rows: w[rows], family="binomial", link="logit")
    >>> b0 = ref.beta.mean(axis=0)
    >>> fit = refit_near(x, y, lambda rows: w[rows], family="binomial",
    ...                  start=np.tile(b0, (3, 1)))
    >>> bool(np.allclose(fit.beta, ref.beta, rtol=1e-9) and fit.converged.all())
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    rows = _Rows.build(x, y, family, weights_block, factored)
    beta = np.array(start, dtype=float, copy=True)
    s, p = beta.shape
    n_iter = np.zeros(s, dtype=int)
    converged = np.zeros(s, dtype=bool)
    binary = bool(np.all((y == 0) | (y == 1)))
    # fractional binomial responses: the full iteration does it all
    active = np.isfinite(beta).all(axis=1) & (family != "binomial" or binary)
    hess = np.zeros((s, p, p))
    need = np.ones(s, dtype=bool)  # a new Hessian at the next pass
    was_newton = np.zeros(s, dtype=bool)  # the previous step was a Newton step
    last = np.full(s, np.nan)  # size of the previous step
    reach = np.zeros(s)  # bound on max |eta| at the current estimate
    workers = available_cores() if n_workers is None else max(1, int(n_workers))
    with blas_single_thread():
        for _ in range(min(MAX_PASSES, max_iter)):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            score, h_new, hi = _pass(rows, beta[idx], idx, need[idx], workers)
            hess[idx[need[idx]]] = h_new
            step, ok = solve_batched(hess[idx], score)
            bad = ~ok | ~np.isfinite(step).all(axis=1)
            size = np.abs(step).max(axis=1, initial=0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = size / last[idx]
            # diverging: leave it to full scoring steps (a Newton step after chord
            # steps may be longer than they were: not a sign of divergence)
            newton = need[idx]
            grew = (rate > 1.0) & (newton == was_newton[idx])
            take = ~bad & ~grew
            beta[idx[take]] += step[take]
            n_iter[idx[take]] += 1
            reach[idx] = hi + rows.l1 * size
            bound = tol * (1 + np.abs(beta[idx]).max(axis=1))
            with np.errstate(invalid="ignore", divide="ignore"):
                left = _RATE_SAFETY * rate / (1 - rate) * size  # distance to the root
            done = take & ((size <= bound) | ((rate <= _RATE_TRUSTED) & (left <= bound)))
            converged[idx[done]] = True
            active[idx[done | bad | grew]] = False
            was_newton[idx] = newton
            need[idx] = rate > NEWTON_RATE  # slow contraction: a new Hessian next pass
            last[idx] = size
    n_boundary = _separation(rows, x, weights_block, beta, converged, reach)
    _full_scoring(x, y, weights_block, family, beta, converged, n_iter, n_boundary, tol, max_iter)
    return IRLSFit(beta=beta, converged=converged, n_iter=n_iter, n_boundary=n_boundary)


def _full_scoring(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    family: str,
    beta: np.ndarray,
    converged: np.ndarray,
    n_iter: np.ndarray,
    n_boundary: np.ndarray,
    tol: float,
    max_iter: int,
) -> None:
    """Fits left unconverged: full scoring steps from where they stopped (in place)."""
    rest = np.flatnonzero(~converged & np.isfinite(beta).all(axis=1))
    if rest.size == 0:
        return
    fit = irls_chunked(
        x,
        y,
        lambda rows: weights_block(rows)[:, rest],
        family=family,
        link=LINK_OF[family],
        start=beta[rest],
        max_iter=max(max_iter - int(n_iter[rest].max()), 1),
        tol=tol,
    )
    beta[rest], converged[rest] = fit.beta, fit.converged
    n_iter[rest] += fit.n_iter
    n_boundary[rest] = fit.n_boundary


def _separation(
    rows: _Rows,
    x: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    beta: np.ndarray,
    converged: np.ndarray,
    reach: np.ndarray,
) -> np.ndarray:
    """``n_boundary`` of the converged binomial fits: the test of :func:`.glm.boundary_rows`.

    ``reach`` bounds ``|eta|`` at the final estimates (the last pass's largest ``|eta|``
    plus ``max_i ||x_i||_1`` times the last step); fits whose bound stays below the
    logit boundary have no boundary rows, the others are counted row by row.
    """
    n_boundary = np.zeros(beta.shape[0], dtype=int)
    if rows.family != "binomial":
        return n_boundary
    check = np.flatnonzero(converged & ~(reach * (1 + 1e-9) < _logit_edge()))
    if check.size == 0:
        return n_boundary
    bt = np.ascontiguousarray(beta[check].T)
    for sl in _blocks(len(rows.y)):
        edge = np.abs(x[sl] @ bt) >= _logit_edge()
        n_boundary[check] += np.sum(edge & (weights_block(sl)[:, check] > 0), axis=0)
    return n_boundary


@functools.cache
def _logit_edge() -> float:
    """Smallest ``a`` with ``expit(-a) < SEPARATION_EPS``.

    ``|eta| >= a`` is the logit boundary test of :func:`.glm.boundary_rows` without an
    exponential per cell (``expit`` is monotone).
    """
    from scipy.special import expit

    a = float(-np.log(SEPARATION_EPS))
    while expit(-a) < SEPARATION_EPS:
        a = float(np.nextafter(a, 0.0))
    while expit(-a) >= SEPARATION_EPS:
        a = float(np.nextafter(a, np.inf))
    return a


def common_start_step(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    beta: np.ndarray,
    *,
    family: str,
    n_workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""One Newton step of every weight set from a common ``beta``: starts for :func:`refit_near`.

    At a common ``beta`` the means ``mu`` and variances ``V(mu)`` are the same for every
    weight set, so the scores ``X'{w_s (y - mu)}`` and the information matrices
    ``X' diag(w_s V(mu)) X`` of all ``S`` sets are two matrix products with the
    ``rows x S`` weights (no exponential per cell). Canonical links.

    Returns
    -------
    tuple of numpy.ndarray
        ``(S, p)`` coefficients after the step (``beta`` where the information fails
        the collinearity rule) and the ``(S, p, p)`` information at ``beta``.
    """
    x = np.asarray(x, dtype=float)
    beta = np.asarray(beta, dtype=float)
    p = x.shape[1]
    iu, ju = np.triu_indices(p)

    def job(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        xc, w = x[sl], weights_block(sl)
        with np.errstate(over="ignore"):
            mu = link_inverse(xc @ beta, LINK_OF[family])
        var = {"binomial": mu * (1 - mu), "poisson": mu}.get(family, np.ones_like(mu))
        info = (_pairs(xc, xc, iu, ju) * var[:, None]).T @ w
        return info, (xc * (y[sl] - mu)[:, None]).T @ w

    workers = available_cores() if n_workers is None else max(1, int(n_workers))
    with blas_single_thread():
        parts = _map_blocks(job, x.shape[0], workers)
    info, score = parts[0]
    for i, u in parts[1:]:
        info = info + i
        score = score + u
    full = _unpack(info.T, p)
    step, good = solve_batched(full, score.T)
    out = beta[None, :] + step
    out[~good] = beta
    return out, full
