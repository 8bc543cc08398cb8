"""Lagged longitudinal mediation (exposure, then mechanism, then outcome).

The design of Kelly, Hoeppner, Stout & Pagano (2012) and Kelly, Stout, Magill,
Tonigan & Pagano (2011): attendance during months 0-3 predicts the mechanism at
month 9, which predicts drinking at month 15, adjusting for the baseline values of
mechanism and outcome. :func:`lagged_mediation` builds the wide frame with
:func:`~mutualaid_outcomes.prep.panel.lagged_panel` (keeping its account of who
was lost and why) and fits :func:`~mutualaid_outcomes.models.mediation.product.mediate`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 300
>>> aa = rng.poisson(6, n).astype(float)
>>> se0 = rng.normal(size=n)
>>> pda0 = rng.uniform(size=n)
>>> se9 = 0.5 * se0 + 0.1 * aa + rng.normal(size=n)
>>> pda15 = 0.3 * pda0 + 0.1 * se9 + rng.normal(0, 0.2, n)
>>> long = pd.concat([
...     pd.DataFrame({"id": range(n), "month": 0, "aa": np.nan, "se": se0, "pda": pda0}),
...     pd.DataFrame({"id": range(n), "month": 3, "aa": aa, "se": np.nan, "pda": np.nan}),
...     pd.DataFrame({"id": range(n), "month": 9, "aa": np.nan, "se": se9, "pda": np.nan}),
...     pd.DataFrame({"id": range(n), "month": 15, "aa": np.nan, "se": np.nan, "pda": pda15}),
... ])
>>> res = lagged_mediation(long, id="id", time="month", exposure="aa", mediators="se",
...                        outcome="pda", exposure_at=3, mediator_at=9, outcome_at=15,
...                        n_boot=1000, rng=1)
>>> res.tidy()["term"].tolist()[:3]
['a[se_t9]', 'b[se_t9]', 'indirect[se_t9]']
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from ..._rng import check_rng, seed_of
from ..._validation import as_column_list, check_columns, check_dataframe, renamed
from ...errors import ArgumentTypeError, DataValidationError
from ...prep.panel import lagged_panel
from .product import CIType, MediationResult, ModelType, OutcomeFamily, OutcomeLink, mediate

__all__ = ["lagged_mediation"]


def _check_order(waves: dict[str, Any]) -> None:
    vals = list(waves.values())
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals):
        return
    order = ["baseline_at", "exposure_at", "mediator_at", "outcome_at"]
    present = [k for k in order if k in waves]
    for first, second in zip(present, present[1:]):
        strict = not (first == "baseline_at" and second == "exposure_at")
        a, b = float(waves[first]), float(waves[second])
        if (strict and not a < b) or (not strict and not a <= b):
            rel = "before" if strict else "no later than"
            raise DataValidationError(
                f"`{first}` ({waves[first]}) must be {rel} `{second}` ({waves[second]}): a "
                "lagged design measures baseline, exposure, mediators and outcome in that "
                "order."
            )


@renamed(panel="data")
def lagged_mediation(
    data: pd.DataFrame,
    *,
    id: str,
    time: str,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    exposure_at: Any,
    mediator_at: Any,
    outcome_at: Any,
    adjust_baseline: bool = True,
    baseline_at: Any = None,
    covariates: str | Sequence[str] = (),
    model: ModelType = "parallel",
    outcome_family: OutcomeFamily = "gaussian",
    outcome_link: OutcomeLink | None = None,
    n_boot: int | None = None,
    n_sims: int | None = None,
    ci: CIType = "bca",
    conf_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> MediationResult:
    """Mediation with exposure, mediators and outcome measured at successive waves.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per person and wave. Not modified.
    id : str
        Person identifier column.
    time : str
        Wave column (e.g. ``month``).
    exposure : str
        Exposure column (e.g. ``aa_meetings``), taken at ``exposure_at``.
    mediators : list of str
        Mechanism columns, taken at ``mediator_at`` (a single name is accepted as a
        one-element list).
    outcome : str
        Outcome column (e.g. ``pda``), taken at ``outcome_at``.
    exposure_at, mediator_at, outcome_at : scalar
        Waves, in increasing order.
    adjust_baseline : bool
        Add the baseline values of every mediator and of the outcome as covariates in
        every equation (default, as in Kelly et al. 2012).
    baseline_at : scalar, optional
        Baseline wave; the earliest wave in ``data`` by default. Must not be later than
        ``exposure_at``.
    covariates : str or sequence of str
        Time-invariant covariates (arm, sex, age), taken from each person's earliest row.
    model : {"parallel", "serial"}
        As in :func:`~mutualaid_outcomes.models.mediation.product.mediate`.
    outcome_family : {"gaussian", "binomial"}
        As in :func:`~mutualaid_outcomes.models.mediation.product.mediate`.
    outcome_link : {"identity", "logit"}, optional
        As in :func:`~mutualaid_outcomes.models.mediation.product.mediate`.
    n_boot : int, optional
        Bootstrap resamples (people are resampled; one row per person); default 5000.
    n_sims : int, optional
        Monte Carlo draws for ``ci="monte_carlo"``; default 5000.
    ci : {"bca", "percentile", "monte_carlo"}
        Interval type.
    conf_level : float
        Confidence level.
    rng : int, numpy.random.Generator or None
        Random source (keyword-only); an integer seed is recorded in ``glance()``.

    Returns
    -------
    MediationResult
        Terms are named after the wide columns, e.g. ``a[cesd_t9]``,
        ``indirect[cesd_t9]``. ``glance()["n_dropped"]`` counts the people excluded while
        building the panel (missing wave rows or values); the notes repeat the panel's
        step-by-step account.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        Waves out of order, a column in two roles, duplicated person-wave rows, or a
        requested wave absent from the data (see :func:`lagged_panel`).
    EstimationError
        No complete person remains, or the models cannot be fitted.

    Notes
    -----
    The analysis frame has one row per person: ``X`` at ``exposure_at``, ``M_j`` at
    ``mediator_at``, ``Y`` at ``outcome_at`` and (with ``adjust_baseline``) ``M_j`` and
    ``Y`` at ``baseline_at``. The equations are those of :func:`mediate` with the baseline
    values among the covariates, so the a-paths are effects on change in the mechanism
    and the b-paths effects of the mechanism on change in the outcome. People missing a
    needed wave or value are excluded (complete-case analysis), and each exclusion step is
    reported. Validated by rebuilding the wide frame independently (pandas pivot) and
    comparing with :func:`mediate` on it, to machine precision.

    References
    ----------
    Kelly, J. F., Hoeppner, B., Stout, R. L. & Pagano, M. (2012). Determining the relative
    importance of the mechanisms of behavior change within Alcoholics Anonymous.
    *Addiction*, 107, 289-299.
    Kelly, J. F., Stout, R. L., Magill, M., Tonigan, J. S. & Pagano, M. E. (2011).
    Spirituality in recovery: a lagged mediational analysis of Alcoholics Anonymous'
    principal theoretical mechanism of behavior change. *Alcoholism: Clinical and
    Experimental Research*, 35, 454-463.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(4)
    >>> rows = []
    >>> for pid in range(200):
    ...     x = rng.normal()
    ...     m0, y0 = rng.normal(), rng.normal()
    ...     m9 = 0.5 * x + 0.4 * m0 + rng.normal()
    ...     y15 = 0.4 * m9 + 0.3 * y0 + rng.normal()
    ...     rows += [(pid, 0, np.nan, m0, y0), (pid, 3, x, np.nan, np.nan),
    ...              (pid, 9, np.nan, m9, np.nan), (pid, 15, np.nan, np.nan, y15)]
    >>> long = pd.DataFrame(rows, columns=["id", "month", "aa", "se", "pda"])
    >>> res = lagged_mediation(long, id="id", time="month", exposure="aa", mediators="se",
    ...                        outcome="pda", exposure_at=3, mediator_at=9, outcome_at=15,
    ...                        n_boot=1000, ci="percentile", rng=2)
    >>> res.glance()[["n", "n_dropped"]]
         n  n_dropped
    0  200          0
    """
    panel = check_dataframe(data)
    meds, covs = _check_columns(panel, id, time, exposure, mediators, outcome, covariates)
    if not isinstance(adjust_baseline, bool):
        raise ArgumentTypeError(
            f"`adjust_baseline` must be True or False; got {adjust_baseline!r}."
        )
    waves = {"exposure_at": exposure_at, "mediator_at": mediator_at, "outcome_at": outcome_at}
    if adjust_baseline:
        if baseline_at is None:
            baseline_at = panel[time].dropna().min()
        waves = {"baseline_at": baseline_at, **waves}
    _check_order(waves)
    variables: dict[str, Any] = {exposure: exposure_at, outcome: outcome_at}
    for m in meds:
        variables[m] = mediator_at
    built = lagged_panel(
        panel,
        id=id,
        time=time,
        variables=variables,
        baseline=[*meds, outcome] if adjust_baseline else None,
        baseline_time=baseline_at if adjust_baseline else None,
        invariant=covs or None,
        dropna=True,
    )
    x_name = built.name(exposure, exposure_at)
    m_names = [built.name(m, mediator_at) for m in meds]
    y_name = built.name(outcome, outcome_at)
    base_names = [built.name(c, baseline_at) for c in [*meds, outcome]] if adjust_baseline else []
    gen = check_rng(rng)
    fitted = mediate(
        built.frame,
        x_name,
        m_names,
        y_name,
        [*covs, *base_names],
        model=model,
        outcome_family=outcome_family,
        outcome_link=outcome_link,
        n_boot=n_boot,
        n_sims=n_sims,
        ci=ci,
        conf_level=conf_level,
        rng=gen,
    )
    result = cast(MediationResult, fitted)  # no `indicators`: observed mediators
    panel_note = " ".join(line.strip() for line in built.describe().splitlines())
    notes = (panel_note, *result.notes)
    if adjust_baseline:
        notes += (f"Baseline ({time}={baseline_at}) values of mediators and outcome adjusted for.",)
    return dataclasses.replace(
        result,
        n_dropped=int(built.n_dropped + result.n_dropped),
        seed=seed_of(rng),
        notes=notes,
    )


def _check_columns(
    panel: pd.DataFrame,
    id: Any,
    time: Any,
    exposure: Any,
    mediators: Any,
    outcome: Any,
    covariates: Any,
) -> tuple[list[str], list[str]]:
    """Role columns are single names that exist, distinct; mediator and covariate lists."""
    for arg, value in (("id", id), ("time", time), ("exposure", exposure), ("outcome", outcome)):
        if not isinstance(value, str):
            raise ArgumentTypeError(
                f"`{arg}` must be one column name (a string); got {type(value).__name__}."
            )
    meds = as_column_list(mediators, "mediators")
    covs = as_column_list(covariates, "covariates")
    if not meds:
        raise DataValidationError("`mediators` must name at least one column.")
    check_columns(panel, [id], "id")
    check_columns(panel, [time], "time")
    check_columns(panel, [exposure], "exposure")
    check_columns(panel, meds, "mediators")
    check_columns(panel, [outcome], "outcome")
    check_columns(panel, covs, "covariates")
    roles = [exposure, *meds, outcome]
    if len(set(roles)) != len(roles):
        raise DataValidationError(
            "`exposure`, `mediators` and `outcome` must be distinct columns; got "
            f"exposure='{exposure}', mediators={meds}, outcome='{outcome}'."
        )
    clash = sorted(set(covs) & {id, time, *roles})
    if clash:
        raise DataValidationError(
            f"`covariates` {clash} also appear as id, time, exposure, mediator or outcome."
        )
    return meds, covs
