"""Simulated daily 1-1-1 mediation data with known within- and between-person effects.

Run from the repository root: ``python tests/reference/multilevel_mediation_data.py``
(writes ``tests/data/multilevel_mediation_sim.csv`` and
``tests/data/multilevel_mediation_binary_sim.csv``, read by
``tests/reference/multilevel_mediation.R`` and
``tests/reference/multilevel_mediation_binary.R``). The tests import :func:`simulate` and
:func:`simulate_binary` for parameter recovery and interval coverage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: true values of simulate()'s defaults
TRUTH = {
    "a": 0.5,
    "b": 0.4,
    "cov_ab": 0.5 * 0.3 * 0.25,
    "direct_within": 0.1,
    "a_between": 0.8,
    "b_between": 0.6,
    "direct_between": 0.0,
}
TRUTH["indirect_within"] = TRUTH["a"] * TRUTH["b"] + TRUTH["cov_ab"]
TRUTH["indirect_between"] = TRUTH["a_between"] * TRUTH["b_between"]

#: true values of simulate_binary()'s defaults (b-paths on the log-odds scale;
#: a_j and b_j independent, so cov(a_j, b_j) = 0)
TRUTH_BINARY = {
    "a": 0.5,
    "b": 0.6,
    "cov_ab": 0.0,
    "direct_within": -0.3,
    "a_between": 0.8,
    "b_between": 0.5,
    "direct_between": 0.0,
}
TRUTH_BINARY["indirect_within"] = TRUTH_BINARY["a"] * TRUTH_BINARY["b"]
TRUTH_BINARY["indirect_between"] = TRUTH_BINARY["a_between"] * TRUTH_BINARY["b_between"]


def simulate(
    n_persons: int = 100,
    n_days: int = 14,
    *,
    seed: int = 0,
    sd_a: float = 0.3,
    sd_b: float = 0.25,
    corr_ab: float = 0.5,
    sd_direct: float = 0.15,
) -> pd.DataFrame:
    """Daily meeting (0/1) -> craving -> drinks with random a, b and direct slopes.

    Person-mean-centred exposure and mediator carry the within-person slopes; the person
    means carry the between-person effects (``TRUTH``).
    """
    g = np.random.default_rng(seed)
    J, T = n_persons, n_days
    pid = np.repeat(np.arange(J), T)
    cov = np.array([[sd_a**2, corr_ab * sd_a * sd_b], [corr_ab * sd_a * sd_b, sd_b**2]])
    ab = g.multivariate_normal([TRUTH["a"], TRUTH["b"]], cov, J)
    p_meet = np.clip(g.normal(0.4, 0.2, J), 0.05, 0.95)
    x = g.binomial(1, p_meet[pid]).astype(float)
    xb = pd.Series(x).groupby(pid).transform("mean").to_numpy()
    m = 1 + ab[pid, 0] * (x - xb) + TRUTH["a_between"] * xb + g.normal(0, 0.7, J)[pid]
    m = m + g.normal(0, 1.0, J * T)
    mb = pd.Series(m).groupby(pid).transform("mean").to_numpy()
    cj = TRUTH["direct_within"] + g.normal(0, sd_direct, J)
    y = 2 + ab[pid, 1] * (m - mb) + TRUTH["b_between"] * mb + cj[pid] * (x - xb)
    y = y + TRUTH["direct_between"] * xb + g.normal(0, 0.6, J)[pid] + g.normal(0, 1.5, J * T)
    return pd.DataFrame(
        {"id": pid, "day": np.tile(np.arange(T), J), "meeting": x, "craving": m, "drinks": y}
    )


def simulate_binary(
    n_persons: int = 100,
    n_days: int = 14,
    *,
    seed: int = 0,
    sd_a: float = 0.3,
    sd_b: float = 0.3,
) -> pd.DataFrame:
    """Daily meeting (0/1) -> craving -> next-day drinking (0/1), logistic outcome.

    ``logit P(drank) = -0.5 + b_j m_w + b_B m_b + c' x_w + c'_B x_b + u_j`` with a random
    intercept ``u_j`` (SD 0.8) and a random slope ``b_j`` (SD ``sd_b``) independent of the
    mediator's random slope ``a_j`` (SD ``sd_a``): the true ``cov(a_j, b_j)`` is 0.
    """
    t = TRUTH_BINARY
    g = np.random.default_rng(seed)
    J, T = n_persons, n_days
    pid = np.repeat(np.arange(J), T)
    aj = t["a"] + g.normal(0, sd_a, J)
    bj = t["b"] + g.normal(0, sd_b, J)
    p_meet = np.clip(g.normal(0.4, 0.2, J), 0.05, 0.95)
    x = g.binomial(1, p_meet[pid]).astype(float)
    xb = pd.Series(x).groupby(pid).transform("mean").to_numpy()
    m = 1 + aj[pid] * (x - xb) + t["a_between"] * xb + g.normal(0, 0.7, J)[pid]
    m = m + g.normal(0, 1.0, J * T)
    mb = pd.Series(m).groupby(pid).transform("mean").to_numpy()
    eta = -0.5 + bj[pid] * (m - mb) + t["b_between"] * (mb - 1.5) + t["direct_within"] * (x - xb)
    eta = eta + t["direct_between"] * xb + g.normal(0, 0.8, J)[pid]
    y = g.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame(
        {"id": pid, "day": np.tile(np.arange(T), J), "meeting": x, "craving": m, "drank": y}
    )


if __name__ == "__main__":
    simulate(60, 10, seed=10).to_csv("tests/data/multilevel_mediation_sim.csv", index=False)
    simulate_binary(150, 14, seed=11).to_csv(
        "tests/data/multilevel_mediation_binary_sim.csv", index=False
    )
