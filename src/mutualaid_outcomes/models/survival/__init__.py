"""Survival: Kaplan-Meier, Cox (fixed and time-varying covariates), PH tests, competing risks."""

from .competing_risks import (
    CumulativeIncidenceResult,
    FineGrayResult,
    GrayTestResult,
    cumulative_incidence,
    fit_fine_gray,
    gray_test,
)
from .cox import CoxResult, ProportionalHazardsResult, check_proportional_hazards, fit_cox
from .cox_time_varying import fit_cox_time_varying
from .kaplan_meier import KaplanMeierResult, LogRankResult, kaplan_meier

__all__ = [
    "CoxResult",
    "CumulativeIncidenceResult",
    "FineGrayResult",
    "GrayTestResult",
    "KaplanMeierResult",
    "LogRankResult",
    "ProportionalHazardsResult",
    "check_proportional_hazards",
    "cumulative_incidence",
    "fit_cox",
    "fit_cox_time_varying",
    "fit_fine_gray",
    "gray_test",
    "kaplan_meier",
]
