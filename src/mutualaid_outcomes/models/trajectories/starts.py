"""Random starting values for trajectory mixtures (internal).

Each start partitions the persons: ``K`` seed persons are drawn by k-means++ sampling
(Arthur & Vassilvitskii 2007) on two person-level features, the person's mean outcome on
the link scale and the person's least-squares slope over time (both standardised), and
every person joins the nearest seed. The start's parameters are then the M-step of that
hard partition, begun from the one-class fit. Different random seeds give genuinely
different partitions (high and low, rising and falling), which is what a search over
local optima needs; flexmix's default, a uniformly random partition, gives classes that
all start near the overall mean.

References
----------
Arthur D, Vassilvitskii S (2007). k-means++: the advantages of careful seeding.
*Proceedings of the 18th ACM-SIAM Symposium on Discrete Algorithms*, 1027-1035.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import special

from .engine import m_step
from .panel import Panel
from .params import Layout, Params, Spec

__all__ = ["base_params", "person_features", "random_partition", "start_params"]

INITIAL_M_STEPS = 5  # M-steps on a start's partition before EM begins
BASE_ITER = 50  # Newton steps of the one-class fit


def _link_mean(spec: Spec, y: np.ndarray) -> np.ndarray:
    name = spec.family.name
    if name in ("poisson", "zip"):
        return np.log(np.maximum(y, 0.0) + 0.5)
    if name == "logit":
        return special.logit(np.clip(y, 0.05, 0.95))
    return y


def base_params(panel: Panel, spec: Spec) -> Params:
    """The one-class fit, copied to every class (equal shares)."""
    K, p, q = spec.n_groups, spec.p, panel.Z.shape[1]
    one = replace(spec, n_groups=1, degree=(spec.max_degree,))
    lay1 = Layout(one, q)
    y = panel.y
    beta = np.zeros((1, p))
    beta[0, 0] = _link_mean(spec, np.array([y.mean()]))[0]
    anc = np.zeros(1)
    name = spec.family.name
    if name in ("gaussian", "cnorm"):
        anc[:] = np.log(max(float(y.std()), 1e-8))
    elif name == "zip":
        pos = y[y > 0]
        lam = float(pos.mean()) if len(pos) else 0.5
        excess = float(np.mean(y == 0)) - np.exp(-lam)
        beta[0, 0] = np.log(lam)
        anc[:] = special.logit(np.clip(excess, 0.05, 0.95))
    params = Params(beta, anc, np.zeros((1, q)))
    tau = np.ones((panel.n_persons, 1))
    prev = -np.inf
    for _ in range(BASE_ITER):
        params, logf = m_step(panel, one, lay1, params, tau)
        if logf is None:  # closed-form M-step: done in one
            break
        cur = float(np.sum(logf))
        if cur - prev < 1e-10 * (1.0 + abs(cur)):
            break
        prev = cur
    act = spec.active()
    return Params(
        np.where(act, params.beta[0][None, :], 0.0),
        np.full(K, params.anc[0]),
        np.zeros((K, q)),
    )


def person_features(panel: Panel, spec: Spec) -> np.ndarray:
    """Standardised person mean (link scale) and slope over time, ``(N, 2)``."""
    n_i = panel.waves.astype(float)
    h = _link_mean(spec, panel.y)
    t = panel.time
    tbar = panel.obs_person_sum(t) / n_i
    hbar = panel.obs_person_sum(h) / n_i
    dt = t - tbar[panel.person]
    sxx = panel.obs_person_sum(dt * dt)
    sxy = panel.obs_person_sum(dt * (h - hbar[panel.person]))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
    fill = np.nanmean(slope) if np.isfinite(slope).any() else 0.0
    slope = np.where(np.isfinite(slope), slope, fill)
    F = np.column_stack([hbar, slope])
    sd = F.std(axis=0)
    return (F - F.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def random_partition(features: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """Hard assignment of persons to ``K`` classes around k-means++ seeds, ``(N, K)``."""
    N = features.shape[0]
    seeds = [int(rng.integers(N))]
    d2 = np.sum((features - features[seeds[0]]) ** 2, axis=1)
    for _ in range(1, K):
        total = d2.sum()
        nxt = int(rng.choice(N, p=d2 / total)) if total > 0 else int(rng.integers(N))
        seeds.append(nxt)
        d2 = np.minimum(d2, np.sum((features - features[nxt]) ** 2, axis=1))
    dist = np.stack([np.sum((features - features[s]) ** 2, axis=1) for s in seeds], axis=1)
    labels = np.argmin(dist + 1e-9 * rng.random(dist.shape), axis=1)
    tau = np.zeros((N, K))
    tau[np.arange(N), labels] = 1.0
    # no class starts empty: give each an equal slice of persons if needed
    for k in np.flatnonzero(tau.sum(axis=0) == 0):
        take = rng.choice(N, size=max(1, N // (2 * K)), replace=False)
        tau[take] = 0.0
        tau[take, k] = 1.0
    return tau


def start_params(
    panel: Panel,
    spec: Spec,
    layout: Layout,
    base: Params,
    features: np.ndarray,
    rng: np.random.Generator,
) -> Params:
    """Parameters of one random start (see the module docstring)."""
    if spec.n_groups == 1:
        return base
    tau = random_partition(features, spec.n_groups, rng)
    params = base
    for _ in range(INITIAL_M_STEPS):
        params, _ = m_step(panel, spec, layout, params, tau)
    return params
