"""The data matrix of a product-of-coefficients mediation fit, and its conditioning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from .._core.design import check_equations

__all__ = ["checked_matrix"]


def checked_matrix(
    clean: pd.DataFrame, cols: list[str], n_cov: int, n_med: int, model: str
) -> tuple[np.ndarray, float, tuple[str, ...], str]:
    """The data matrix in the column order of the engine's ``Spec``; constant columns fail.

    Also the conditioning of the fitted equations (:func:`check_equations`): the largest
    scaled condition number, the columns it flags and the equation it comes from.
    """
    z = clean.loc[:, cols].to_numpy(dtype=float)
    sd = z.std(axis=0)
    roles = ["exposure"] + ["covariates"] * n_cov + ["mediators"] * n_med + ["outcome"]
    const = [(c, r) for c, r, s in zip(cols, roles, sd) if not s > 0]
    if const:
        detail = ", ".join(f"'{c}' ({r})" for c, r in const)
        raise DataValidationError(
            f"Constant column(s) after removing incomplete rows: {detail}. A mediation model "
            "needs variation in the exposure, every mediator, covariate and the outcome."
        )
    # mediator j: intercept, exposure, covariates (and earlier mediators in a serial
    # model); the outcome: every predictor
    x = np.column_stack([np.ones(len(z)), z[:, :-1]])
    names = ["Intercept", *cols[:-1]]
    base = 2 + n_cov
    designs = [
        (
            f"model of mediator '{cols[base - 1 + j]}'",
            x[:, : base + (j if model == "serial" else 0)],
            names[: base + (j if model == "serial" else 0)],
        )
        for j in range(n_med)
    ]
    designs.append(("outcome model", x, names))
    kappa, flagged, worst = check_equations(
        designs, "exposure/mediators/covariates", refuse_exact=True
    )
    return z, kappa, flagged, worst
