"""True effects of the sample cohort's data-generating process.

Structural parameters are known exactly. Estimands that are population regression
coefficients of the non-linear process (a-paths, b-paths, indirect, direct and
total effects of the lagged mediation model, the arm effect on attendance) are
computed once by a large simulation with :func:`compute_truth` and stored in
``truth.json`` next to the sample files; :func:`sample_truth` returns them.

Run ``python -m mutualaid_outcomes.datasets.truth --out src/mutualaid_outcomes/datasets/sample`` to recompute
``truth.json`` (about half a minute for N = 200,000).
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from .._rng import check_rng
from .._validation import as_column_list, check_option
from ..errors import ArgumentTypeError, DataFileNotFoundError, DataValidationError
from ..models._core.ols import fit_ols
from . import _truth_estimands as _ext
from ._dgp import (
    ATTENDANCE_CLASSES,
    MECHANISMS,
    CohortParameters,
    all_window_outcomes,
    attrition,
    simulate_core,
)
from ._truth_text import TRUTH_TEMPLATE

__all__ = [
    "TRUTH_SEED",
    "TRUTH_COLUMNS",
    "MEDIATION_COVARIATES",
    "compute_truth",
    "sample_truth",
    "structural_truth",
    "mediation_frame",
]

#: Seed of the stored large-sample truth computation.
TRUTH_SEED = 1997
#: Columns of the truth frame.
TRUTH_COLUMNS = ("quantity", "value", "mc_se", "kind", "description")
#: Covariates of the documented lagged mediation model, in order.
MEDIATION_COVARIATES: tuple[str, ...] = (
    "pda_0",
    *(f"{m}_0" for m in MECHANISMS),
    "tsf",
    "cbt",
    "sex",
    "age",
)
_PACKAGE = "mutualaid_outcomes.datasets.sample"


def structural_truth(parameters: CohortParameters | None = None) -> pd.DataFrame:
    """Exact structural parameters of the data-generating process.

    Parameters
    ----------
    parameters : CohortParameters, optional
        Defaults to :class:`CohortParameters()`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRUTH_COLUMNS`; ``kind`` is ``"structural"``, ``mc_se`` 0.

    Raises
    ------
    ArgumentTypeError
        ``parameters`` is not a :class:`CohortParameters`.

    Examples
    --------
    >>> t = structural_truth()
    >>> round(float(t.set_index("quantity").loc["hr_attendance", "value"]), 3)
    0.6
    """
    p = CohortParameters() if parameters is None else parameters
    if not isinstance(p, CohortParameters):
        raise ArgumentTypeError(f"`parameters` must be a CohortParameters; got {type(p).__name__}.")
    rows = [
        (
            "hr_attendance",
            math.exp(p.heavy_log_hr_attend),
            "Hazard ratio of any AA meeting in the past 30 days (days t-30..t-1) on the "
            "first heavy drinking day, given baseline PHDD (exact proportional hazards, "
            "cloglog daily hazard)",
        ),
        (
            "log_hr_attendance",
            p.heavy_log_hr_attend,
            "Log of hr_attendance (the Cox coefficient)",
        ),
        (
            "log_hr_phdd0",
            p.heavy_log_hr_phdd0,
            "Log hazard ratio per unit of baseline proportion of heavy drinking days "
            "(phdd of the month-0 window, 0-1)",
        ),
    ]
    for m, val in zip(MECHANISMS, p.mech_attend):
        rows.append(
            (
                f"structural_a[{m}]",
                val,
                f"Structural effect of 10 meetings (90-day window before a wave) on latent "
                f"{m} at that wave",
            )
        )
    for m, val in zip(MECHANISMS, p.drink_mech):
        rows.append(
            (
                f"drink_logodds[{m}]",
                val,
                f"Effect of latent {m} on the daily log-odds of drinking",
            )
        )
    rows.append(
        (
            "drink_logodds[attendance]",
            p.drink_attend,
            "Direct effect of 10 meetings in the current interval on the daily log-odds "
            "of drinking",
        )
    )
    rows += _structural_extensions(p)
    return pd.DataFrame(
        {
            "quantity": [r[0] for r in rows],
            "value": [float(r[1]) for r in rows],
            "mc_se": 0.0,
            "kind": "structural",
            "description": [r[2] for r in rows],
        },
        columns=list(TRUTH_COLUMNS),
    )


def _structural_extensions(p: CohortParameters) -> list[tuple[str, float, str]]:
    """Structural rows of the sex-moderated a-paths, attendance classes and daily effect."""
    rows = [
        (
            "structural_a[network|sex=1]",
            p.mech_attend[0] + p.mech_attend_female[0],
            "Structural effect of 10 meetings on latent network for women (men: "
            "structural_a[network])",
        ),
        (
            "drink_logodds[meeting_prev_day]",
            p.drink_prev_meeting,
            "Within-person effect of a meeting on day t-1 on the log-odds of drinking on "
            "day t (conditional on person and interval)",
        ),
    ]
    for name, share in zip(ATTENDANCE_CLASSES, p.class_shares):
        rows.append(
            (
                f"attendance_class_share[{name}]",
                share,
                f"Probability of the '{name}' attendance-trajectory class "
                "(attendance_class in latent.csv.gz)",
            )
        )
    return rows


def mediation_frame(
    latent: pd.DataFrame, waves: pd.DataFrame, participants: pd.DataFrame
) -> pd.DataFrame:
    """One row per person with the variables of the documented mediation model.

    Columns: ``id``, ``attendance`` (AA meetings in the month-3 window, i.e. days
    1-90), the six latent mechanisms at month 9 (``network_9`` ...), ``pda_15``
    (outcome) and :data:`MEDIATION_COVARIATES`. Rows with a missing value are kept
    (NaN); the caller decides how to handle them.

    Parameters
    ----------
    latent, waves, participants : pandas.DataFrame
        The sample frames (``load_sample("latent")`` etc.).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> from mutualaid_outcomes.datasets import simulate_cohort
    >>> c = simulate_cohort(30, rng=2)
    >>> mediation_frame(c.latent, c.waves, c.participants).shape
    (30, 20)
    """
    w = waves.set_index(["id", "month"])
    lat = latent.set_index(["id", "month"])
    ids = participants["id"].to_numpy()
    out = pd.DataFrame({"id": ids})
    out["attendance"] = w["aa_meetings"].xs(3, level="month").reindex(ids).astype(float).values
    for m in MECHANISMS:
        out[f"{m}_9"] = lat[m].xs(9, level="month").reindex(ids).values
    out["pda_15"] = w["pda"].xs(15, level="month").reindex(ids).values
    out["pda_0"] = w["pda"].xs(0, level="month").reindex(ids).values
    for m in MECHANISMS:
        out[f"{m}_0"] = lat[m].xs(0, level="month").reindex(ids).values
    arm = participants.set_index("id")["arm"].reindex(ids)
    out["tsf"] = (arm == "TSF").astype(float).values
    out["cbt"] = (arm == "CBT").astype(float).values
    part = participants.set_index("id").reindex(ids)
    out["sex"] = part["sex"].astype(float).values
    out["age"] = part["age"].astype(float).values
    return out


def _ols(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (the package's one OLS fitter)."""
    return fit_ols(design, y).beta


def _batch_estimates(
    core: dict[str, np.ndarray],
    params: CohortParameters,
    rng: np.random.Generator,
    mediators: Sequence[str] = MECHANISMS,
    extended: bool = True,
) -> dict[str, float]:
    """Population-type estimates from one complete-data batch.

    ``extended`` adds the estimands of :mod:`._truth_estimands` (all six mediators
    only); their random draws (items, rosters) come from a stream spawned from ``rng``
    after the attrition draws.
    """
    win = all_window_outcomes(core)
    mech = core["mech"]
    x = win["aa_meetings"][:, 1].astype(float)
    y = win["pda"][:, 5]
    tsf = (core["arm"] == 0).astype(float)
    cbt = (core["arm"] == 1).astype(float)
    cov = np.column_stack(
        [win["pda"][:, 0], mech[:, 0, :], tsf, cbt, core["female"], core["age"].astype(float)]
    )
    ok = np.isfinite(y) & np.all(np.isfinite(cov), axis=1)
    cols = [MECHANISMS.index(m) for m in mediators]
    x, y, cov, m9 = x[ok], y[ok], cov[ok], mech[ok, 3, :][:, cols]
    one = np.ones(x.size)
    est: dict[str, float] = {}
    total = _ols(np.column_stack([one, x, cov]), y)
    est["total"] = total[1]
    for j, name in enumerate(mediators):
        est[f"a[{name}]"] = _ols(np.column_stack([one, x, cov]), m9[:, j])[1]
    out = _ols(np.column_stack([one, x, m9, cov]), y)
    est["direct"] = out[1]
    for j, name in enumerate(mediators):
        est[f"b[{name}]"] = out[2 + j]
        est[f"indirect[{name}]"] = est[f"a[{name}]"] * est[f"b[{name}]"]
    est["total_indirect"] = sum(est[f"indirect[{m}]"] for m in mediators)
    xa = win["aa_meetings"][:, 1].astype(float)
    is_tsf = core["arm"] == 0
    est["mean_attendance_tsf"] = xa[is_tsf].mean()
    est["mean_attendance_other"] = xa[~is_tsf].mean()
    est["arm_effect_attendance"] = est["mean_attendance_tsf"] - est["mean_attendance_other"]
    est["mean_pda_15"] = float(np.nanmean(win["pda"][:, 5]))
    est["p_heavy_by_455"] = float((core["first_heavy"] < 455).mean())
    assessed = attrition(win["phdd"], params, rng)
    est["p_missing_month_15"] = float(1.0 - assessed[:, 5].mean())
    if extended and tuple(mediators) == MECHANISMS:
        (g_meas,) = rng.spawn(1)
        female = core["female"][ok].astype(float)
        est.update(_ext.moderated_mediation_estimates(x, m9, y, cov, female))
        est.update(_ext.class_curve_estimates(core, win))
        est.update(_ext.measurement_error_estimates(core, win, ok, g_meas))
        est.update(_ext.daily_estimates(core, int(core["wave_days"][-1])))
    return est


_DESCRIPTIONS = {
    "arm_effect_attendance": "Mean AA meetings in months 0-3 (aa_meetings at month 3, days 1-90): "
    "TSF minus CBT/MET pooled",
    "mean_attendance_tsf": "Mean AA meetings in months 0-3 in the TSF arm",
    "mean_attendance_other": "Mean AA meetings in months 0-3 in the CBT and MET arms",
    "total": "Total effect of one meeting in months 0-3 on PDA at month 15 "
    "(coefficient of attendance in pda_15 ~ attendance + covariates)",
    "direct": "Direct effect of one meeting in months 0-3 on PDA at month 15 given the six "
    "month-9 mechanisms and covariates",
    "total_indirect": "Sum of the six specific indirect effects (= total - direct)",
    "mean_pda_15": "Population mean PDA at month 15 (complete data)",
    "p_heavy_by_455": "Probability of a heavy drinking day by day 454 (complete follow-up)",
    "p_missing_month_15": "Expected share of participants not assessed at month 15",
}
for _m in MECHANISMS:
    _DESCRIPTIONS[f"a[{_m}]"] = (
        f"a-path: one meeting in months 0-3 -> latent {_m} at month 9 (given covariates)"
    )
    _DESCRIPTIONS[f"b[{_m}]"] = (
        f"b-path: latent {_m} at month 9 -> PDA at month 15 (given attendance, the other "
        "mediators in the model and covariates)"
    )
    _DESCRIPTIONS[f"indirect[{_m}]"] = f"Specific indirect effect through {_m}: a[{_m}] * b[{_m}]"


def _products_of_means(values: np.ndarray, idx: dict[str, int]) -> None:
    """Indirect effects and indices of the extension estimands as products of mean paths."""
    if "index_moderated_mediation[network]" not in idx:
        return
    b = values[idx["b[network]"]]
    for key in ("sex=0", "sex=1"):
        values[idx[f"indirect[network|{key}]"]] = values[idx[f"a[network|{key}]"]] * b
    values[idx["index_moderated_mediation[network]"]] = values[idx["a_x_sex[network]"]] * b
    for m in _ext.SCORED_MEDIATORS:
        values[idx[f"scored_indirect[{m}]"]] = (
            values[idx[f"scored_a[{m}]"]] * values[idx[f"scored_b[{m}]"]]
        )
    values[idx["scored_total_indirect"]] = sum(
        values[idx[f"scored_indirect[{m}]"]] for m in _ext.SCORED_MEDIATORS
    )
    for prefix in ("single", "single_scored"):
        values[idx[f"{prefix}_indirect[efficacy]"]] = (
            values[idx[f"{prefix}_a[efficacy]"]] * values[idx[f"{prefix}_b[efficacy]"]]
        )


def compute_truth(
    n: int = 200_000,
    *,
    batch_size: int = 10_000,
    rng: int | np.random.Generator | None = TRUTH_SEED,
    parameters: CohortParameters | None = None,
    mediators: Sequence[str] = MECHANISMS,
    extended: bool = True,
) -> pd.DataFrame:
    """Compute the population-level true effects by a large simulation.

    Parameters
    ----------
    n : int
        Total simulated people (a multiple of ``batch_size`` is used).
    batch_size : int
        People per batch (at least 1,000). The Monte Carlo SE is the standard
        deviation of the batch estimates divided by the square root of the number of
        batches.
    rng : int, numpy.random.Generator or None
        Seed; the stored truth uses :data:`TRUTH_SEED`.
    parameters : CohortParameters, optional
        Structural parameters (default: the sample's).
    mediators : sequence of str
        Month-9 mechanisms in the parallel mediation model (default: all six, the
        stored truth). A subset gives the truth of a smaller model, whose paths differ
        because the omitted mechanisms are correlated with the included ones.
    extended : bool
        With all six mediators, also compute the moderated mediation by sex, the
        attendance-class curves, the questionnaire-score (measurement error) models
        and the daily within-person effect (about three times slower). The stored
        truth uses True.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRUTH_COLUMNS`: the population rows (``kind="population"``,
        estimate pooled over batches) followed by :func:`structural_truth`.

    Raises
    ------
    ArgumentTypeError, DataValidationError
        Bad ``n``, ``batch_size``, ``parameters`` or ``extended``.
    OptionError
        A name in ``mediators`` is not a mechanism.

    Notes
    -----
    Regression estimands are population least-squares coefficients on complete
    data (no drop-out, latent mechanism scores). The value reported is the mean
    of the batch estimates; indirect effects are products of the mean a- and
    b-paths (their Monte Carlo SE comes from the batch products).

    Examples
    --------
    >>> t = compute_truth(2000, batch_size=1000, rng=1, extended=False)
    >>> "indirect[network]" in set(t["quantity"])
    True
    """
    for value, name, low in ((n, "n", 1000), (batch_size, "batch_size", 1000)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ArgumentTypeError(f"`{name}` must be an integer >= {low}; got {value!r}.")
        if value < low:
            raise DataValidationError(f"`{name}` must be an integer >= {low}; got {value}.")
    p = CohortParameters() if parameters is None else parameters
    if not isinstance(p, CohortParameters):
        raise ArgumentTypeError(f"`parameters` must be a CohortParameters; got {type(p).__name__}.")
    if not isinstance(extended, bool):
        raise ArgumentTypeError(f"`extended` must be True or False; got {extended!r}.")
    meds = tuple(as_column_list(mediators, "mediators"))
    if not meds:
        raise DataValidationError("`mediators` must name at least one mechanism.")
    for m in meds:
        check_option(m, MECHANISMS, "mediators")
    gen = check_rng(rng)
    n_batches = max(1, int(n) // int(batch_size))
    per_batch: list[dict[str, float]] = []
    for child in gen.spawn(n_batches):
        g_core, g_attr = child.spawn(2)
        core = simulate_core(int(batch_size), 455, p, g_core)
        per_batch.append(_batch_estimates(core, p, g_attr, meds, extended))
    order = [
        "arm_effect_attendance",
        "mean_attendance_tsf",
        "mean_attendance_other",
        *(f"a[{m}]" for m in meds),
        *(f"b[{m}]" for m in meds),
        *(f"indirect[{m}]" for m in meds),
        "total_indirect",
        "direct",
        "total",
        "mean_pda_15",
        "p_heavy_by_455",
        "p_missing_month_15",
        *_ext.extension_order(),
    ]
    keys = [k for k in order if k in per_batch[0]]
    table = np.array([[b[k] for k in keys] for b in per_batch])
    values = table.mean(axis=0)
    mc_se = (
        table.std(axis=0, ddof=1) / np.sqrt(n_batches)
        if n_batches > 1
        else np.full(len(keys), np.nan)
    )
    # products of mean coefficients for the indirect effects (consistent with a*b)
    idx = {k: i for i, k in enumerate(keys)}
    for m in meds:
        values[idx[f"indirect[{m}]"]] = values[idx[f"a[{m}]"]] * values[idx[f"b[{m}]"]]
    values[idx["total_indirect"]] = sum(values[idx[f"indirect[{m}]"]] for m in meds)
    _products_of_means(values, idx)
    pop = pd.DataFrame(
        {
            "quantity": keys,
            "value": values,
            "mc_se": mc_se,
            "kind": "population",
            "description": [{**_DESCRIPTIONS, **_ext.extension_descriptions()}[k] for k in keys],
        }
    )
    pop.attrs["n"] = n_batches * int(batch_size)
    out = pd.concat([pop, structural_truth(p)], ignore_index=True)
    out.attrs["n"] = n_batches * int(batch_size)
    out.attrs["n_batches"] = n_batches
    return out


def _read_truth_json() -> dict[str, Any]:
    text = resources.files(_PACKAGE).joinpath("truth.json").read_text(encoding="utf-8")
    return json.loads(text)


def sample_truth() -> pd.DataFrame:
    """True effects of the sample cohort (documented in ``src/mutualaid_outcomes/datasets/sample/TRUTH.md``).

    Returns
    -------
    pandas.DataFrame
        Columns ``quantity, value, mc_se, kind, description``. ``kind`` is
        ``"structural"`` for exact parameters of the data-generating process and
        ``"population"`` for population quantities computed by a simulation of
        200,000 people (``mc_se`` is their Monte Carlo standard error).

    Raises
    ------
    DataFileNotFoundError
        The stored truth file is missing from the installation.

    Notes
    -----
    Mediation terms follow the package's naming (``a[network]``, ``b[network]``,
    ``indirect[network]``, ``total_indirect``, ``direct``, ``total``) for the model
    ``pda_15 ~ attendance + 6 mechanisms at month 9 + covariates`` described in
    TRUTH.md, with attendance in meetings (per one meeting).

    Examples
    --------
    >>> t = sample_truth().set_index("quantity")
    >>> round(float(t.loc["hr_attendance", "value"]), 2)
    0.6
    >>> bool(t.loc["arm_effect_attendance", "value"] > 0)
    True
    """
    try:
        data = _read_truth_json()
    except FileNotFoundError as exc:  # pragma: no cover - broken installation
        raise DataFileNotFoundError(
            "The sample truth file truth.json is missing from the installed package."
        ) from exc
    df = pd.DataFrame(data["quantities"], columns=list(TRUTH_COLUMNS))
    df["value"] = df["value"].astype(float)
    df["mc_se"] = df["mc_se"].astype(float)
    df.attrs["n"] = data["meta"]["n"]
    return df


def write_truth_json(truth: pd.DataFrame, path: str | Path, meta: dict[str, Any]) -> None:
    """Store a truth frame as JSON (values with 12 significant digits)."""
    records = [
        {
            "quantity": r.quantity,
            "value": float(f"{r.value:.12g}"),
            "mc_se": float(f"{r.mc_se:.6g}"),
            "kind": r.kind,
            "description": r.description,
        }
        for r in truth.itertuples(index=False)
    ]
    text = json.dumps({"meta": meta, "quantities": records}, indent=1) + "\n"
    Path(path).write_bytes(text.encode("utf-8"))


def _fmt(value: float, se: float) -> str:
    if se == 0 or not np.isfinite(se):
        return f"{value:.6g}"
    return f"{value:.6g} (MC SE {se:.2g})"


def render_truth_md() -> str:
    """Render ``TRUTH.md`` from the stored truth and the default parameters."""
    t = sample_truth()
    p = CohortParameters()
    rows = "\n".join(
        f"| `{r.quantity}` | {_fmt(r.value, r.mc_se)} | {r.kind} | {r.description} |"
        for r in t.itertuples(index=False)
    )
    table = "| quantity | value | kind | description |\n|---|---|---|---|\n" + rows
    return TRUTH_TEMPLATE.format(
        table=table,
        n_truth=f"{t.attrs['n']:,}",
        p=p,
        hr=math.exp(p.heavy_log_hr_attend),
        expit=expit,
    )


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mutualaid_outcomes.datasets.truth",
        description="Recompute the stored large-sample truth (truth.json).",
    )
    parser.add_argument("--out", default="src/mutualaid_outcomes/datasets/sample")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=TRUTH_SEED)
    args = parser.parse_args(argv)
    truth = compute_truth(args.n, rng=args.seed)
    meta = {
        "n": int(truth.attrs["n"]),
        "n_batches": int(truth.attrs["n_batches"]),
        "seed": args.seed,
    }
    write_truth_json(truth, Path(args.out) / "truth.json", meta)
    print(truth.to_string())


if __name__ == "__main__":  # pragma: no cover
    _main()
