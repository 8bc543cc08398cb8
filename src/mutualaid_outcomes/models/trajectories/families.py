"""Outcome distributions of group-based trajectory models, with their derivatives.

Each family gives, per observation and class, the log-density ``log f(y | eta, a)`` of the
outcome given the class's linear predictor ``eta`` and at most one ancillary parameter ``a``
(``log sigma`` for the normal families, the logit of the structural-zero probability for
the zero-inflated Poisson), and its first and second derivatives in ``(eta, a)``. The EM
M-step, the Newton polishing of the observed log-likelihood and the observed information
are all built from these five arrays, so a family is defined in one place.

==========  =====================  ==========================================================
family      ancillary ``a``        log-density
==========  =====================  ==========================================================
gaussian    ``log sigma``          ``-log(sigma) - z^2 / 2 - log(2 pi) / 2``, ``z = (y - eta) / sigma``
cnorm       ``log sigma``          as gaussian inside ``(lower, upper)``; ``log Phi((lower - eta) / sigma)``
                                   at ``lower`` and ``log Phi((eta - upper) / sigma)`` at ``upper``
                                   (Tobit; PROC TRAJ's censored normal)
poisson     --                     ``y eta - exp(eta) - log y!``
zip         ``logit p``            ``log(p + (1 - p) exp(-mu))`` at 0, ``log(1 - p) + y eta - mu - log y!``
                                   above (Lambert 1992), ``mu = exp(eta)``, one ``p`` per class
logit       --                     ``y eta - log(1 + exp(eta))``
==========  =====================  ==========================================================

References
----------
Jones BL, Nagin DS, Roeder K (2001). A SAS procedure based on mixture models for estimating
developmental trajectories. *Sociological Methods & Research* 29:374-393.

Lambert D (1992). Zero-inflated Poisson regression, with an application to defects in
manufacturing. *Technometrics* 34:1-14.

Examples
--------
>>> import numpy as np
>>> fam = get_family("poisson")
>>> d = fam.derivs(Outcome(np.array([2.0])), np.zeros((1, 1)), np.zeros(1))
>>> float(d.d1[0, 0]), float(d.d2[0, 0])
(1.0, -1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = ["Derivs", "Outcome", "TrajectoryFamily", "get_family", "FAMILY_NAMES"]

FAMILY_NAMES: tuple[str, ...] = ("gaussian", "cnorm", "poisson", "zip", "logit")
_LOG_2PI = float(np.log(2 * np.pi))
ETA_MAX = 700.0  # exp(eta) overflows past ~709: counts' linear predictors are clipped here


class Derivs(NamedTuple):
    """Log-density and its derivatives, each ``(n_obs, n_classes)``.

    ``d1``/``d2``: first/second derivative in ``eta``; ``a1``/``a2``: in the ancillary
    parameter; ``c12``: the cross derivative. Families without an ancillary parameter
    return zeros for ``a1``, ``a2`` and ``c12``.
    """

    logf: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    c12: np.ndarray


class Outcome:
    """An outcome vector with what the densities reuse at every iteration.

    Attributes
    ----------
    y : numpy.ndarray
        ``(n, 1)`` outcome column.
    lgy : numpy.ndarray
        ``log y!`` for count families.
    zero, pos : numpy.ndarray
        Row indices of zero and positive counts.
    at_lower, at_upper : numpy.ndarray
        Row indices of censored values (``cnorm``).
    """

    def __init__(self, y: np.ndarray, lower: float | None = None, upper: float | None = None):
        self.y = np.asarray(y, dtype=float)[:, None]
        self.lower, self.upper = lower, upper
        self.lgy = special.gammaln(self.y + 1.0)
        self.zero = np.flatnonzero(self.y[:, 0] == 0.0)
        self.pos = np.flatnonzero(self.y[:, 0] != 0.0)
        v = self.y[:, 0]
        self.at_lower = np.flatnonzero(v <= lower) if lower is not None else np.zeros(0, int)
        self.at_upper = np.flatnonzero(v >= upper) if upper is not None else np.zeros(0, int)


def _norm_logpdf(z: np.ndarray) -> np.ndarray:
    return -0.5 * z * z - 0.5 * _LOG_2PI


def _mills(c: np.ndarray) -> np.ndarray:
    """``phi(c) / Phi(c)``, stable for very negative ``c``."""
    return np.exp(_norm_logpdf(c) - special.log_ndtr(c))


def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@dataclass(frozen=True)
class TrajectoryFamily:
    """One outcome distribution (see the module docstring)."""

    name: str
    link: str
    ancillary: str | None  # "log_sigma", "zero_logit" or None
    label: str

    @property
    def has_ancillary(self) -> bool:
        """Whether the family has an ancillary parameter per class (or shared)."""
        return self.ancillary is not None

    # -- densities ------------------------------------------------------------------
    def derivs(
        self, obs: Outcome, eta: np.ndarray, anc: np.ndarray, *, second: bool = True
    ) -> Derivs:
        """Log-density and derivatives at ``eta`` (``n, K``) and ``anc`` (``K``)."""
        yy = obs.y
        if self.name in ("gaussian", "cnorm"):
            return _normal(obs, eta, anc, self.name == "cnorm", second)
        if self.name == "poisson":
            eta = np.minimum(eta, ETA_MAX)
            mu = np.exp(eta)
            logf = yy * eta - mu - obs.lgy
            z = np.zeros_like(eta)
            return Derivs(logf, yy - mu, -mu, z, z, z)
        if self.name == "logit":
            p = special.expit(eta)
            logf = yy * eta - _softplus(eta)
            z = np.zeros_like(eta)
            return Derivs(logf, yy - p, -p * (1.0 - p), z, z, z)
        return _zip(obs, eta, anc)

    def loglik(self, obs: Outcome, eta: np.ndarray, anc: np.ndarray) -> np.ndarray:
        """Log-density only, ``(n, K)``."""
        yy = obs.y
        if self.name == "poisson":
            eta = np.minimum(eta, ETA_MAX)
            return yy * eta - np.exp(eta) - obs.lgy
        if self.name == "logit":
            return yy * eta - _softplus(eta)
        if self.name == "zip":
            eta = np.minimum(eta, ETA_MAX)
            p = special.expit(anc)[None, :]
            mu = np.exp(eta)
            logf = np.log1p(-p) + yy * eta - mu - obs.lgy
            z = obs.zero
            logf[z] = np.log(p + (1.0 - p) * np.exp(-mu[z]))
            return logf
        return self.derivs(obs, eta, anc, second=False).logf

    def mean(
        self, eta: np.ndarray, anc: np.ndarray, lower: float | None, upper: float | None
    ) -> np.ndarray:
        """Expected outcome ``E[y]`` (censoring and zero inflation included)."""
        if self.name == "gaussian":
            return np.asarray(eta, dtype=float)
        if self.name == "poisson":
            return np.exp(np.minimum(eta, ETA_MAX))
        if self.name == "logit":
            return special.expit(eta)
        if self.name == "zip":
            return special.expit(-anc) * np.exp(np.minimum(eta, ETA_MAX))
        sigma = np.exp(anc)
        a = -np.inf if lower is None else lower
        b = np.inf if upper is None else upper
        alpha, beta = (a - eta) / sigma, (b - eta) / sigma
        pa, pb = special.ndtr(alpha), special.ndtr(beta)
        fa, fb = np.exp(_norm_logpdf(alpha)), np.exp(_norm_logpdf(beta))
        out = eta * (pb - pa) + sigma * (fa - fb)
        if lower is not None:
            out = out + a * pa
        if upper is not None:
            out = out + b * (1.0 - pb)
        return out

    def simulate(
        self,
        eta: np.ndarray,
        anc: np.ndarray,
        lower: float | None,
        upper: float | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Draw outcomes given ``eta`` and the matching ancillary values (same shape)."""
        if self.name in ("gaussian", "cnorm"):
            y = eta + np.exp(anc) * rng.standard_normal(eta.shape)
            if self.name == "cnorm":
                lo = -np.inf if lower is None else lower
                y = np.clip(y, lo, np.inf if upper is None else upper)
            return y
        if self.name == "logit":
            return (rng.random(eta.shape) < special.expit(eta)).astype(float)
        y = rng.poisson(np.exp(np.minimum(eta, 50.0))).astype(float)
        if self.name == "zip":
            y[rng.random(eta.shape) < special.expit(anc)] = 0.0
        return y


def _normal(obs: Outcome, eta: np.ndarray, anc: np.ndarray, censored: bool, second: bool) -> Derivs:
    sigma = np.exp(anc)[None, :]
    z = (obs.y - eta) / sigma
    logf = -anc[None, :] - 0.5 * z * z - 0.5 * _LOG_2PI
    d1 = z / sigma
    a1 = z * z - 1.0
    if second:
        d2 = np.broadcast_to(-1.0 / sigma**2, eta.shape).copy()
        a2 = -2.0 * z * z
        c12 = -2.0 * z / sigma
    else:
        d2 = a2 = c12 = np.empty(0)
    if not censored:
        return Derivs(logf, d1, d2, a1, a2, c12)
    for rows, bound, sign in ((obs.at_lower, obs.lower, -1.0), (obs.at_upper, obs.upper, 1.0)):
        if len(rows) == 0:
            continue
        s = np.broadcast_to(sigma, (len(rows), eta.shape[1]))
        # c: standardised distance inside the censored tail, log f = log Phi(c)
        c = sign * (eta[rows] - bound) / s
        lam = _mills(c)
        logf[rows] = special.log_ndtr(c)
        d1[rows] = sign * lam / s
        a1[rows] = -lam * c
        if second:
            d2[rows] = -lam * (c + lam) / s**2
            c12[rows] = sign * (lam * c * (c + lam) - lam) / s
            a2[rows] = lam * c - lam * c * c * (c + lam)
    return Derivs(logf, d1, d2, a1, a2, c12)


def _zip(obs: Outcome, eta: np.ndarray, anc: np.ndarray) -> Derivs:
    eta = np.minimum(eta, ETA_MAX)
    y = obs.y
    p = special.expit(anc)[None, :]
    mu = np.exp(eta)
    logf = np.log1p(-p) + y * eta - mu - obs.lgy
    d1 = y - mu
    d2 = -mu
    a1 = np.broadcast_to(-p, eta.shape).copy()
    a2 = np.broadcast_to(-p * (1.0 - p), eta.shape).copy()
    c12 = np.zeros_like(eta)
    z = obs.zero
    if len(z):
        mz = mu[z]
        e = np.exp(-mz)
        mix = p + (1.0 - p) * e
        r = (1.0 - p) * e / mix  # probability of the Poisson state given a zero
        r1 = r * (1.0 - r)
        logf[z] = np.log(mix)
        d1[z] = -mz * r
        d2[z] = -mz * r + mz * mz * r1
        a1[z] = (1.0 - r) - p
        a2[z] = r1 - p * (1.0 - p)
        c12[z] = mz * r1
    return Derivs(logf, d1, d2, a1, a2, c12)


_FAMILIES = {
    "gaussian": TrajectoryFamily("gaussian", "identity", "log_sigma", "normal"),
    "cnorm": TrajectoryFamily("cnorm", "identity", "log_sigma", "censored normal"),
    "poisson": TrajectoryFamily("poisson", "log", None, "Poisson"),
    "zip": TrajectoryFamily("zip", "log", "zero_logit", "zero-inflated Poisson"),
    "logit": TrajectoryFamily("logit", "logit", None, "logistic (binary)"),
}


def get_family(name: str) -> TrajectoryFamily:
    """Return the family called ``name`` (one of :data:`FAMILY_NAMES`).

    Examples
    --------
    >>> get_family("zip").ancillary
    'zero_logit'
    """
    return _FAMILIES[name]
