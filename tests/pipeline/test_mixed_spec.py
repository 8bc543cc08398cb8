"""A spec runs mixed models with several random-effect terms and binomial trials.

The fitted coefficients written by the pipeline equal a direct ``fit_mixed`` call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.models.regression.mixed import fit_mixed
from mutualaid_outcomes.pipeline.runner import run_spec_file

SPEC = """\
title = "Mixed models"
seed = 1

[data]
path = "data.csv"

[[models]]
name = "nested"
type = "mixed"
formula = "score ~ x + (1 | site/id)"

[[models]]
name = "trials"
type = "mixed"
formula = "hits ~ x + (1 | id)"
family = "binomial"
trials = "tries"

[output]
table_formats = ["csv"]
figure_formats = ["png"]
"""


@pytest.fixture
def project(tmp_path):
    rng = np.random.default_rng(11)
    sites, per_site, waves = 8, 6, 4
    site = np.repeat(np.arange(sites), per_site * waves)
    person = np.repeat(np.arange(sites * per_site), waves)
    x = rng.normal(size=len(site))
    u_site = rng.normal(0, 0.7, sites)[site]
    u_id = rng.normal(0, 0.5, sites * per_site)[person]
    tries = rng.integers(1, 6, len(site))
    eta = -0.2 + 0.6 * x + u_id
    frame = pd.DataFrame(
        {
            "site": site + 1,
            "id": person + 1,
            "x": x.round(6),
            "score": (1.0 + 0.5 * x + u_site + u_id + rng.normal(0, 1, len(site))).round(6),
            "tries": tries,
            "hits": rng.binomial(tries, 1 / (1 + np.exp(-eta))),
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "analysis.toml").write_text(SPEC, encoding="utf-8")
    return tmp_path, frame


def test_spec_fits_nested_terms_and_binomial_trials(project):
    root, frame = project
    out = root / "out"
    run_spec_file(root / "analysis.toml", out, progress=False)
    nested = pd.read_csv(out / "tables" / "model_nested_tidy.csv").set_index("term")
    direct = fit_mixed(frame, "score ~ x + (1 | site/id)")
    np.testing.assert_allclose(nested.loc[["Intercept", "x"], "estimate"], direct.coef(),
                               rtol=1e-10)  # fmt: skip
    trials = pd.read_csv(out / "tables" / "model_trials_tidy.csv").set_index("term")
    direct = fit_mixed(frame, "hits ~ x + (1 | id)", family="binomial", trials="tries")
    np.testing.assert_allclose(trials.loc[["Intercept", "x"], "estimate"], direct.coef(),
                               rtol=1e-10)  # fmt: skip


def test_spec_cbind_is_refused_with_the_trials_option_named(project):
    root, _ = project
    spec = (
        (root / "analysis.toml")
        .read_text()
        .replace('formula = "hits ~ x + (1 | id)"', 'formula = "cbind(hits, tries) ~ x + (1 | id)"')
    )
    (root / "bad.toml").write_text(spec, encoding="utf-8")
    with pytest.raises(SpecError, match='trials = "column"'):
        run_spec_file(root / "bad.toml", root / "out_bad", progress=False)
