"""Meta-analysis: effect sizes, fixed- and random-effects models, meta-regression, diagnostics.

The functions follow R metafor (Viechtbauer 2010) and are validated against it
(tests/reference/meta_metafor.R):

* :func:`effect_sizes` -- effect sizes and sampling variances (``escalc``);
* :func:`meta_analysis` -- fixed-effect and random-effects models with the REML, ML, DL, PM,
  SJ and HE estimators of tau^2, Knapp-Hartung tests, prediction intervals, Q, I^2, H^2,
  Q-profile intervals, meta-regression and subgroup analysis (``rma.uni``);
* :func:`leave_one_out`, :func:`influence_diagnostics`, :func:`egger_test`,
  :func:`trim_and_fill` -- ``leave1out``, ``influence``, ``regtest`` and ``trimfill``.

Figures are in :mod:`mutualaid_outcomes.plotting.meta` (forest and funnel plots) and the
table in :mod:`mutualaid_outcomes.tables.meta_table`.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.models.meta import effect_sizes, meta_analysis
>>> trials = pd.DataFrame({"study": ["A", "B", "C"], "e1": [4, 6, 3], "n1": [123, 306, 231],
...                        "e2": [11, 29, 11], "n2": [139, 303, 220]})
>>> es = effect_sizes(trials, "RR", events1="e1", n1="n1", events2="e2", n2="n2")
>>> res = meta_analysis(es, study="study")
>>> res.tidy(exponentiate=True)[["term", "estimate"]].round(3)
      term  estimate
0  overall     0.264
"""

from .analysis import meta_analysis
from .diagnostics import (
    EggerTestResult,
    InfluenceResult,
    LeaveOneOutResult,
    egger_test,
    influence_diagnostics,
    leave_one_out,
)
from .effect_sizes import MEASURES, RATIO_MEASURES, effect_sizes
from .results import META_GLANCE_COLUMNS, MetaResult
from .tau2 import TAU2_METHODS
from .trimfill import TrimFillResult, trim_and_fill

__all__ = [
    "effect_sizes",
    "meta_analysis",
    "MetaResult",
    "leave_one_out",
    "LeaveOneOutResult",
    "influence_diagnostics",
    "InfluenceResult",
    "egger_test",
    "EggerTestResult",
    "trim_and_fill",
    "TrimFillResult",
    "MEASURES",
    "RATIO_MEASURES",
    "TAU2_METHODS",
    "META_GLANCE_COLUMNS",
]
