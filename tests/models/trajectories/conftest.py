"""Simulated panels with known trajectory classes, shared by the trajectory tests."""

import numpy as np
import pandas as pd
import pytest

# Three classes on raw time 0..5 (linear-predictor scale): low-flat, rising-then-falling,
# high-declining.
TRUE_COEFS = {
    "gaussian": np.array([[1.0, 0.0, 0.0], [3.0, 1.2, -0.2], [8.0, -1.0, 0.05]]),
    "poisson": np.array([[-1.0, 0.0, 0.0], [0.5, 0.5, -0.08], [2.0, -0.3, 0.0]]),
    "zip": np.array([[-1.0, 0.0, 0.0], [0.5, 0.5, -0.08], [2.0, -0.3, 0.0]]),
    "logit": np.array([[-2.5, 0.0, 0.0], [-1.0, 1.2, -0.15], [2.5, -0.6, 0.0]]),
    "cnorm": np.array([[5.0, 0.0, 0.0], [30.0, 8.0, -1.0], [90.0, -5.0, 0.0]]),
}
TRUE_SHARES = np.array([0.5, 0.3, 0.2])


def simulate_panel(
    rng,
    family="gaussian",
    n=600,
    n_waves=6,
    shares=TRUE_SHARES,
    coefs=None,
    sigma=1.0,
    zero_prob=0.2,
    missing=0.1,
):
    """Long panel with columns id, time, y and the persons' true classes (0-based)."""
    coefs = TRUE_COEFS[family] if coefs is None else coefs
    cls = rng.choice(len(shares), size=n, p=shares)
    t = np.arange(n_waves, dtype=float)
    B = coefs[cls]
    eta = B[:, [0]] + B[:, [1]] * t + B[:, [2]] * t**2
    if family == "gaussian":
        y = eta + sigma * rng.standard_normal(eta.shape)
    elif family == "cnorm":
        y = np.clip(eta + sigma * rng.standard_normal(eta.shape), 0.0, 100.0)
    elif family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    elif family == "zip":
        y = rng.poisson(np.exp(eta)) * (rng.random(eta.shape) > zero_prob)
    else:
        y = (rng.random(eta.shape) < 1 / (1 + np.exp(-eta))).astype(float)
    df = pd.DataFrame(
        {"id": np.repeat(np.arange(n), n_waves), "time": np.tile(t, n), "y": y.ravel()}
    )
    keep = (df["time"] == 0) | (rng.random(len(df)) > missing)
    return df[keep].reset_index(drop=True), cls


def adjusted_rand_index(a, b):
    """Hubert & Arabie's adjusted Rand index of two labelings."""
    a = np.asarray(a)
    b = np.asarray(b)
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)

    def c2(x):
        return np.sum(x * (x - 1) / 2)

    index = c2(table)
    ra, rb, n = c2(table.sum(1)), c2(table.sum(0)), len(a)
    expected = ra * rb / (n * (n - 1) / 2)
    return (index - expected) / ((ra + rb) / 2 - expected)


@pytest.fixture(scope="session")
def sim():
    return simulate_panel


@pytest.fixture(scope="session")
def ari():
    return adjusted_rand_index


@pytest.fixture(scope="session")
def truth():
    return {"coefs": TRUE_COEFS, "shares": TRUE_SHARES}
