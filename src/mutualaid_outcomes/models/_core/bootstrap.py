"""Resampling helpers and bootstrap / Monte Carlo confidence intervals.

Used by :func:`~mutualaid_outcomes.models.mediation.product.mediate` and the causal
mediation module. Everything takes a :class:`numpy.random.Generator`; nothing
touches global random state.

* :func:`bootstrap_counts` / :func:`iter_bootstrap_counts` /
  :func:`map_bootstrap_counts` (from :mod:`.counts`) -- how often each unit (row or
  cluster) appears in each resample, as a ``(B, n)`` matrix, drawn in seeded blocks so
  the stream does not depend on chunking or threads. The same counts weight every
  equation of a model, which makes the bootstrap *joint*.
* :func:`resample_indices` / :func:`cluster_resample_indices` -- bootstrap
  resamples as row indices, for estimators that cannot take weights.
* :func:`percentile_interval`, :func:`bca_interval` (Efron 1987, jackknife
  acceleration) and :func:`monte_carlo_interval`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=50)
>>> idx = resample_indices(50, 2000, rng)
>>> draws = x[idx].mean(axis=1)[:, None]
>>> jack = ((x.sum() - x) / 49)[:, None]
>>> low, high = bca_interval(draws, np.array([x.mean()]), jack, 0.95)
>>> bool(low[0] < x.mean() < high[0])
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy import special, stats

from ..._validation import check_conf_level, check_positive_int
from ...errors import BootstrapWarning, DataValidationError
from .counts import iter_bootstrap_counts, map_bootstrap_counts

__all__ = [
    "BCA_MIN_RESAMPLES",
    "PERCENTILE_MIN_RESAMPLES",
    "bootstrap_counts",
    "iter_bootstrap_counts",
    "map_bootstrap_counts",
    "resample_indices",
    "cluster_resample_indices",
    "cluster_codes",
    "percentile_interval",
    "bias_correction",
    "jackknife_acceleration",
    "bca_interval",
    "sorted_quantiles",
    "monte_carlo_draws",
    "monte_carlo_interval",
    "check_n_boot",
]

#: Fewer resamples than this make BCa limits unreliable (Efron & Tibshirani 1993, sec. 14.3).
BCA_MIN_RESAMPLES = 1000
#: Fewer resamples than this make 95% percentile limits noisy (about 12 draws in each tail).
PERCENTILE_MIN_RESAMPLES = 500


def _as_2d(draws: np.ndarray, argument: str = "draws") -> np.ndarray:
    arr = np.asarray(draws, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise DataValidationError(
            f"`{argument}` must be a non-empty (n_draws, k) array; got shape {arr.shape}."
        )
    return arr


def check_n_boot(n_boot: int, ci: str, argument: str = "n_boot") -> int:
    """Validate ``n_boot`` and warn when it is small for the interval ``ci``.

    Parameters
    ----------
    n_boot : int
        Number of resamples (or Monte Carlo draws).
    ci : str
        ``"bca"``, ``"percentile"`` or ``"monte_carlo"``.
    argument : str
        Name used in messages.

    Returns
    -------
    int

    Warns
    -----
    BootstrapWarning
        ``n_boot`` below :data:`BCA_MIN_RESAMPLES` for BCa, or below
        :data:`PERCENTILE_MIN_RESAMPLES` for percentile and Monte Carlo intervals.

    Examples
    --------
    >>> check_n_boot(2000, "bca")
    2000
    """
    n_boot = check_positive_int(n_boot, argument)
    minimum = BCA_MIN_RESAMPLES if ci == "bca" else PERCENTILE_MIN_RESAMPLES
    if n_boot < minimum:
        warnings.warn(
            f"`{argument}`={n_boot} is small for {ci!r} intervals; use at least {minimum} "
            "(5000 or more for publication) so the limits are not dominated by Monte Carlo "
            "error.",
            BootstrapWarning,
            stacklevel=3,
        )
    return n_boot


def bootstrap_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """All bootstrap count matrices at once (see :func:`iter_bootstrap_counts`).

    Parameters
    ----------
    n : int
        Number of units (rows or clusters).
    n_boot : int
        Number of resamples.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Float ``(n_boot, n)`` array of counts; each row sums to ``n``.

    Examples
    --------
    >>> w = bootstrap_counts(5, 3, np.random.default_rng(0))
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 5), [5.0, 5.0, 5.0])
    """
    return np.concatenate(list(iter_bootstrap_counts(n, n_boot, rng)))


def resample_indices(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of ``n_boot`` ordinary bootstrap resamples.

    Parameters
    ----------
    n : int
        Number of rows.
    n_boot : int
        Number of resamples.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Integer ``(n_boot, n)`` array; use the same row of indices for every equation
        of a model (joint bootstrap).

    Examples
    --------
    >>> resample_indices(4, 2, np.random.default_rng(0)).shape
    (2, 4)
    """
    n = check_positive_int(n, "n")
    n_boot = check_positive_int(n_boot, "n_boot")
    return rng.integers(0, n, size=(n_boot, n))


def cluster_codes(cluster: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 of a cluster label array, and G.

    Examples
    --------
    >>> cluster_codes(np.array(["b", "a", "b"]))
    (array([1, 0, 1]), 2)
    """
    _, codes = np.unique(np.asarray(cluster), return_inverse=True)
    codes = codes.ravel()
    return codes, int(codes.max()) + 1 if codes.size else 0


def cluster_resample_indices(
    cluster: np.ndarray, n_boot: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Row indices of ``n_boot`` cluster-bootstrap resamples (whole clusters drawn).

    Parameters
    ----------
    cluster : array-like
        Cluster label of every row (no missing values).
    n_boot : int
        Number of resamples.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    list of numpy.ndarray
        One index array per resample; lengths vary with cluster sizes.

    Notes
    -----
    ``G`` clusters are drawn with replacement and every row of each drawn cluster is
    included (a cluster drawn twice contributes its rows twice). The draws are the same
    as those behind ``bootstrap_counts(G, n_boot, rng)`` for the same generator state.

    Examples
    --------
    >>> out = cluster_resample_indices(np.array([1, 1, 2, 3]), 2, np.random.default_rng(0))
    >>> len(out)
    2
    """
    codes, n_groups = cluster_codes(cluster)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(n_groups))
    ends = np.append(starts[1:], codes.size)
    members = [order[s:e] for s, e in zip(starts, ends)]
    counts = bootstrap_counts(n_groups, check_positive_int(n_boot, "n_boot"), rng)
    out = []
    for row in counts.astype(int):
        picked = np.repeat(np.arange(n_groups), row)
        out.append(np.concatenate([members[g] for g in picked]))
    return out


def percentile_interval(draws: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of each column of ``draws``.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(B, k)`` bootstrap (or Monte Carlo) draws; rows with NaN (failed resamples) are
        ignored column by column.
    conf_level : float
        Confidence level.

    Returns
    -------
    low, high : numpy.ndarray
        ``(k,)`` arrays: the ``(1 - conf_level) / 2`` and ``(1 + conf_level) / 2`` sample
        quantiles (linear interpolation, R's ``quantile(type = 7)``).

    Examples
    --------
    >>> d = np.arange(1, 101, dtype=float)[:, None]
    >>> percentile_interval(d, 0.9)
    (array([5.95]), array([95.05]))
    """
    conf_level = check_conf_level(conf_level)
    arr = _as_2d(draws)
    alpha = (1 - conf_level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanquantile(arr, [alpha, 1 - alpha], axis=0)
    return q[0], q[1]


def bias_correction(draws: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    r"""Bias-correction constant :math:`\hat z_0` of each column.

    :math:`\hat z_0 = \Phi^{-1}\{(\#\{\theta^*_b < \hat\theta\} + \tfrac12
    \#\{\theta^*_b = \hat\theta\}) / B\}`, ignoring NaN draws. Infinite when every draw lies
    on one side of the estimate.

    Examples
    --------
    >>> float(bias_correction(np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([2.5]))[0])
    0.0
    """
    arr = _as_2d(draws)
    est = np.asarray(estimate, dtype=float).reshape(-1)
    valid = ~np.isnan(arr)
    b = valid.sum(axis=0)
    below = (arr < est).sum(axis=0) + 0.5 * (arr == est).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return stats.norm.ppf(below / b)


def jackknife_acceleration(jackknife: np.ndarray) -> np.ndarray:
    r"""Acceleration constant of each column from leave-one-out estimates.

    :math:`\hat a = \sum_i (\bar\theta_{(\cdot)} - \hat\theta_{(i)})^3 /
    \{6 [\sum_i (\bar\theta_{(\cdot)} - \hat\theta_{(i)})^2]^{3/2}\}`
    (Efron 1987, eq. 6.6). Equals ``sum(Lc^3) / (6 sum(Lc^2)^1.5)`` with ``Lc`` the
    jackknife empirical influence values of R ``boot::empinf(type = "jack")`` centred at
    their mean (boot centres them at the full-data estimate). NaN for a column whose
    leave-one-out estimates are all equal.

    Examples
    --------
    >>> float(np.round(jackknife_acceleration(np.array([[1.0], [2.0], [6.0]]))[0], 4))
    -0.0573
    """
    jack = _as_2d(jackknife, "jackknife")
    dev = np.nanmean(jack, axis=0) - jack
    num = np.nansum(dev**3, axis=0)
    den = 6.0 * np.nansum(dev**2, axis=0) ** 1.5
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def sorted_quantiles(srt: np.ndarray, b: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Type-7 quantiles of each row of ``srt`` (sorted, valid values first).

    Row ``j`` holds ``b[j] >= 1`` valid values followed by NaN; ``levels[j]`` are its
    levels in [0, 1]. The index, weight and interpolation are those of
    :func:`numpy.quantile` (``method="linear"``, R's ``type = 7``), so the values equal
    ``np.quantile(srt[j, :b[j]], levels[j])``; one vectorised pass replaces a call per row.

    Examples
    --------
    >>> srt = np.array([[1.0, 2.0, 4.0, np.nan], [0.0, 10.0, 20.0, 30.0]])
    >>> sorted_quantiles(srt, np.array([3, 4]), np.array([[0.25, 1.0], [0.5, 0.9]]))
    array([[ 1.5,  4. ],
           [15. , 27. ]])
    """
    top = (b - 1)[:, None]
    virtual = top * levels
    prev = np.minimum(np.floor(virtual), top).astype(np.intp)
    nxt = np.minimum(prev + 1, top)
    gamma = virtual - prev
    lo = np.take_along_axis(srt, prev, axis=1)
    hi = np.take_along_axis(srt, nxt, axis=1)
    diff = hi - lo
    # numpy's _lerp: from the lower point, or from the upper one when gamma >= 1/2
    return np.where(gamma >= 0.5, hi - diff * (1 - gamma), lo + diff * gamma)


def bca_interval(
    draws: np.ndarray,
    estimate: np.ndarray,
    jackknife: np.ndarray,
    conf_level: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Bias-corrected and accelerated (BCa) bootstrap interval of each column.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(B, k)`` bootstrap draws (NaN rows, i.e. failed resamples, are ignored).
    estimate : numpy.ndarray
        ``(k,)`` plug-in estimates on the full data.
    jackknife : numpy.ndarray
        ``(n, k)`` leave-one-out estimates (leave-one-cluster-out for a cluster
        bootstrap), used for the acceleration.
    conf_level : float
        Confidence level.

    Returns
    -------
    low, high : numpy.ndarray
        ``(k,)`` limits: the sample quantiles (as in :func:`percentile_interval`) of the
        draws at levels :math:`\Phi(\hat z_0 + (\hat z_0 + z_\alpha) / (1 - \hat a
        (\hat z_0 + z_\alpha)))` for :math:`\alpha` and :math:`1 - \alpha`.

    Warns
    -----
    BootstrapWarning
        When a column is degenerate: every draw on one side of the estimate (infinite
        :math:`\hat z_0`; limits NaN), all leave-one-out estimates equal (acceleration
        set to 0), an adjusted level outside (0, 1) (limits NaN), or an adjusted level
        beyond the most extreme draw (limit set to that draw).

    Notes
    -----
    :math:`\hat z_0` is :func:`bias_correction` and :math:`\hat a` is
    :func:`jackknife_acceleration` (leave-one-out values centred at their mean, as in
    Efron 1987). The agreement with R holds when R is given the jackknife influence
    values: ``boot.ci(type = "bca", L = Lc)`` with ``L = empinf(b, type = "jack")`` and
    ``Lc = L - mean(L)`` (boot centres them at the full-data estimate) gives the same
    acceleration to 1e-11 and limits within Monte Carlo error
    (``tests/reference/bca_boot.R``). Without ``L``, ``boot.ci`` estimates the influence
    values by regression on the bootstrap draws (``empinf``'s default), a different
    acceleration (1.0e-5 against the jackknife's 3.3e-4 for the JOBS II indirect
    effect), so its limits differ slightly from these.

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. *JASA*, 82, 171-185.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> x = rng.exponential(size=40)
    >>> draws = x[rng.integers(0, 40, size=(4000, 40))].mean(axis=1)
    >>> jack = (x.sum() - x) / 39
    >>> low, high = bca_interval(draws, np.array([x.mean()]), jack, 0.95)
    >>> bool(high[0] - x.mean() > x.mean() - low[0])  # right-skewed statistic
    True
    """
    conf_level = check_conf_level(conf_level)
    arr = _as_2d(draws)
    k = arr.shape[1]
    est = np.asarray(estimate, dtype=float).reshape(-1)
    jack = _as_2d(jackknife, "jackknife")
    if est.size != k or jack.shape[1] != k:
        raise DataValidationError(
            f"`draws` has {k} columns but `estimate` has {est.size} values and "
            f"`jackknife` {jack.shape[1]} columns; they must match."
        )
    z0 = bias_correction(arr, est)
    acc = jackknife_acceleration(jack)
    problems: list[str] = []
    flat = np.isnan(acc)
    if flat.any():
        problems.append(
            f"{int(flat.sum())} column(s) have identical leave-one-out estimates "
            "(acceleration set to 0)"
        )
        acc = np.where(flat, 0.0, acc)
    alpha = (1 - conf_level) / 2
    z = stats.norm.ppf([alpha, 1 - alpha])
    low = np.full(k, np.nan)
    high = np.full(k, np.nan)
    side = ~np.isfinite(z0)
    if side.any():
        problems.append(
            f"{int(side.sum())} column(s) have every draw on one side of the estimate "
            "(bias correction infinite; limits set to NaN)"
        )
    # all columns at once: levels, then the type-7 quantiles of the sorted draws
    cols = np.flatnonzero(~side)
    zz = z0[cols, None] + z[None, :]
    denom = 1 - acc[cols, None] * zz
    bad = np.any(denom <= 0, axis=1)
    bad_level = int(bad.sum())
    cols, zz, denom = cols[~bad], zz[~bad], denom[~bad]
    levels = special.ndtr(z0[cols, None] + zz / denom)  # stats.norm.cdf
    srt = np.ascontiguousarray(arr.T[cols])  # one row per column: sorting is contiguous
    srt.sort(axis=1)  # NaN (failed resamples) sort last
    b = (~np.isnan(srt)).sum(axis=1)
    extreme = int(np.sum((levels[:, 0] < 1.0 / (b + 1)) | (levels[:, 1] > b / (b + 1))))
    lim = sorted_quantiles(srt, b, np.clip(levels, 0.0, 1.0))
    low[cols], high[cols] = lim[:, 0], lim[:, 1]
    if bad_level:
        problems.append(
            f"{bad_level} column(s) have an acceleration so large that an adjusted level is "
            "undefined (limits set to NaN)"
        )
    if extreme:
        problems.append(
            f"{extreme} column(s) need quantiles beyond the most extreme draw (limits set to "
            "the extreme draw; increase n_boot)"
        )
    if problems:
        warnings.warn(
            "BCa interval is degenerate: " + "; ".join(problems) + ".",
            BootstrapWarning,
            stacklevel=2,
        )
    return low, high


def monte_carlo_draws(
    mean: np.ndarray, cov: np.ndarray, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws from the multivariate normal sampling distribution of estimates.

    Parameters
    ----------
    mean : numpy.ndarray
        ``(p,)`` point estimates.
    cov : numpy.ndarray
        ``(p, p)`` covariance matrix of the estimates (positive semi-definite).
    n_draws : int
        Number of draws.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        ``(n_draws, p)`` draws.

    Examples
    --------
    >>> monte_carlo_draws(np.zeros(2), np.eye(2), 5, np.random.default_rng(0)).shape
    (5, 2)
    """
    mean = np.asarray(mean, dtype=float).reshape(-1)
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (mean.size, mean.size):
        raise DataValidationError(
            f"`cov` must be ({mean.size}, {mean.size}) to match `mean`; got {cov.shape}."
        )
    n_draws = check_positive_int(n_draws, "n_draws")
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    if vals.min(initial=0.0) < -1e-8 * max(vals.max(initial=0.0), 1.0):
        raise DataValidationError("`cov` is not positive semi-definite.")
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return mean + rng.standard_normal((n_draws, mean.size)) @ root.T


def monte_carlo_interval(
    mean: np.ndarray,
    cov: np.ndarray,
    *,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    n_draws: int = 10000,
    conf_level: float = 0.95,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Monte Carlo (parametric) interval of functions of asymptotically normal estimates.

    Parameters
    ----------
    mean : numpy.ndarray
        ``(p,)`` point estimates (e.g. the a- and b-path coefficients).
    cov : numpy.ndarray
        ``(p, p)`` covariance matrix of ``mean``.
    transform : callable, optional
        Maps an ``(m, p)`` array of parameter draws to an ``(m, k)`` array of effects
        (e.g. products ``a * b``); the identity by default.
    n_draws : int
        Number of draws.
    conf_level : float
        Confidence level.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    low, high : numpy.ndarray
        Percentiles of the transformed draws.

    Notes
    -----
    The Monte Carlo method of MacKinnon, Lockwood & Williams (2004) / Preacher & Selig
    (2012): draw the parameters from :math:`N(\hat\theta, \hat V)` and take percentiles
    of the effect computed from each draw.

    References
    ----------
    Preacher, K. J. & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals
    for indirect effects. *Communication Methods and Measures*, 6, 77-98.

    Examples
    --------
    >>> low, high = monte_carlo_interval(
    ...     np.array([0.5, 0.4]), np.diag([0.01, 0.01]),
    ...     transform=lambda d: d[:, :1] * d[:, 1:], rng=np.random.default_rng(0))
    >>> bool(low[0] < 0.2 < high[0])
    True
    """
    draws = monte_carlo_draws(mean, cov, n_draws, rng)
    if transform is not None:
        draws = _as_2d(transform(draws), "transform(draws)")
    return percentile_interval(draws, conf_level)
