"""Missing data: multiple imputation by chained equations and pooling by Rubin's rules."""

from .imputation import ImputedData, impute
from .pooling import (
    PooledMediationResult,
    PooledResult,
    fit_imputed,
    pool,
    pool_mediation,
    rubin_rules,
)

__all__ = [
    "ImputedData",
    "PooledMediationResult",
    "PooledResult",
    "fit_imputed",
    "impute",
    "pool",
    "pool_mediation",
    "rubin_rules",
]
