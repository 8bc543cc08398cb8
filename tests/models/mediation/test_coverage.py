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


#: The brief for moderated mediation: coverage of the index CI within 93-97% (about
#: 95% +- 2 MC SE for 500 replicates).
INDEX_LOW, INDEX_HIGH = 0.93, 0.97


@pytest.mark.slow
def test_index_of_moderated_mediation_coverage():
    """PROCESS model 7 with a skewed mediator error: index a3 * b = 0.3 * 0.4."""
    seeds = np.random.SeedSequence(1605).spawn(REPLICATES)
    a1, a3, b = 0.4, 0.3, 0.4
    hits = {"bca": 0, "percentile": 0}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        n = 300
        c = rng.normal(size=n)
        x = rng.binomial(1, 0.5, n).astype(float)
        w = rng.normal(size=n) + 0.3 * c
        m = a1 * x + 0.2 * w + a3 * x * w + 0.2 * c + (rng.exponential(size=n) - 1)
        y = b * m + 0.1 * x + 0.2 * c + rng.normal(size=n)
        df = pd.DataFrame({"x": x, "w": w, "m": m, "c": c, "y": y})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = mediate(df, "x", ["m"], "y", ["c"], moderator="w", moderated_paths=["a"],
                          n_boot=1000, rng=rng)  # fmt: skip
            t = res.tidy().set_index("term").loc["index[m]"]
        hits["bca"] += t["conf_low"] <= a3 * b <= t["conf_high"]
        j = res.terms.index("index[m]")
        low, high = bs.percentile_interval(res.draws.to_numpy()[:, [j]], 0.95)
        hits["percentile"] += low[0] <= a3 * b <= high[0]
    for kind, count in hits.items():
        assert INDEX_LOW <= count / REPLICATES <= INDEX_HIGH, (kind, count / REPLICATES)
