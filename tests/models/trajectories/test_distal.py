"""BCH distal outcomes: the correction removes the bias of modal assignment (simulation)."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from mutualaid_outcomes.errors import DataValidationError, OptionError
from mutualaid_outcomes.models.trajectories import distal_outcome, fit_trajectories
from mutualaid_outcomes.models.trajectories.distal import bch_weights

DISTAL_MEANS = np.array([0.0, 1.0, 2.0])


def _simulate(rng, n=2000, sd=3.0):
    """Three linear classes (entropy about 0.73) and a normal distal outcome."""
    cls = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    t = np.arange(6.0)
    B = np.array([[0.0, 0.0], [3.0, 0.6], [6.0, -0.6]])
    y = B[cls, 0][:, None] + B[cls, 1][:, None] * t + sd * rng.normal(size=(n, 6))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 6), "t": np.tile(t, n), "y": y.ravel()})
    later = pd.DataFrame({"id": np.arange(n), "z": DISTAL_MEANS[cls] + rng.normal(size=n)})
    return df, later, cls


def _match(res, cls):
    """True class of each estimated class (by the overlap of modal and true classes)."""
    modal = res.posterior["class"].to_numpy() - 1
    overlap = np.zeros((3, 3))
    np.add.at(overlap, (modal, cls), 1)
    rows, cols = linear_sum_assignment(-overlap)
    return cols[np.argsort(rows)]


@pytest.fixture(scope="module")
def fitted():
    df, later, cls = _simulate(np.random.default_rng(1))
    res = fit_trajectories(df, "id", "t", "y", 3, degree=1, n_starts=6, rng=1)
    return res, later, cls


def test_bch_removes_modal_bias(fitted):
    """One large sample: BCH within sampling error of the truth, modal means biased."""
    res, later, cls = fitted
    truth = DISTAL_MEANS[_match(res, cls)]
    bch = distal_outcome(res, later, "z").tidy()
    modal = distal_outcome(res, later, "z", method="modal").tidy()
    z_bch = (bch["estimate"] - truth) / bch["std_error"]
    z_modal = (modal["estimate"] - truth) / modal["std_error"]
    assert np.all(np.abs(z_bch) < 3), z_bch.round(2).tolist()
    # modal assignment pulls the class means towards each other
    assert np.sum(np.abs(z_modal) > 3) >= 2, z_modal.round(2).tolist()
    assert np.ptp(modal["estimate"]) < np.ptp(bch["estimate"])


def test_bch_algebra(fitted):
    res, later, _ = fitted
    tau = res._tau()
    W, D = bch_weights(tau)
    np.testing.assert_allclose(D.sum(axis=1), 1.0)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)  # rows of D^-1 sum to one
    r = distal_outcome(res, later, "z")
    z = later.set_index("id").loc[res.posterior["id"], "z"].to_numpy()
    np.testing.assert_allclose(r.means, (W * z[:, None]).sum(0) / W.sum(0))
    np.testing.assert_allclose(r.error_matrix, D)
    g = r.glance().iloc[0]
    assert g["method"] == "bch" and g["n"] == 2000 and g["df"] == 2 and g["min_weight"] < 0
    c = r.contrasts()
    assert c["term"].tolist() == ["class2 - class1", "class3 - class1", "class3 - class2"]
    assert c.loc[0, "estimate"] == pytest.approx(r.means[1] - r.means[0])


def test_perfect_classification_equals_modal():
    rng = np.random.default_rng(2)
    n, t = 200, np.arange(4.0)
    hi = rng.random(n) < 0.5
    y = np.where(hi[:, None], 20.0, 0.0) + t + rng.normal(size=(n, 4))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "t": np.tile(t, n), "y": y.ravel()})
    res = fit_trajectories(df, "id", "t", "y", 2, degree=1, n_starts=3, rng=1)
    later = pd.DataFrame({"id": np.arange(n), "z": rng.normal(size=n) + hi})
    a = distal_outcome(res, later, "z")
    b = distal_outcome(res, later, "z", method="modal")
    np.testing.assert_allclose(a.means, b.means, atol=1e-10)
    groups = later["z"].groupby(hi).mean().to_numpy()
    np.testing.assert_allclose(a.means, groups, atol=1e-10)


def test_binary_distal_and_repeated_rows(fitted):
    res, later, _ = fitted
    binary = later.assign(z=(later["z"] > 1).astype(float))
    long = pd.concat([binary, binary], ignore_index=True)  # the same value on two rows
    a = distal_outcome(res, binary, "z")
    b = distal_outcome(res, long, "z")
    np.testing.assert_allclose(a.means, b.means)
    part = binary.iloc[:1500]
    c = distal_outcome(res, part, "z").glance().iloc[0]
    assert c["n"] == 1500 and c["n_excluded"] == 500


def test_distal_bad_input(fitted):
    res, later, _ = fitted
    varying = pd.concat([later, later.assign(z=later["z"] + 1)], ignore_index=True)
    with pytest.raises(DataValidationError, match="one value per person"):
        distal_outcome(res, varying, "z")
    with pytest.raises(DataValidationError, match="No person of the trajectory fit"):
        distal_outcome(res, later.assign(id=later["id"] + 10_000), "z")
    with pytest.raises(OptionError, match="`method` must be one of"):
        distal_outcome(res, later, "z", method="three_step")
    with pytest.raises(DataValidationError, match="numeric"):
        distal_outcome(res, later.assign(z="a"), "z")


@pytest.mark.slow
def test_bch_monte_carlo():
    """40 replicates of 1,000 persons: BCH unbiased with near-nominal coverage, modal biased."""
    rng = np.random.default_rng(2024)
    bias_b, bias_m, cover = [], [], []
    for _ in range(40):
        df, later, cls = _simulate(rng, n=1000)
        res = fit_trajectories(df, "id", "t", "y", 3, degree=1, n_starts=5, rng=rng)
        truth = DISTAL_MEANS[_match(res, cls)]
        b = distal_outcome(res, later, "z").tidy()
        m = distal_outcome(res, later, "z", method="modal").tidy()
        bias_b.append(b["estimate"] - truth)
        bias_m.append(m["estimate"] - truth)
        cover.append((b["conf_low"] <= truth) & (truth <= b["conf_high"]))
    bias_b, bias_m = np.array(bias_b), np.array(bias_m)
    mc_se = bias_b.std(axis=0, ddof=1) / np.sqrt(len(bias_b))
    print(
        f"BCH bias {bias_b.mean(axis=0).round(3)} (MC SE {mc_se.round(3)}), modal bias "
        f"{bias_m.mean(axis=0).round(3)}, BCH 95% coverage {np.mean(cover):.3f}"
    )
    assert np.all(np.abs(bias_b.mean(axis=0)) < 3 * mc_se + 0.02)
    # modal means of the two smaller classes are off by far more than Monte Carlo error
    assert np.sum(np.abs(bias_m.mean(axis=0)) > 5 * mc_se) >= 2
    assert 0.85 <= np.mean(cover) <= 0.99
