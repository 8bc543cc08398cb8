"""Machinery shared by the power simulations: argument checks, the grid of replicates, the budget.

:func:`simulate_grid` runs ``replicate(rng, n=...)`` ``n_sims`` times at every sample size
of the grid, serially, on joblib workers or on a Dask cluster
(:func:`mutualaid_outcomes.parallel.run_ranges`). Replicate ``i`` at grid position ``g``
draws from the seed-sequence child ``(g, i)`` of the root seed, so results do not depend
on the number of workers. With ``max_seconds`` a pilot of :data:`PILOT_SIMS` replicates
per size is timed first and :class:`PowerBudgetError` raised if the projection exceeds
the budget.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from ..._rng import RNGLike
from ..._validation import check_positive_int
from ...errors import ArgumentTypeError, DataValidationError
from ...parallel import n_workers as _n_workers
from ...parallel import replicate_seed, root_seed_sequence, run_range, run_ranges

__all__ = [
    "DEFAULT_N_SIMS",
    "PILOT_SIMS",
    "PowerBudgetError",
    "Run",
    "check_alpha",
    "check_budget_args",
    "check_grid",
    "check_real",
    "resolve_n_sims",
    "simulate_grid",
]

#: Replicates per grid size timed before the budget check (they are kept in the result).
PILOT_SIMS = 5

#: Default replicates per grid size when neither ``n_sims`` nor ``target_mcse`` is given.
DEFAULT_N_SIMS = 1000


class PowerBudgetError(DataValidationError):
    """The requested precision cannot be reached within ``max_seconds``."""


def check_grid(n: Any, minimum: int) -> tuple[int, ...]:
    values = [n] if isinstance(n, numbers.Integral) and not isinstance(n, bool) else n
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ArgumentTypeError(
            f"`n` must be an integer or a sequence of integers (sample sizes); got "
            f"{type(n).__name__}."
        )
    grid = [check_positive_int(v, "n", minimum=minimum) for v in values]
    if not grid:
        raise DataValidationError("`n` must list at least one sample size.")
    if len(set(grid)) != len(grid):
        raise DataValidationError(f"`n` lists a sample size more than once: {grid}.")
    return tuple(grid)


def check_real(value: Any, argument: str, low: float = -np.inf, high: float = np.inf) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(float(value))
    ):
        raise ArgumentTypeError(f"`{argument}` must be a finite number; got {value!r}.")
    if not low < float(value) < high:
        raise DataValidationError(f"`{argument}` must lie in ({low}, {high}); got {value}.")
    return float(value)


def check_alpha(alpha: Any) -> float:
    return check_real(alpha, "alpha", 0.0, 0.5)


def resolve_n_sims(n_sims: Any, target_mcse: Any) -> int:
    if target_mcse is None:
        if n_sims is None:
            return DEFAULT_N_SIMS
        return check_positive_int(n_sims, "n_sims", minimum=PILOT_SIMS)
    if n_sims is not None:
        raise DataValidationError(
            "Give either `n_sims` or `target_mcse`, not both: `target_mcse` sets n_sims to "
            "ceil(0.25 / target_mcse**2), the replicates that bound the Monte Carlo SE at "
            "any power."
        )
    mcse = check_real(target_mcse, "target_mcse", 0.0, 0.5)
    return max(PILOT_SIMS, math.ceil(0.25 / mcse**2))


@dataclass(frozen=True)
class Run:
    """Outputs of every replicate per grid size, with timing and backend."""

    outputs: list[np.ndarray]  # per grid size: (n_sims, n_out)
    elapsed: float
    backend: str
    n_workers: int
    n_sims: int  # replicates per grid size, after resolving ``target_mcse``


def simulate_grid(
    replicate: Callable[..., np.ndarray],
    grid: tuple[int, ...],
    n_sims: Any,
    *,
    rng: RNGLike,
    n_jobs: int,
    client: Any,
    batch_size: int | None,
    max_seconds: Any,
    target_mcse: Any,
) -> Run:
    """Run ``replicate(rng, n=...)`` ``n_sims`` times per grid size, with the budget check.

    ``n_sims`` and ``target_mcse`` are resolved (:func:`resolve_n_sims`) and the budget
    arguments checked (:func:`check_budget_args`) here, for every power function.
    """
    n_sims = resolve_n_sims(n_sims, target_mcse)
    max_seconds = check_budget_args(max_seconds, n_jobs, client)
    root = root_seed_sequence(rng)
    workers = _n_workers(n_jobs, client)
    backend = "dask" if client is not None else ("serial" if workers == 1 else "joblib-loky")
    roots = [replicate_seed(root, g) for g in range(len(grid))]
    funcs = [partial(replicate, n=n) for n in grid]
    t0 = time.perf_counter()
    pilot: list[list[np.ndarray]] = [[] for _ in grid]
    start = 0
    if max_seconds is not None:
        n_pilot = min(PILOT_SIMS, n_sims)
        per_rep: list[float] = []
        for g in range(len(grid)):
            tg = time.perf_counter()
            pilot[g] = run_range(funcs[g], roots[g], 0, n_pilot)
            per_rep.append((time.perf_counter() - tg) / n_pilot)
            if time.perf_counter() - t0 > max_seconds:
                break  # the pilot alone overran the budget: project from what was measured
        start = n_pilot
        spent = time.perf_counter() - t0
        # seconds for one replicate at every size (unmeasured sizes at the measured mean)
        sweep = float(sum(per_rep) + np.mean(per_rep) * (len(grid) - len(per_rep)))
        projected = (
            spent
            + sweep * (n_sims - n_pilot) / workers
            + sweep * n_pilot * (len(grid) - len(per_rep)) / len(grid)
        )
        if projected > max_seconds:
            _raise_budget(grid, n_sims, target_mcse, max_seconds, projected, sweep, workers)
    rest = run_ranges(
        [(funcs[g], roots[g], start, n_sims) for g in range(len(grid))],
        n_jobs=n_jobs,
        client=client,
        batch_size=batch_size,
    )
    outputs = [np.vstack([*pilot[g], *rest[g]]) for g in range(len(grid))]
    return Run(outputs, time.perf_counter() - t0, backend, workers, n_sims)


def _raise_budget(
    grid: tuple[int, ...],
    n_sims: int,
    target_mcse: float | None,
    max_seconds: float,
    projected: float,
    sweep: float,
    workers: int,
) -> None:
    achievable = int(max_seconds * workers / sweep)
    want = (
        f"target_mcse={target_mcse:g} ({n_sims} replicates per size)"
        if target_mcse is not None
        else f"n_sims={n_sims} (Monte Carlo SE up to {math.sqrt(0.25 / n_sims):.4f})"
    )
    if achievable >= 1:
        reach = (
            f"Within {max_seconds:g} s about {achievable} replicates per size fit, for a "
            f"Monte Carlo SE of at most {math.sqrt(0.25 / achievable):.4f} (worst case, "
            "power 0.5)."
        )
    else:
        reach = f"Not even one replicate per size fits in {max_seconds:g} s."
    raise PowerBudgetError(
        f"The power grid n={list(grid)} with {want} is projected to take {projected:.1f} s "
        f"on {workers} worker(s), more than max_seconds={max_seconds:g} (pilot: one "
        f"replicate at every size takes {sweep:.3g} s). {reach} Raise `max_seconds`, accept "
        "a larger `target_mcse` / fewer `n_sims`, use fewer sample sizes, a faster test, or "
        "more workers (`n_jobs`, `client`)."
    )


def check_budget_args(max_seconds: Any, n_jobs: Any, client: Any) -> float | None:
    if max_seconds is not None:
        max_seconds = check_real(max_seconds, "max_seconds", 0.0)
    _n_workers(n_jobs, client)  # validates n_jobs / client
    return max_seconds
