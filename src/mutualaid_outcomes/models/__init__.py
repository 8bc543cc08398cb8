"""Statistical models: regression, longitudinal, mediation, survival, causal inference and power.

Each model function takes a DataFrame and column names and returns an immutable
result with ``tidy()``, ``glance()`` and ``summary()``.
"""

from .causal_mediation import CausalMediationResult, causal_mediation
from .competing_risks import (
    CumulativeIncidenceResult,
    FineGrayResult,
    GrayTestResult,
    cumulative_incidence,
    fit_fine_gray,
    gray_test,
)
from .counting_process import CountingProcess, to_counting_process, validate_counting_process
from .cox import CoxResult, ProportionalHazardsTest, check_proportional_hazards, fit_cox
from .cox_time_varying import fit_cox_time_varying
from .evalue import EValueResult, e_value, e_values
from .imputation import ImputedData, impute
from .iv import CACEResult, IVResult, WeakInstrumentWarning, cace, fit_iv
from .lagged_mediation import lagged_mediation
from .longitudinal import GEEResult, MixedResult, fit_gee, fit_mixed
from .mediation import MediationResult, mediate
from .panel import LaggedPanel, lagged_panel
from .pooling import PooledMediationResult, PooledResult, fit_imputed, pool, pool_mediation
from .power import PowerBudgetError, PowerResult, power_mediation, power_survival, schoenfeld_events
from .propensity import PositivityError, PropensityResult, fit_weighted, propensity_scores
from .regression import RegressionResult, fit_regression
from .sensitivity import SensitivityResult, mediation_sensitivity
from .survival import KaplanMeierResult, LogRankTest, kaplan_meier

__all__ = [
    "fit_regression",
    "RegressionResult",
    "fit_gee",
    "GEEResult",
    "fit_mixed",
    "MixedResult",
    "lagged_panel",
    "LaggedPanel",
    "mediate",
    "MediationResult",
    "lagged_mediation",
    "causal_mediation",
    "CausalMediationResult",
    "mediation_sensitivity",
    "SensitivityResult",
    "kaplan_meier",
    "KaplanMeierResult",
    "LogRankTest",
    "fit_cox",
    "CoxResult",
    "check_proportional_hazards",
    "ProportionalHazardsTest",
    "to_counting_process",
    "validate_counting_process",
    "CountingProcess",
    "fit_cox_time_varying",
    "cumulative_incidence",
    "CumulativeIncidenceResult",
    "gray_test",
    "GrayTestResult",
    "fit_fine_gray",
    "FineGrayResult",
    "propensity_scores",
    "PropensityResult",
    "PositivityError",
    "fit_weighted",
    "fit_iv",
    "IVResult",
    "cace",
    "CACEResult",
    "WeakInstrumentWarning",
    "e_value",
    "e_values",
    "EValueResult",
    "impute",
    "ImputedData",
    "pool",
    "fit_imputed",
    "pool_mediation",
    "PooledResult",
    "PooledMediationResult",
    "power_mediation",
    "power_survival",
    "schoenfeld_events",
    "PowerResult",
    "PowerBudgetError",
]
