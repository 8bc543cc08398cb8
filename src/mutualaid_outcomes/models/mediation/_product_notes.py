"""Notes and failure counts shared by the product-of-coefficients mediation fits."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..._validation import check_binary
from ...errors import BootstrapWarning, DataWarning, EstimationError

__all__ = ["count_failures", "interval_note", "outcome_notes"]


def outcome_notes(clean: pd.DataFrame, outcome: str, outcome_family: str) -> list[str]:
    """Check a logistic outcome is binary; warn for a 0/1 outcome in a linear model."""
    if outcome_family == "logit":  # binomial family, logit link
        check_binary(clean[outcome], "outcome")
        return [
            "Outcome model is logistic: b-paths, direct, indirect and total effects are on "
            "the log-odds scale (product of coefficients)."
        ]
    vals = pd.unique(clean[outcome])
    if len(vals) == 2 and {float(v) for v in vals} <= {0.0, 1.0}:
        warnings.warn(
            f"`outcome` '{outcome}' is binary (0/1) but outcome_family='gaussian'; "
            "effects are differences in probability from a linear probability model. "
            "Use outcome_family='binomial' for log-odds effects.",
            DataWarning,
            stacklevel=4,
        )
    return []


def count_failures(draws_paths: np.ndarray, n_boot: int, notes: list[str]) -> int:
    """Resamples whose fits failed (NaN rows): an error if all did, else a warning + note."""
    n_failed = int(np.isnan(draws_paths).any(axis=1).sum())
    if n_failed == n_boot:
        raise EstimationError(
            f"All {n_boot} bootstrap resamples failed (singular regressions or non-"
            "convergent fits in every resample); the data are too small or too sparse for "
            "these models. Reduce covariates or use ci='monte_carlo'."
        )
    if n_failed:
        warnings.warn(
            f"{n_failed} of {n_boot} bootstrap resamples failed (singular regressions or "
            "non-convergent fits) and were excluded from the intervals.",
            BootstrapWarning,
            stacklevel=4,
        )
        notes.append(f"{n_failed} of {n_boot} resamples failed and were excluded.")
    return n_failed


def interval_note(ci: str, n_boot: int, cluster: str | None) -> str:
    if ci == "monte_carlo":
        return (
            f"Intervals: Monte Carlo percentiles of {n_boot} draws of the path coefficients; "
            "std_error is the SD of the draws."
        )
    unit = "clusters" if cluster is not None else "rows"
    return (
        f"Intervals: {ci} from {n_boot} joint bootstrap resamples of {unit}; std_error "
        "is the bootstrap SD; p-values only for single paths, direct and total."
    )
