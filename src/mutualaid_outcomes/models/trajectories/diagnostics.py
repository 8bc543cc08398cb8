r"""Classification diagnostics of a trajectory model: entropy, AvePP, OCC, shares.

With posterior probabilities :math:`\tau_{ik}`, modal assignment
:math:`c_i = \arg\max_k \tau_{ik}` and estimated shares :math:`\pi_k`:

* relative entropy :math:`E_K = 1 - \sum_i \sum_k -\tau_{ik} \log \tau_{ik} / (N \log K)`
  (Ramaswamy et al. 1993; Mplus' "entropy"), 1 for perfect separation;
* average posterior probability of class :math:`k`, AvePP, the mean of :math:`\tau_{ik}`
  over persons assigned to :math:`k` (Nagin 2005 recommends at least 0.7);
* odds of correct classification
  :math:`OCC_k = [AvePP_k / (1 - AvePP_k)] / [\pi_k / (1 - \pi_k)]` (at least 5);
* the estimated share :math:`\pi_k` beside the share assigned to :math:`k`; large gaps
  signal classification error.

References
----------
Nagin DS (2005). *Group-Based Modeling of Development*. Harvard University Press, ch. 5.

Ramaswamy V, DeSarbo WS, Reibstein DJ, Robinson WT (1993). An empirical pooling approach
for estimating marketing mix elasticities with PIMS data. *Marketing Science* 12:103-124.

Examples
--------
>>> import numpy as np
>>> tau = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
>>> round(relative_entropy(tau), 3)
0.447
>>> class_table(tau, tau.mean(axis=0))[["class", "n_assigned", "avepp"]].round(2)
   class  n_assigned  avepp
0      1           2   0.85
1      2           1   0.90
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["relative_entropy", "class_table", "boundary_classes"]

BOUNDARY_ETA = 25.0  # |linear predictor| beyond which a probability or mean is at its limit


def relative_entropy(tau: np.ndarray) -> float:
    """Relative entropy of the posterior probabilities (NaN for one class)."""
    N, K = tau.shape
    if K < 2:
        return float("nan")
    ent = -np.sum(special.xlogy(tau, tau))
    return float(1.0 - ent / (N * np.log(K)))


def class_table(tau: np.ndarray, shares: np.ndarray) -> pd.DataFrame:
    """Per class: estimated and assigned shares, persons assigned, AvePP and OCC."""
    N, K = tau.shape
    modal = np.argmax(tau, axis=1)
    n_assigned = np.bincount(modal, minlength=K)
    sums = np.array([tau[modal == k, k].sum() for k in range(K)])
    with np.errstate(divide="ignore", invalid="ignore"):
        avepp = np.where(n_assigned > 0, sums / n_assigned, np.nan)
        occ = (avepp / (1.0 - avepp)) / (shares / (1.0 - shares))
    if K == 1:
        occ = np.full(1, np.nan)
    return pd.DataFrame(
        {
            "class": np.arange(1, K + 1),
            "share": shares,
            "share_assigned": n_assigned / N,
            "n_assigned": n_assigned,
            "avepp": avepp,
            "occ": occ,
        }
    )


def boundary_classes(family: str, eta: np.ndarray, w: np.ndarray) -> list[int]:
    """Classes (0-based) whose linear predictor sits at a limit for most of their weight.

    For ``logit`` a fitted probability at 0 or 1, for ``poisson``/``zip`` a mean at 0: the
    likelihood then increases towards a boundary and the coefficients (and their SEs)
    are not finite-sample meaningful (quasi-complete separation).
    """
    if family == "logit":
        at = np.abs(eta) > BOUNDARY_ETA
    elif family in ("poisson", "zip"):
        at = eta < -BOUNDARY_ETA
    else:
        return []
    tot = w.sum(axis=0)
    frac = (w * at).sum(axis=0) / np.where(tot > 0, tot, 1.0)
    return [int(k) for k in np.flatnonzero(frac > 0.5)]
