"""Statistical models: regression, longitudinal, mediation, survival, causal inference and power.

Each model function takes a DataFrame and column names and returns an immutable
result with ``tidy()``, ``glance()`` and ``summary()``.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

# Imported on first use (see mutualaid_outcomes/_lazy.py): ``fit_cox`` loads the
# survival code only, not statsmodels and every other method.
if TYPE_CHECKING:
    from ..prep.counting_process import (
        CountingProcess,
        to_counting_process,
        validate_counting_process,
    )
    from ..prep.panel import LaggedPanel, lagged_panel
    from .causal.evalue import EValueResult, e_value, e_values
    from .causal.iv import CACEResult, IVResult, WeakInstrumentWarning, cace, fit_iv
    from .causal.propensity import (
        PositivityError,
        PropensityResult,
        fit_weighted,
        propensity_scores,
    )
    from .mediation.causal import CausalMediationResult, causal_mediation
    from .mediation.lagged import lagged_mediation
    from .mediation.multilevel import MultilevelMediationResult, multilevel_mediation
    from .mediation.product import MediationResult, ModeratedMediationResult, mediate
    from .mediation.sensitivity import SensitivityResult, mediation_sensitivity
    from .meta import (
        EggerTestResult,
        InfluenceResult,
        LeaveOneOutResult,
        MetaResult,
        TrimFillResult,
        effect_sizes,
        egger_test,
        influence_diagnostics,
        leave_one_out,
        meta_analysis,
        trim_and_fill,
    )
    from .missing.imputation import ImputedData, impute
    from .missing.pooling import (
        PooledMediationResult,
        PooledResult,
        fit_imputed,
        pool,
        pool_mediation,
    )
    from .power import (
        PowerBudgetError,
        PowerResult,
        power_mediation,
        power_survival,
        schoenfeld_events,
    )
    from .regression.gee import GEEResult, fit_gee
    from .regression.glm import RegressionResult, fit_regression
    from .regression.mixed import MixedResult, fit_mixed
    from .regression.simple_slopes import (
        JohnsonNeymanResult,
        SimpleSlopesResult,
        johnson_neyman,
        simple_slopes,
    )
    from .sem import (
        HeywoodWarning,
        IdentificationError,
        LatentMediationResult,
        ModelSyntaxError,
        SEMResult,
        cross_lagged_panel,
        fit_sem,
        latent_growth,
        latent_mediation,
    )
    from .survey import (
        ReplicateDesign,
        SurveyDesign,
        SurveyEstimateResult,
        SurveyGLMResult,
        SurveyTableResult,
        replicate_design,
        survey_design,
        survey_glm,
        survey_mean,
        survey_proportion,
        survey_quantile,
        survey_ratio,
        survey_table,
        survey_total,
        weighted_summary,
    )
    from .survival.competing_risks import (
        CumulativeIncidenceResult,
        FineGrayResult,
        GrayTestResult,
        cumulative_incidence,
        fit_fine_gray,
        gray_test,
    )
    from .survival.cox import (
        CoxResult,
        ProportionalHazardsResult,
        check_proportional_hazards,
        fit_cox,
    )
    from .survival.cox_time_varying import fit_cox_time_varying
    from .survival.kaplan_meier import KaplanMeierResult, LogRankResult, kaplan_meier
    from .trajectories import (
        DistalOutcomeResult,
        TrajectoryComparisonResult,
        TrajectoryResult,
        compare_trajectories,
        distal_outcome,
        fit_trajectories,
    )

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
    "multilevel_mediation",
    "MultilevelMediationResult",
    "ModeratedMediationResult",
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
    "meta_analysis",
    "MetaResult",
    "effect_sizes",
    "leave_one_out",
    "LeaveOneOutResult",
    "influence_diagnostics",
    "InfluenceResult",
    "egger_test",
    "EggerTestResult",
    "trim_and_fill",
    "TrimFillResult",
    "survey_design",
    "SurveyDesign",
    "replicate_design",
    "ReplicateDesign",
    "survey_mean",
    "survey_total",
    "survey_ratio",
    "survey_proportion",
    "survey_quantile",
    "SurveyEstimateResult",
    "survey_glm",
    "SurveyGLMResult",
    "survey_table",
    "SurveyTableResult",
    "weighted_summary",
    "fit_sem",
    "SEMResult",
    "cross_lagged_panel",
    "latent_growth",
    "latent_mediation",
    "LatentMediationResult",
    "ModelSyntaxError",
    "IdentificationError",
    "HeywoodWarning",
    "simple_slopes",
    "SimpleSlopesResult",
    "johnson_neyman",
    "JohnsonNeymanResult",
    "fit_trajectories",
    "TrajectoryResult",
    "compare_trajectories",
    "TrajectoryComparisonResult",
    "distal_outcome",
    "DistalOutcomeResult",
]

__getattr__, __dir__ = attach(__name__, __file__, __all__)
