r"""The one IRLS fitter of :mod:`.glm`, with its sums formed over chunks of rows.

For many fits on many rows (survey replicate weights: a million rows times 80 weight
sets) the ``(S, n)`` weights and working arrays of :func:`.glm.irls` do not fit in memory.
:func:`irls_chunked` runs the same scoring loop (:func:`.glm._scoring`: the same steps,
convergence rule, collinearity rule and separation test, documented in :mod:`.glm`) with
the information matrices and scores accumulated chunk by chunk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .glm import (
    MAX_ITER,
    SEPARATION_EPS,
    TOL,
    IRLSFit,
    _link,
    _mustart,
    _parts,
    _residual,
    _scoring,
    boundary_rows,
)
from .ols import solve_batched

__all__ = ["CHORD_MAX_STEPS", "CHUNK_ROWS", "chord_chunked", "information_at", "irls_chunked"]

#: Rows per chunk of :func:`irls_chunked` (bounds the ``rows x S`` working arrays).
CHUNK_ROWS = 8_192
#: Above this many fits, information matrices come from packed row products (one matrix
#: product for all fits); at or below it, one ``X' W X`` product per fit.
_PACK_FROM = 4


def irls_chunked(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    *,
    family: str,
    link: str,
    start: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    chunk_rows: int = CHUNK_ROWS,
) -> IRLSFit:
    r""":func:`.glm.irls` over row chunks, for many fits on many rows (replicate weights).

    The same scoring iteration, convergence rule, collinearity rule and separation test
    as :func:`.glm.irls`; only the sums are formed chunk by chunk, so the ``(S, n)`` weights
    are never held in memory: ``weights_block(rows)`` returns the ``(len(rows), S)``
    prior weights of a slice of rows. Within a chunk the ``p (p + 1) / 2`` distinct
    products of each row of ``x`` are multiplied by all working weights in one matrix
    product. No offset or penalty (not needed by its callers).

    Parameters
    ----------
    x, y : numpy.ndarray
        ``(n, p)`` design and ``(n,)`` response.
    weights_block : callable
        ``weights_block(slice) -> (rows, S)`` prior weights.
    family, link : str
        As for :func:`.glm.irls`.
    start : numpy.ndarray, optional
        ``(p,)`` or ``(S, p)`` starting coefficients (a warm start, e.g. the full-sample
        estimate for replicate fits); R's ``mustart`` when omitted.
    max_iter, tol, chunk_rows : int, float, int
        Iteration limit, step tolerance, rows per chunk.

    Returns
    -------
    IRLSFit

    Examples
    --------
    >>> x = np.column_stack([np.ones(6), [0.0, 1, 2, 3, 4, 5]])
    >>> y = np.array([0.0, 0, 1, 0, 1, 1])
    >>> w = np.column_stack([np.ones(6), [1.0, 2, 1, 2, 1, 2]])
    >>> fit = irls_chunked(x, y, lambda rows: w[rows], family="binomial", link="logit")
    >>> from mutualaid_outcomes.models._core.glm import irls
    >>> ref = irls(x, y, w.T, family="binomial", link="logit")
    >>> bool(np.allclose(fit.beta, ref.beta, rtol=1e-9) and fit.converged.all())
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    chunks = [slice(a, min(n, a + chunk_rows)) for a in range(0, n, chunk_rows)]
    s = weights_block(slice(0, 1)).shape[1]
    iu, ju = np.triu_indices(p)
    n_iter = np.zeros(s, dtype=int)
    if start is None:
        beta, ok0 = _chunked_start(x, y, weights_block, chunks, family, link, (iu, ju))
        n_iter += 1
    else:
        beta = np.broadcast_to(np.asarray(start, dtype=float), (s, p)).copy()
        ok0 = np.isfinite(beta).all(axis=1)

    def system(idx: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        packed = idx.size > _PACK_FROM
        info = np.zeros((len(iu), idx.size) if packed else (idx.size, p, p))
        score = np.zeros((p, idx.size))
        for rows in chunks:
            xc, w = x[rows], weights_block(rows)
            w = w[:, idx] if idx.size < w.shape[1] else w
            eta = xc @ b.T
            with np.errstate(over="ignore", invalid="ignore"):
                mu, cmu, ww, sw = _parts(eta, family, link, None)
                score += xc.T @ (w * sw * _residual(y[rows, None], mu, cmu, family))
            ww *= w
            if packed:
                info += (xc[:, iu] * xc[:, ju]).T @ ww
            else:
                for j in range(idx.size):
                    info[j] += xc.T @ (xc * ww[:, j, None])
        return (_unpack(info.T, p, iu, ju) if packed else info), score.T

    converged = _scoring(system, beta, ok0, n_iter, max_iter - int(start is None), tol)
    n_boundary = np.zeros(s, dtype=int)
    for rows in chunks:
        with np.errstate(invalid="ignore"):
            eta = np.nan_to_num(beta) @ x[rows].T
        n_boundary += boundary_rows(eta, weights_block(rows).T, family, link)
    return IRLSFit(beta=beta, converged=converged, n_iter=n_iter, n_boundary=n_boundary)


def _unpack(c: np.ndarray, p: int, iu: np.ndarray, ju: np.ndarray) -> np.ndarray:
    out = np.empty((c.shape[0], p, p))
    out[:, iu, ju] = c
    out[:, ju, iu] = c
    return out


def _chunked_start(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    chunks: list[slice],
    family: str,
    link: str,
    tri: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """First step of :func:`irls_chunked` from R's ``mustart`` (as :func:`.glm.irls`)."""
    iu, ju = tri
    p = x.shape[1]
    info, rhs = 0.0, 0.0
    for rows in chunks:
        xc, w, yc = x[rows], weights_block(rows), y[rows, None]
        mu0 = _mustart(yc, w, family)
        eta0 = _link(mu0, link)
        _, _, ww, sw = _parts(eta0, family, link, None)
        z = eta0 + (yc - mu0) * sw / ww
        info = info + (xc[:, iu] * xc[:, ju]).T @ (w * ww)
        rhs = rhs + xc.T @ (w * ww * z)
    beta, ok0 = solve_batched(_unpack(np.asarray(info).T, p, iu, ju), np.asarray(rhs).T)
    beta[~ok0] = np.nan
    return beta, ok0


#: Steps of :func:`chord_chunked` before a fit that has not converged is handed to
#: :func:`irls_chunked` (full scoring steps from where it stopped).
CHORD_MAX_STEPS = 12


def chord_chunked(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    *,
    family: str,
    information: np.ndarray,
    start: np.ndarray,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    chunk_rows: int = CHUNK_ROWS,
    max_chord: int = CHORD_MAX_STEPS,
    factored: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> IRLSFit:
    r"""Many GLM fits near a common solution: scoring steps without recomputing the information.

    For the canonical links (gaussian/identity, binomial/logit, Poisson/log) only. Each
    fit ``s`` solves the same score equations as :func:`irls_chunked`,
    :math:`U_s(\beta) = X'\{w_s (y - \mu(X\beta))\} = 0`, by the chord (simplified
    Newton) iteration :math:`\beta \leftarrow \beta + I_s^{-1} U_s(\beta)` with
    ``information`` :math:`I_s` fixed (the information at a nearby point, e.g. the
    full-sample estimate for replicate refits). A step then needs only the score, one
    pass over the rows with ``rows x S`` work (no ``rows x S x p^2`` products), and
    converges linearly with rate :math:`\|I_s^{-1}\{I_s(\hat\beta_s) - I_s\}\|`, which is
    small when the fits lie close to the point the information came from; a BFGS update
    from each step's change in the score (:func:`_secant_update`) makes it superlinear,
    so fits warm-started near their solution take about one step more than full
    scoring steps, each several times cheaper. The
    convergence rule, collinearity rule and separation test are those of :mod:`.glm`;
    at convergence the distance to the root is at most about ``rate / (1 - rate)``
    times the last step, below the tolerance. Fits not converged after ``max_chord``
    steps, or whose step grows (separation, poor starts), continue with full scoring
    steps (:func:`irls_chunked`) from where they stopped, so the estimates and flags are
    those of the full iteration.

    Parameters
    ----------
    x, y : numpy.ndarray
        ``(n, p)`` design and ``(n,)`` response.
    weights_block : callable
        ``weights_block(slice) -> (rows, S)`` prior weights.
    family : str
        ``'gaussian'``, ``'binomial'`` or ``'poisson'`` (canonical link).
    information : numpy.ndarray
        ``(S, p, p)`` fixed information matrices.
    start : numpy.ndarray
        ``(S, p)`` starting coefficients.
    max_iter, tol, chunk_rows, max_chord : int, float, int, int
        Iteration limit (all steps), step tolerance, rows per chunk, chord steps before
        full scoring steps take over.
    factored : tuple of numpy.ndarray, optional
        ``(a, codes, M)`` when the weights are ``a_i M[codes_i, s]`` (survey replicate
        multipliers by PSU): the score passes then gather rows of ``M`` instead of calling
        ``weights_block`` (same values, less work).

    Returns
    -------
    IRLSFit
        ``n_iter`` counts chord and full steps.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.column_stack([np.ones(400), rng.normal(size=400)])
    >>> y = (rng.uniform(size=400) < 0.4).astype(float)
    >>> w = rng.uniform(0.5, 1.5, size=(400, 3))
    >>> ref = irls_chunked(x, y, lambda rows: w[rows], family="binomial", link="logit")
    >>> b0 = ref.beta.mean(axis=0)
    >>> mu = 1 / (1 + np.exp(-x @ b0))
    >>> info = np.einsum("ns,n,ni,nj->sij", w, mu * (1 - mu), x, x)
    >>> fit = chord_chunked(x, y, lambda rows: w[rows], family="binomial",
    ...                     information=info, start=np.tile(b0, (3, 1)))
    >>> bool(np.allclose(fit.beta, ref.beta, rtol=1e-9) and fit.converged.all())
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    chunks = [slice(a, min(n, a + chunk_rows)) for a in range(0, n, chunk_rows)]
    beta = np.array(start, dtype=float, copy=True)
    s = beta.shape[0]
    n_iter = np.zeros(s, dtype=int)
    converged = np.zeros(s, dtype=bool)
    binary = bool(np.all((y == 0) | (y == 1)))
    # fractional binomial responses: no chord steps, the full iteration does it all
    active = np.isfinite(beta).all(axis=1) & (family != "binomial" or binary)
    x_eta, x_score = x, x
    if family == "binomial":  # s = 2y - 1: y - mu = s / (1 + exp(s eta))
        x_eta = x_score = x * (2.0 * y - 1.0)[:, None]
    weights: Callable[[slice, np.ndarray], np.ndarray] | tuple[np.ndarray, np.ndarray]
    if factored is None:
        weights = lambda rows, idx: weights_block(rows)[:, idx]  # noqa: E731
    else:
        x_score = x_score * np.asarray(factored[0], dtype=float)[:, None]
        weights = (np.asarray(factored[1]), np.asarray(factored[2], dtype=float))
    last = np.full(s, np.inf)
    info = np.array(information, dtype=float, copy=True)
    prev_score, prev_step = np.full((s, p), np.nan), np.zeros((s, p))
    for _ in range(min(max_chord, max_iter)):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        score = _score_pass(x_eta, x_score, y, weights, chunks, beta[idx], idx, family)
        _secant_update(info, idx, prev_step[idx], prev_score[idx] - score)
        step, ok = solve_batched(info[idx], score)
        bad = ~ok | ~np.isfinite(step).all(axis=1)
        size = np.abs(step).max(axis=1, initial=0.0)
        grew = size > last[idx]  # diverging: leave it to full scoring steps
        take = ~bad & ~grew
        beta[idx[take]] += step[take]
        prev_score[idx], prev_step[idx] = score, np.where(take[:, None], step, np.nan)
        n_iter[idx[take]] += 1
        last[idx] = size
        done = take & (size <= tol * (1 + np.abs(beta[idx]).max(axis=1)))
        converged[idx[done]] = True
        active[idx[done | bad | grew]] = False
    n_boundary = _finish(
        x, y, weights_block, chunks, family, beta, converged, n_iter, tol, max_iter
    )
    return IRLSFit(beta=beta, converged=converged, n_iter=n_iter, n_boundary=n_boundary)


def _finish(
    x: np.ndarray,
    y: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    chunks: list[slice],
    family: str,
    beta: np.ndarray,
    converged: np.ndarray,
    n_iter: np.ndarray,
    tol: float,
    max_iter: int = MAX_ITER,
) -> np.ndarray:
    """Fits :func:`chord_chunked` left unconverged: full scoring steps (in place).

    Then the separation test of all fits; returns the ``n_boundary`` counts.
    """
    chunk_rows = chunks[0].stop - chunks[0].start
    rest = np.flatnonzero(~converged & np.isfinite(beta).all(axis=1))
    n_boundary = np.zeros(beta.shape[0], dtype=int)
    if rest.size:
        fit = irls_chunked(
            x,
            y,
            lambda rows: weights_block(rows)[:, rest],
            family=family,
            link=LINK_OF[family],
            start=beta[rest],
            max_iter=max(max_iter - int(n_iter[rest].max()), 1),
            tol=tol,
            chunk_rows=chunk_rows,
        )
        beta[rest], converged[rest] = fit.beta, fit.converged
        n_iter[rest] += fit.n_iter
    if family == "binomial":  # the separation test of .glm.boundary_rows, on |eta|
        bt = np.ascontiguousarray(np.nan_to_num(beta).T)
        for rows in chunks:
            edge = np.abs(x[rows] @ bt) >= _logit_edge()
            n_boundary += np.sum(edge & (weights_block(rows) > 0), axis=0)
    return n_boundary


LINK_OF = {"gaussian": "identity", "binomial": "logit", "poisson": "log"}


def _secant_update(info: np.ndarray, idx: np.ndarray, step: np.ndarray, dscore: np.ndarray) -> None:
    """BFGS update of the information matrices ``info[idx]`` from the last step, in place.

    ``step`` is the last step ``s`` and ``dscore`` the score change ``y = U_prev - U_new``
    (``y ~ I s`` for a concave log-likelihood). The update keeps each matrix symmetric
    positive definite (it is skipped unless ``y's > 0``) and makes the iteration
    superlinear near the solution (Dennis and More 1977); NaN rows (no previous step)
    are skipped.
    """
    ok = np.isfinite(step).all(axis=1) & np.isfinite(dscore).all(axis=1)
    if not ok.any():
        return
    j, sv, yv = idx[ok], step[ok], dscore[ok]
    B = info[j]
    Bs = np.einsum("mij,mj->mi", B, sv)
    sBs = np.einsum("mi,mi->m", sv, Bs)
    ys = np.einsum("mi,mi->m", yv, sv)
    good = (ys > 0) & (sBs > 0)
    if not good.any():
        return
    B[good] += (
        np.einsum("mi,mj->mij", yv[good], yv[good]) / ys[good, None, None]
        - np.einsum("mi,mj->mij", Bs[good], Bs[good]) / sBs[good, None, None]
    )
    info[j] = B


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


def _score_pass(
    x_eta: np.ndarray,
    x_score: np.ndarray,
    y: np.ndarray,
    weights: Callable[[slice, np.ndarray], np.ndarray] | tuple[np.ndarray, np.ndarray],
    chunks: list[slice],
    b: np.ndarray,
    idx: np.ndarray,
    family: str,
) -> np.ndarray:
    """Scores ``X'{w_s (y - mu_s)}`` of the fits ``idx`` at ``b`` (``idx x p``), one pass.

    ``x_eta`` gives the linear predictor (times ``s = 2y - 1`` for binary binomial
    responses) and ``x_score`` the score (times ``s`` and the row factor of factored
    weights). ``weights`` is ``block(rows, idx)`` or ``(codes, multipliers)`` (weights
    ``a_i M[codes_i, s]`` with ``a`` already in ``x_score``). Binary binomial responses use
    ``y - mu = s expit(-s eta)``: one exponential per cell, the complement form of
    :func:`.glm._residual`, so it stays non-zero where ``mu`` rounds to 0 or 1.
    """
    p = x_eta.shape[1]
    score = np.zeros((p, idx.size))
    rows0 = chunks[0].stop - chunks[0].start
    buf, wbuf = np.empty((rows0, idx.size)), np.empty((rows0, idx.size))
    bt = np.ascontiguousarray(b.T)
    mult = None if callable(weights) else np.ascontiguousarray(weights[1][:, idx])
    for rows in chunks:
        m = rows.stop - rows.start
        r = buf[:m]
        np.matmul(x_eta[rows], bt, out=r)
        with np.errstate(over="ignore"):
            if family == "binomial":  # binary: x_eta and x_score carry s
                np.exp(r, out=r)
                r += 1.0
                np.reciprocal(r, out=r)
            elif family == "poisson":
                np.exp(r, out=r)
                np.subtract(y[rows, None], r, out=r)
            else:
                np.subtract(y[rows, None], r, out=r)
        if mult is None:
            r *= weights(rows, idx)  # type: ignore[operator]
        else:
            w = wbuf[:m]
            np.take(mult, weights[0][rows], axis=0, out=w)  # type: ignore[index]
            r *= w
        score += x_score[rows].T @ r
    return score.T


def information_at(
    x: np.ndarray,
    weights_block: Callable[[slice], np.ndarray],
    beta: np.ndarray,
    *,
    family: str,
    chunk_rows: int = CHUNK_ROWS,
) -> np.ndarray:
    """``(S, p, p)`` information ``X' diag(w_s V(mu)) X`` of every weight set at one ``beta``.

    Canonical links (the working weight is the variance function ``V(mu)``, the same for
    every weight set), so one packed product per chunk serves all ``S`` weight sets:
    the starting information of :func:`chord_chunked` for fits warm-started at ``beta``.
    """
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    iu, ju = np.triu_indices(p)
    info = 0.0
    for a in range(0, n, chunk_rows):
        rows = slice(a, min(n, a + chunk_rows))
        xc = x[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            _, _, ww, _ = _parts(xc @ beta, family, LINK_OF[family], None)
        info = info + (xc[:, iu] * xc[:, ju]).T @ (weights_block(rows) * ww[:, None])
    return _unpack(np.asarray(info).T, p, iu, ju)
