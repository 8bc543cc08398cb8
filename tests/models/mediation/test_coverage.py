"""Coverage of bootstrap intervals for indirect effects (slow; run with ``-m slow``).

The full study, with the sample cohort's data-generating process, is
``benchmarks/coverage_mediation.py``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models._core import bootstrap as bs
from mutualaid_outcomes.models.mediation.product import mediate

REPLICATES = 500
#: A 95% interval's coverage estimated from 500 replicates has MC SE ~1%; accept
#: 95% +- 2.5 SE (a correct method fails this check about 1% of the time).
LOW, HIGH = (
    0.95 - 2.5 * math.sqrt(0.95 * 0.05 / REPLICATES),
    0.95 + 2.5 * math.sqrt(0.95 * 0.05 / REPLICATES),
)


@pytest.mark.slow
def test_percentile_and_bca_coverage_linear_dgp():
    seeds = np.random.SeedSequence(77).spawn(REPLICATES)
    a, b = 0.4, 0.3
    hits = {"bca": 0, "percentile": 0}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        n = 250
        c = rng.normal(size=n)
        x = rng.normal(size=n) + 0.3 * c
        m = a * x + 0.2 * c + (rng.exponential(size=n) - 1)
        y = b * m + 0.1 * x + 0.2 * c + rng.normal(size=n)
        df = pd.DataFrame({"x": x, "m": m, "c": c, "y": y})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = mediate(df, "x", ["m"], "y", ["c"], n_boot=1000, rng=rng)
            t = res.tidy().set_index("term").loc["indirect[m]"]
        hits["bca"] += t["conf_low"] <= a * b <= t["conf_high"]
        j = res.terms.index("indirect[m]")
        low, high = bs.percentile_interval(res.draws.to_numpy()[:, [j]], 0.95)
        hits["percentile"] += low[0] <= a * b <= high[0]
    for kind, count in hits.items():
        assert LOW <= count / REPLICATES <= HIGH, (kind, count / REPLICATES)
