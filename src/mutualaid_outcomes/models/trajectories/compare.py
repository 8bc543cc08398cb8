"""Choosing the number of trajectory classes: :func:`compare_trajectories`.

Fits ``k = 1..K`` classes and tabulates the usual criteria (BIC, AIC, entropy, smallest
class, AvePP) with the bootstrap likelihood-ratio test (BLRT) of ``k`` against ``k - 1``
classes (McLachlan 1987; Nylund, Asparouhov & Muthen 2007). The BLRT replicates run
through :func:`mutualaid_outcomes.parallel.run_replicates`, so they can use local worker
processes (``n_jobs``) or a Dask cluster (``client``) and give the same numbers either way.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._rng import RNGLike, seed_of
from ..._validation import check_positive_int
from ...errors import ArgumentTypeError, DataValidationError, EstimationError
from ...parallel import replicate_seed, root_seed_sequence, run_replicates
from ...results import BaseResult, glance_frame
from .fit import TrajectoryFamilyName, estimate, fit_trajectories
from .result import TrajectoryResult
from .simulate import draw_panel

__all__ = ["compare_trajectories", "TrajectoryComparisonResult"]

COMPARISON_COLUMNS: tuple[str, ...] = (
    "n_groups",
    "loglik",
    "df",
    "aic",
    "bic",
    "bic_traj",
    "entropy",
    "smallest_class",
    "min_avepp",
    "n_starts_best",
    "possibly_local",
    "converged",
    "blrt_statistic",
    "blrt_p_value",
    "blrt_n_boot",
    "message",
)


@dataclass(frozen=True, repr=False, eq=False)
class TrajectoryComparisonResult(BaseResult):
    """Trajectory models with different numbers of classes, side by side.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per number of classes: ``n_groups, loglik, df, aic, bic, bic_traj,
        entropy, smallest_class, min_avepp, n_starts_best, possibly_local, converged,
        blrt_statistic, blrt_p_value, blrt_n_boot, message``.
    fits : dict
        ``{k: TrajectoryResult}`` for every ``k`` that could be fitted.
    blrt_replicates : pandas.DataFrame
        The bootstrap statistics: ``n_groups, replicate, statistic``.
    """

    table: pd.DataFrame
    fits: dict[int, TrajectoryResult]
    blrt_replicates: pd.DataFrame
    n_boot: int
    seed: int | None
    _can_exponentiate = False

    def _title(self) -> str:
        return "Trajectory models by number of classes"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        out = pd.DataFrame(
            {
                "term": [f"{k} classes" for k in t["n_groups"]],
                "estimate": t["loglik"].to_numpy(),
                "std_error": np.nan,
                "statistic": t["blrt_statistic"].to_numpy(),
                "p_value": t["blrt_p_value"].to_numpy(),
                "conf_low": np.nan,
                "conf_high": np.nan,
            }
        )
        for c in ("n_groups", "df", "aic", "bic", "entropy", "smallest_class"):
            out[c] = t[c].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """One row: the ``k`` with the lowest BIC and AIC, ``n_boot`` and the seed."""
        t = self.table.dropna(subset=["bic"])
        return glance_frame(
            {
                "n_models": len(self.table),
                "best_bic": int(t.loc[t["bic"].idxmin(), "n_groups"]) if len(t) else np.nan,
                "best_aic": int(t.loc[t["aic"].idxmin(), "n_groups"]) if len(t) else np.nan,
                "n_boot": self.n_boot,
                "seed": self.seed if self.seed is not None else np.nan,
            },
            ("n_models", "best_bic", "best_aic", "n_boot", "seed"),
        )

    def _notes(self) -> list[str]:
        notes = [
            "tidy(): estimate = log-likelihood; statistic, p_value = bootstrap likelihood-"
            "ratio test of k against k - 1 classes."
        ]
        return notes + [m for m in self.table["message"] if isinstance(m, str) and m]


def _check_range(n_groups: Any) -> list[int]:
    if isinstance(n_groups, numbers.Integral) and not isinstance(n_groups, bool):
        vals = list(range(1, int(n_groups) + 1))
    elif isinstance(n_groups, Iterable) and not isinstance(n_groups, (str, bytes)):
        vals = list(n_groups)
    else:
        raise ArgumentTypeError(
            f"`n_groups` must be an integer K (fits 1..K) or a range/list of integers; got "
            f"{n_groups!r}."
        )
    if not vals:
        raise DataValidationError("`n_groups` is empty.")
    for v in vals:
        check_positive_int(v, "n_groups")
    if len(set(vals)) != len(vals):
        raise DataValidationError(f"`n_groups` has repeated values: {vals}.")
    return sorted(int(v) for v in vals)


def _blrt(
    small: TrajectoryResult,
    large: TrajectoryResult,
    *,
    n_boot: int,
    boot_starts: int,
    root: np.random.SeedSequence,
    max_iter: int,
    tol: float,
    n_jobs: int,
    client: Any,
) -> np.ndarray:
    """Bootstrap LR statistics of ``large`` against ``small`` under ``small``'s estimates."""
    panel, spec0, par0 = small._panel, small._spec, small._internal
    spec1, par1 = large._spec, large._internal

    def one(gen: np.random.Generator) -> float:
        with np.errstate(all="ignore"):
            boot, _ = draw_panel(panel, spec0, par0, gen)
            try:
                f0, b0 = estimate(
                    boot, spec0, n_starts=boot_starts, rng=gen, max_iter=max_iter, tol=tol,
                    extra=[par0],
                )  # fmt: skip
            except EstimationError:
                return float("nan")
            try:
                f1, b1 = estimate(
                    boot, spec1, n_starts=boot_starts, rng=gen, max_iter=max_iter, tol=tol,
                    extra=[par1],
                )  # fmt: skip
            except EstimationError:
                # every start emptied a class: the larger model collapses to the smaller
                return 0.0
        return max(0.0, 2.0 * (f1[b1].loglik - f0[b0].loglik))

    return np.asarray(run_replicates(one, n_boot, rng=root, n_jobs=n_jobs, client=client))


def compare_trajectories(
    data: pd.DataFrame,
    id: str,
    time: str,
    outcome: str,
    n_groups: int | Sequence[int] | range = 4,
    *,
    degree: int = 2,
    family: TrajectoryFamilyName = "gaussian",
    variance: Literal["common", "group"] | None = None,
    lower: float | None = None,
    upper: float | None = None,
    covariates: str | Sequence[str] | None = None,
    tv_covariates: str | Sequence[str] | None = None,
    n_starts: int = 20,
    n_boot: int = 0,
    boot_starts: int = 5,
    rng: RNGLike = None,
    max_iter: int = 1000,
    tol: float = 1e-9,
    n_jobs: int = 1,
    client: Any = None,
) -> TrajectoryComparisonResult:
    """Fit trajectory models with 1..K classes and compare them (BIC, AIC, entropy, BLRT).

    Parameters
    ----------
    data, id, time, outcome
        As in :func:`fit_trajectories`.
    n_groups : int or sequence of int
        ``K`` (fits 1..K classes) or the class numbers to fit, e.g. ``range(1, 6)``.
    degree : int
        Polynomial degree of every class.
    family, variance, lower, upper, covariates, tv_covariates, n_starts, max_iter, tol
        As in :func:`fit_trajectories`.
    n_boot : int
        Bootstrap replicates of the likelihood-ratio test of ``k`` against ``k - 1``
        classes (0: no test). Each replicate fits both models, so it costs about
        ``2 * boot_starts / n_starts`` times the original fits.
    boot_starts : int
        Random starts per model in each bootstrap replicate (the original estimates are
        one more start).
    rng : int, numpy.random.Generator or None
        Root seed of the starts and the bootstrap.
    n_jobs, client
        Parallel work for the starts and the bootstrap replicates
        (:func:`mutualaid_outcomes.parallel.run_replicates`).

    Returns
    -------
    TrajectoryComparisonResult
        ``table``, ``fits`` and ``blrt_replicates``; ``glance()`` names the ``k`` with the
        lowest BIC.

    Raises
    ------
    ArgumentTypeError, DataValidationError, OptionError
        Invalid arguments (as :func:`fit_trajectories`).

    Notes
    -----
    BLRT (McLachlan 1987; Nylund et al. 2007): the statistic is
    ``LR = 2 (loglik_k - loglik_{k-1})``. Data sets are drawn from the fitted
    ``(k - 1)``-class model (:func:`simulate_trajectories`: the same persons, times,
    missing waves and covariates), both models are refitted to each, and
    ``p = (1 + #{LR_b >= LR}) / (1 + B)`` over the ``B`` replicates that could be fitted.
    A replicate in which every start of the ``k``-class model empties a class counts as
    ``LR_b = 0`` (the larger model collapses to the smaller one), and a replicate's
    statistic is floored at 0 (a ``k``-class fit below the ``(k - 1)``-class one is a local
    optimum); replicates whose ``(k - 1)``-class model cannot be fitted are dropped and
    ``blrt_n_boot`` counts the rest.
    ``k - 1`` must be among the fitted class numbers. BIC is the usual criterion for the
    number of classes in group-based trajectory models (Nagin 2005); a class below about
    5% of persons or AvePP below 0.7 argues against a solution whatever the criteria say.

    References
    ----------
    McLachlan GJ (1987). On bootstrapping the likelihood ratio test statistic for the
    number of components in a normal mixture. *Applied Statistics* 36:318-324.

    Nylund KL, Asparouhov T, Muthen BO (2007). Deciding on the number of classes in latent
    class analysis and growth mixture modeling: a Monte Carlo simulation study.
    *Structural Equation Modeling* 14:535-569.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(4)
    >>> n, t = 200, np.arange(4.0)
    >>> lvl = np.where(rng.random(n) < 0.5, 0.5, 3.0)
    >>> y = rng.poisson(np.exp(np.log(lvl)[:, None] + 0.1 * t))
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "wave": np.tile(t, n), "y": y.ravel()})
    >>> cmp = compare_trajectories(df, "id", "wave", "y", 3, degree=1, family="poisson",
    ...                            n_starts=4, rng=1)
    >>> cmp.table[["n_groups", "df"]].values.tolist()
    [[1, 2], [2, 5], [3, 8]]
    >>> int(cmp.glance()["best_bic"].iloc[0])
    2
    """
    ks = _check_range(n_groups)
    if not (isinstance(degree, numbers.Integral) and not isinstance(degree, bool)):
        raise ArgumentTypeError(
            f"`degree` of compare_trajectories must be one integer for every class; got {degree!r}."
        )
    n_boot = check_positive_int(n_boot, "n_boot", minimum=0)
    boot_starts = check_positive_int(boot_starts, "boot_starts")
    root = root_seed_sequence(rng)
    fits: dict[int, TrajectoryResult] = {}
    rows = []
    for k in ks:
        try:
            res = fit_trajectories(
                data, id, time, outcome, k, degree=degree, family=family, variance=variance,
                lower=lower, upper=upper, covariates=covariates if k > 1 else None,
                tv_covariates=tv_covariates, n_starts=n_starts, rng=replicate_seed(root, k),
                max_iter=max_iter, tol=tol, n_jobs=n_jobs, client=client,
            )  # fmt: skip
        except EstimationError as exc:
            rows.append({"n_groups": k, "message": str(exc)})
            continue
        fits[k] = res
        g = res.glance().iloc[0]
        rows.append({c: g[c] for c in COMPARISON_COLUMNS if c in g.index} | {"n_groups": k})
    boot_rows = []
    for row in rows:
        k = row["n_groups"]
        row["blrt_n_boot"] = 0
        if n_boot == 0 or k not in fits or (k - 1) not in fits:
            continue
        stats_b = _blrt(
            fits[k - 1], fits[k], n_boot=n_boot, boot_starts=boot_starts,
            root=replicate_seed(root, 10_000 + k), max_iter=max_iter, tol=tol, n_jobs=n_jobs,
            client=client,
        )  # fmt: skip
        lr = 2.0 * (fits[k].loglik - fits[k - 1].loglik)
        ok = stats_b[np.isfinite(stats_b)]
        row["blrt_statistic"] = lr
        row["blrt_n_boot"] = len(ok)
        row["blrt_p_value"] = (1 + np.sum(ok >= lr)) / (1 + len(ok)) if len(ok) else np.nan
        boot_rows += [
            {"n_groups": k, "replicate": i + 1, "statistic": s} for i, s in enumerate(stats_b)
        ]
    table = pd.DataFrame(rows).reindex(columns=COMPARISON_COLUMNS)
    table["n_groups"] = table["n_groups"].astype(int)
    reps = pd.DataFrame(boot_rows, columns=["n_groups", "replicate", "statistic"])
    return TrajectoryComparisonResult(table, fits, reps, n_boot, seed_of(rng))
