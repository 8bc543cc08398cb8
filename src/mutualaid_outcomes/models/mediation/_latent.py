"""Latent mediators in :func:`~mutualaid_outcomes.models.mediation.product.mediate`.

When ``mediate`` is given ``indicators={"support": ["s1", "s2", "s3"]}``, the mediators
named there are latent variables measured by those columns. The model is then one
structural equation model, fitted by
:func:`~mutualaid_outcomes.models.sem.latent_mediation` (there is a single
implementation); this module only translates ``mediate``'s options into that
function's and refuses the ones that have no SEM counterpart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ...errors import OptionError
from ..sem.latent_mediation import LatentMediationResult, latent_mediation

__all__ = ["mediate_latent"]


def mediate_latent(
    data: pd.DataFrame,
    exposure: str,
    mediators: Sequence[str],
    outcome: str,
    covariates: Sequence[str],
    *,
    indicators: Mapping[str, Sequence[str]],
    model: str,
    outcome_family: str,
    cluster: str | None,
    n_draws: int,
    ci: str,
    conf_level: float,
    rng: Any,
) -> LatentMediationResult:
    """Fit ``mediate(..., indicators=...)`` as a latent-mediator SEM.

    ``n_draws`` is the number of bootstrap resamples (``ci="bca"`` or
    ``"percentile"``) or Monte Carlo draws (``ci="monte_carlo"``), as ``mediate``
    resolved it from ``n_boot`` / ``n_sims``.

    Raises
    ------
    OptionError
        ``model="serial"`` or a binomial outcome (not available with latent mediators).
    """
    if model != "parallel":
        raise OptionError(
            f"`model='{model}'` is not available with latent mediators (`indicators`); "
            "latent mediators are fitted as parallel mediators (model='parallel'). For a "
            "serial chain write the structural equation model with `fit_sem`."
        )
    if outcome_family != "gaussian":
        raise OptionError(
            f"`outcome_family='{outcome_family}'` is not available with latent mediators "
            "(`indicators`): the structural equation model is linear (outcome_family="
            "'gaussian')."
        )
    return latent_mediation(
        data,
        exposure,
        list(mediators),
        outcome,
        indicators=indicators,
        covariates=list(covariates),
        n_boot=n_draws,
        ci=ci,  # type: ignore[arg-type]
        conf_level=conf_level,
        cluster=cluster,
        rng=rng,
    )
