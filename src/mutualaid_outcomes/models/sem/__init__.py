"""Structural equation models: lavaan syntax, ML and FIML, robust (MLR) inference.

:func:`fit_sem` fits a model written in lavaan syntax; :func:`cross_lagged_panel`
and :func:`latent_growth` build and fit the longitudinal designs the field uses from
long data; :func:`latent_mediation` fits exposure -> latent mediator(s) -> outcome
models and reports effects in the mediation vocabulary.
"""

from ._errors import HeywoodWarning, IdentificationError, ModelSyntaxError
from .builders import cross_lagged_panel, latent_growth, panel_wide
from .fit import fit_sem
from .latent_mediation import LatentMediationResult, latent_mediation
from .results import SEM_GLANCE_COLUMNS, SEMResult

__all__ = [
    "fit_sem",
    "SEMResult",
    "cross_lagged_panel",
    "latent_growth",
    "panel_wide",
    "latent_mediation",
    "LatentMediationResult",
    "SEM_GLANCE_COLUMNS",
    "ModelSyntaxError",
    "IdentificationError",
    "HeywoodWarning",
]
