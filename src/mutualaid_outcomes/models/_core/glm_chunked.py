r"""The one IRLS fitter of :mod:`.glm`, with its sums formed over chunks of rows.

For many fits on many rows (survey replicate weights: a million rows times 80 weight
sets) the ``(S, n)`` weights and working arrays of :func:`.glm.irls` do not fit in memory.
:func:`irls_chunked` runs the same scoring loop (:func:`.glm._scoring`: the same steps,
convergence rule, collinearity rule and separation test, documented in :mod:`.glm`) with
the information matrices and scores accumulated chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .glm import (
    MAX_ITER,
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

__all__ = ["CHUNK_ROWS", "irls_chunked"]

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
