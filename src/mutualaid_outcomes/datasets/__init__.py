"""The simulated sample cohort: generator, loader and true effects.

Examples
--------
>>> from mutualaid_outcomes.datasets import load_sample, sample_truth
>>> sorted(load_sample("participants")["arm"].unique().tolist())
['CBT', 'MET', 'TSF']
>>> round(float(sample_truth().set_index("quantity").loc["hr_attendance", "value"]), 2)
0.6
"""

from __future__ import annotations

import importlib
from typing import Any

from ._dgp import MECHANISMS, WAVE_MONTHS, CohortParameters, wave_days
from .loader import SAMPLE_NAMES, load_sample

# The generator and truth modules are imported on first use, so that
# ``python -m mutualaid_outcomes.datasets.simulate`` (or ``.truth``) runs them fresh.
_LAZY = {
    "SAMPLE_SEED": "simulate",
    "SampleCohort": "simulate",
    "simulate_cohort": "simulate",
    "sample_cohort_mediation_data": "simulate",
    "write_sample_files": "simulate",
    "MEDIATION_COVARIATES": "truth",
    "compute_truth": "truth",
    "mediation_frame": "truth",
    "sample_truth": "truth",
    "structural_truth": "truth",
}

__all__ = [
    "MECHANISMS",
    "MEDIATION_COVARIATES",
    "SAMPLE_NAMES",
    "SAMPLE_SEED",
    "WAVE_MONTHS",
    "CohortParameters",
    "SampleCohort",
    "compute_truth",
    "load_sample",
    "mediation_frame",
    "sample_cohort_mediation_data",
    "sample_truth",
    "simulate_cohort",
    "structural_truth",
    "wave_days",
    "write_sample_files",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
