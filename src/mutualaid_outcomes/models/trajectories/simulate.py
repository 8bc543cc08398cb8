"""Simulating from a fitted trajectory model (parametric bootstrap, checks of fit).

A draw keeps the fitted panel's structure (persons, their times and missing waves, and
their covariates), draws each person's class from the membership model and the outcomes
from the class's trajectory and family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._rng import RNGLike, check_rng
from .information import log_prior
from .panel import Panel
from .params import Params, Spec
from .result import TrajectoryResult

__all__ = ["simulate_trajectories", "draw_panel"]


def draw_panel(
    panel: Panel, spec: Spec, params: Params, rng: np.random.Generator
) -> tuple[Panel, np.ndarray]:
    """A panel with outcomes drawn from ``params``, and the drawn classes (0-based)."""
    pi = np.exp(log_prior(panel.Z, params.gamma))
    u = rng.random(panel.n_persons)
    cls = np.minimum((np.cumsum(pi, axis=1) < u[:, None]).sum(axis=1), spec.n_groups - 1)
    k_obs = cls[panel.person]
    eta = np.einsum("np,np->n", panel.X, params.beta[k_obs])
    y = spec.family.simulate(eta, params.anc[k_obs], spec.lower, spec.upper, rng)
    return panel.with_outcome(y), cls


def simulate_trajectories(result: TrajectoryResult, *, rng: RNGLike = None) -> pd.DataFrame:
    """Draw a data set from a fitted trajectory model.

    Parameters
    ----------
    result : TrajectoryResult
        A fitted model.
    rng : int, numpy.random.Generator or None
        Random stream.

    Returns
    -------
    pandas.DataFrame
        The fitted rows' ``id``, ``time``, covariates and time-varying covariates, the drawn
        ``outcome`` and ``true_class`` (the drawn class, numbered as in ``result``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.trajectories import fit_trajectories
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(60), 4), "wave": np.tile(np.arange(4.0), 60)})
    >>> df["y"] = rng.poisson(np.where(df["id"] < 30, 1.0, 6.0))
    >>> res = fit_trajectories(df, "id", "wave", "y", 2, degree=0, family="poisson", n_starts=3, rng=1)
    >>> sim = simulate_trajectories(res, rng=2)
    >>> sim.columns.tolist(), len(sim)
    (['id', 'wave', 'y', 'true_class'], 240)
    """
    gen = check_rng(rng)
    panel = result._panel
    new, cls = draw_panel(panel, result._spec, result._internal, gen)
    out = pd.DataFrame({result.id: panel.ids[panel.person], result.time: panel.time})
    D = panel.max_degree + 1
    for j, c in enumerate(result.tv_covariates):
        out[c] = panel.X[:, D + j] * panel.tv_scale[j] + panel.tv_center[j]
    for j, c in enumerate(result.covariates):
        out[c] = (panel.Z[:, 1 + j] * panel.z_scale[j] + panel.z_center[j])[panel.person]
    out[result.outcome] = new.y
    out["true_class"] = cls[panel.person] + 1
    return out
