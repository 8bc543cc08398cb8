"""The chained-equations sampler behind :func:`.imputation.impute` (mice's numerics).

Per incomplete column, in turn: a Bayesian linear-regression draw (``norm``), predictive
mean matching on it (``pmm``) or a logistic draw from the package's IRLS with a ridge
penalty (``logreg``, the "capped estimates" separation policy of :mod:`.._core.glm`).
"""

from __future__ import annotations

import numpy as np

from .._core.glm import fit_glm, information

__all__ = ["N_DONORS", "RIDGE", "chain"]


RIDGE = 1e-5  # ridge factor on the diagonal of X'X, as mice's default `ridge = 1e-05`


N_DONORS = 5  # donors of predictive mean matching, as mice's default `donors = 5`


_NEWTON_MAX_ITER = 50


def _norm_draw(
    X: np.ndarray, y: np.ndarray, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """Posterior draw of a normal linear regression (mice's ``.norm.draw``).

    Returns the least-squares coefficients, a drawn coefficient vector and the drawn
    residual SD: ``sigma* = sqrt(RSS / chi2_df)``, ``beta* = beta_hat + sigma* L z``
    with ``L L' = (X'X + ridge diag(X'X))^{-1}``, ``df = max(n - p, 1)``.
    """
    xtx = X.T @ X
    pen = RIDGE * np.diag(xtx)
    v = np.linalg.inv(xtx + np.diag(pen))
    v = (v + v.T) / 2
    coef = v @ (X.T @ y)
    resid = y - X @ coef
    df = max(len(y) - X.shape[1], 1)
    sigma = float(np.sqrt(resid @ resid / gen.chisquare(df)))
    chol = np.linalg.cholesky(v + 1e-12 * np.eye(len(v)) * np.max(np.abs(np.diag(v))))
    beta = coef + (chol @ gen.standard_normal(X.shape[1])) * sigma
    return coef, beta, sigma


def _match(yhat_obs: np.ndarray, yhat_mis: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """Index of a random one of the ``N_DONORS`` nearest observed predictions.

    The k nearest values of a sorted 1-D array lie within k positions on either side of
    the insertion point, so only a window of ``2k`` candidates per missing value is
    examined (vectorised; no loop over rows). Ties are broken at random.
    """
    n_obs = len(yhat_obs)
    k = min(N_DONORS, n_obs)
    # tiny random jitter breaks ties at random, as mice's matcher does
    scale = np.std(yhat_obs) if n_obs > 1 else 1.0
    jitter = gen.uniform(-1e-12, 1e-12, n_obs) * (scale if scale > 0 else 1.0)
    order = np.argsort(yhat_obs + jitter, kind="stable")
    sorted_obs = yhat_obs[order]
    pos = np.searchsorted(sorted_obs, yhat_mis)
    offsets = np.arange(-k, k)
    cand = np.clip(pos[:, None] + offsets[None, :], 0, n_obs - 1)
    dist = np.abs(sorted_obs[cand] - yhat_mis[:, None])
    # duplicated (clipped) candidates must not count twice
    dup = np.zeros_like(dist, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    dist[dup] = np.inf
    nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
    pick = nearest[np.arange(len(yhat_mis)), gen.integers(0, k, len(yhat_mis))]
    return order[cand[np.arange(len(yhat_mis)), pick]]


def _logit_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge-stabilised logistic regression; coefficients and covariance.

    The package's IRLS (:func:`.._core.glm.fit_glm`) with a ridge penalty of
    ``RIDGE * n`` on the slopes: the "capped estimates" separation policy of
    :mod:`.._core.glm`, which keeps the fit finite under (quasi-)separation where mice
    augments the data for the same purpose.
    """
    lam = RIDGE * max(len(y), 1) * np.ones(X.shape[1])
    lam[0] = 0.0
    fit = fit_glm(
        X,
        y,
        family="binomial",
        link="logit",
        start=np.zeros(X.shape[1]),
        penalty=lam,
        max_iter=_NEWTON_MAX_ITER,
    )
    v = np.linalg.inv(information(X, fit.eta, family="binomial", link="logit", penalty=lam))
    return fit.beta, (v + v.T) / 2


def _impute_column(
    method: str,
    X_obs: np.ndarray,
    y_obs: np.ndarray,
    X_mis: np.ndarray,
    gen: np.random.Generator,
) -> np.ndarray:
    """One draw of the missing values of a column from its conditional model."""
    if np.all(y_obs == y_obs[0]):
        # a constant observed column has no variation to model: impute the constant
        return np.full(X_mis.shape[0], y_obs[0])
    if method == "logreg":
        beta_hat, v = _logit_fit(X_obs, y_obs)
        beta = gen.multivariate_normal(beta_hat, v, method="cholesky")
        prob = 1 / (1 + np.exp(-np.clip(X_mis @ beta, -30, 30)))
        return (gen.random(len(prob)) < prob).astype(float)
    coef, beta, sigma = _norm_draw(X_obs, y_obs, gen)
    if method == "norm":
        return X_mis @ beta + gen.standard_normal(X_mis.shape[0]) * sigma
    # pmm, type-1 matching: observed cases predicted with the least-squares coefficients,
    # missing cases with the drawn ones
    idx = _match(X_obs @ coef, X_mis @ beta, gen)
    return y_obs[idx]


def chain(
    values: np.ndarray,
    miss: np.ndarray,
    targets: list[int],
    methods: list[str],
    pred_index: list[np.ndarray],
    max_iter: int,
    gen: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Run one chain of the chained-equations sampler; completed matrix and trace."""
    z = values.copy()
    n = z.shape[0]
    # start: random draws from the observed values of each column (as mice)
    for j in targets:
        obs = z[~miss[:, j], j]
        z[miss[:, j], j] = gen.choice(obs, size=int(miss[:, j].sum()), replace=True)
    trace = np.empty((max_iter, len(targets), 2))
    ones = np.ones((n, 1))
    for it in range(max_iter):
        for t, (j, meth, preds) in enumerate(zip(targets, methods, pred_index)):
            r = miss[:, j]
            X = np.hstack([ones, z[:, preds]])
            draws = _impute_column(meth, X[~r], z[~r, j], X[r], gen)
            z[r, j] = draws
            trace[it, t, 0] = draws.mean()
            trace[it, t, 1] = draws.std(ddof=1) if len(draws) > 1 else np.nan
    return z, trace
