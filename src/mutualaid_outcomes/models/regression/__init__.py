"""Regression: GLM-type and likelihood families, GEE, linear mixed models, marginal effects."""

from .gee import GEEResult, fit_gee
from .glm import RegressionResult, fit_regression
from .marginal import MarginalEffectsResult, average_marginal_effects
from .mixed import MixedResult, fit_mixed

__all__ = [
    "GEEResult",
    "MarginalEffectsResult",
    "MixedResult",
    "RegressionResult",
    "average_marginal_effects",
    "fit_gee",
    "fit_mixed",
    "fit_regression",
]
