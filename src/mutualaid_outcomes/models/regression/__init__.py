"""Regression: GLM-type families, GEE, mixed models, marginal effects, simple slopes."""

from .gee import GEEResult, fit_gee
from .glm import RegressionResult, fit_regression
from .marginal import MarginalEffectsResult, average_marginal_effects
from .mixed import MixedResult, fit_mixed
from .simple_slopes import (
    JohnsonNeymanResult,
    SimpleSlopesResult,
    johnson_neyman,
    simple_slopes,
)

__all__ = [
    "GEEResult",
    "JohnsonNeymanResult",
    "MarginalEffectsResult",
    "MixedResult",
    "RegressionResult",
    "SimpleSlopesResult",
    "average_marginal_effects",
    "fit_gee",
    "fit_mixed",
    "fit_regression",
    "johnson_neyman",
    "simple_slopes",
]
