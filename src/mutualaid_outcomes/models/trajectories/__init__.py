"""Group-based trajectory models (latent class growth analysis).

* :func:`fit_trajectories` -- a finite mixture of polynomial growth curves (normal,
  censored normal, Poisson, zero-inflated Poisson or logistic), by EM with Newton
  polishing from many random starts, with SEs from the observed information;
* :func:`compare_trajectories` -- fits for a range of class numbers with BIC, AIC,
  entropy, smallest class and a bootstrap likelihood-ratio test;
* :func:`distal_outcome` -- class-specific means of a later outcome, corrected for
  classification error by the BCH method.

Figures: :func:`mutualaid_outcomes.plotting.trajectory_classes.plot_trajectory_classes`.
"""

from .compare import TrajectoryComparisonResult, compare_trajectories
from .distal import DistalOutcomeResult, distal_outcome
from .fit import fit_trajectories
from .result import TRAJECTORY_GLANCE_COLUMNS, TrajectoryResult
from .simulate import simulate_trajectories

__all__ = [
    "fit_trajectories",
    "TrajectoryResult",
    "TRAJECTORY_GLANCE_COLUMNS",
    "compare_trajectories",
    "TrajectoryComparisonResult",
    "distal_outcome",
    "DistalOutcomeResult",
    "simulate_trajectories",
]
