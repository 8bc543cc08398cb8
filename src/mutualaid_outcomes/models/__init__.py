"""Statistical models: regression, longitudinal, mediation, survival, causal inference and power.

Each model function takes a DataFrame and column names and returns an immutable
result with ``tidy()``, ``glance()`` and ``summary()``.
"""

from .mediation.causal import CausalMediationResult, causal_mediation
from .survival.competing_risks import (
    CumulativeIncidenceResult,
    FineGrayResult,
    GrayTestResult,
    cumulative_incidence,
    fit_fine_gray,
    gray_test,
)
from ..prep.counting_process import CountingProcess, to_counting_process, validate_counting_process
from .survival.cox import CoxResult, ProportionalHazardsResult, check_proportional_hazards, fit_cox
from .survival.cox_time_varying import fit_cox_time_varying
from .causal.evalue import EValueResult, e_value, e_values
from .missing.imputation import ImputedData, impute
from .causal.iv import CACEResult, IVResult, WeakInstrumentWarning, cace, fit_iv
from .mediation.lagged import lagged_mediation
from .regression.gee import GEEResult, fit_gee
from .regression.mixed import MixedResult, fit_mixed
from .mediation.product import MediationResult, mediate
from ..prep.panel import LaggedPanel, lagged_panel
from .missing.pooling import PooledMediationResult, PooledResult, fit_imputed, pool, pool_mediation
from .power.simulation import PowerBudgetError, PowerResult, power_mediation, power_survival, schoenfeld_events
from .causal.propensity import PositivityError, PropensityResult, fit_weighted, propensity_scores
from .regression.glm import RegressionResult, fit_regression
from .mediation.sensitivity import SensitivityResult, mediation_sensitivity
from .survival.kaplan_meier import KaplanMeierResult, LogRankResult, kaplan_meier

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
    "LogRankResult",
    "fit_cox",
    "CoxResult",
    "check_proportional_hazards",
    "ProportionalHazardsResult",
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
