"""Power by simulation for mediation and survival designs.

:func:`power_mediation` and :func:`power_survival` simulate data sets from a
user-specified model (or, for mediation, from any data generator such as the
sample cohort's, see
:func:`~mutualaid_outcomes.datasets.sample_cohort_mediation_data`) at every sample
size of a grid, analyse each one and report the proportion of rejections with its Monte
Carlo error. Replicates run serially, on joblib workers or on a Dask cluster
through :func:`mutualaid_outcomes.parallel.run_replicates`; the random stream of
each replicate depends only on the seed, the grid position and the replicate
index, so results are identical for any number of workers.

Examples
--------
>>> res = power_survival([200, 400], hazard_ratio=0.6, event_prob=0.5, n_sims=200, rng=1)
>>> res.tidy()[["term", "n", "estimate"]].round(2)
     term    n  estimate
0  log_hr  200      0.64
1  log_hr  400      0.88
"""

from ._result import POWER_GLANCE_COLUMNS, PowerResult
from ._simulation_core import DEFAULT_N_SIMS, PILOT_SIMS, PowerBudgetError
from .mediation import power_mediation
from .survival import power_survival, schoenfeld_events, score_test_statistic

__all__ = [
    "DEFAULT_N_SIMS",
    "PILOT_SIMS",
    "POWER_GLANCE_COLUMNS",
    "PowerBudgetError",
    "PowerResult",
    "power_mediation",
    "power_survival",
    "schoenfeld_events",
    "score_test_statistic",
]
