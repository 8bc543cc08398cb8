"""Errors and warnings specific to structural equation models.

Each subclasses the package's own classes (and through them the matching built-in),
so ``except ValueError`` / ``except RuntimeError`` keep working.

Examples
--------
>>> issubclass(ModelSyntaxError, ValueError), issubclass(IdentificationError, RuntimeError)
(True, True)
"""

from __future__ import annotations

from ...errors import EstimationError, MutualAidWarning, SpecError

__all__ = ["ModelSyntaxError", "IdentificationError", "HeywoodWarning"]


class ModelSyntaxError(SpecError):
    """The lavaan model syntax cannot be parsed; the message gives the line and column."""


class IdentificationError(EstimationError):
    """The model is not identified.

    More free parameters than moments, or a rank-deficient Jacobian of the model-implied
    moments; the message names the parameters involved.
    """


class HeywoodWarning(MutualAidWarning):
    """A variance estimate is negative (a Heywood case).

    Also issued when the model-implied covariance matrix of the latent variables is not
    positive definite; the result flags it in ``glance()``.
    """
