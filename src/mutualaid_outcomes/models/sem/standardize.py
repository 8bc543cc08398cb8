r"""Completely standardised estimates (lavaan ``std.all``).

With :math:`\sigma_v` the model-implied standard deviation of variable ``v`` (observed or
latent, from :math:`B S B^\top`) and :math:`r_v` the square root of ``v``'s own
(residual) variance parameter:

* loadings ``f =~ x`` and regressions ``y ~ x``: :math:`\hat\beta\,\sigma_x/\sigma_y`;
* variances: :math:`\hat\psi_{vv}/\sigma_v^2` (residual variance over total variance);
* covariances: :math:`\hat\psi_{uv}/(r_u r_v)` (a residual correlation);
* intercepts and means: :math:`\hat\nu_v/\sigma_v`;
* defined parameters: the definition evaluated at the standardised values of the
  parameters (the first occurrence of each free parameter), as lavaan does.

Agrees with lavaan 0.6.14 ``parameterEstimates(standardized = TRUE)$std.all``.
"""

from __future__ import annotations

import numpy as np

from .defined import DefinedParameters
from .partable import ParTable
from .ram import RamModel

__all__ = ["std_all"]


def std_all(
    pt: ParTable,
    model: RamModel,
    theta: np.ndarray,
    values: np.ndarray,
    defined: DefinedParameters | None = None,
) -> np.ndarray:
    """Standardised value of every row of ``pt`` (NaN where undefined).

    Parameters
    ----------
    pt : ParTable
        Parameter table.
    model : RamModel
        Numerical model.
    theta : numpy.ndarray
        Estimates of the free parameters.
    values : numpy.ndarray
        Value of every row (estimates and fixed values).
    defined : DefinedParameters, optional
        To recompute ``:=`` rows from standardised parameters.
    """
    out = np.full(len(pt.rows), np.nan)
    idx = model.index
    sds = []
    for g in range(pt.n_groups):
        var = np.diag(model.implied_group(theta, g).sigma_all)
        sd = np.full(var.size, np.nan)
        ok = var > np.finfo(float).eps
        sd[ok] = np.sqrt(var[ok])
        sds.append(sd)
    resid: dict[tuple[int, str], float] = {}
    for k, r in enumerate(pt.rows):
        if r.op == "~~" and r.lhs == r.rhs:
            resid[(r.group, r.lhs)] = float(np.sqrt(abs(values[k])))
    for k, r in enumerate(pt.rows):
        if r.op == ":=":
            continue
        sd = sds[r.group]
        v = values[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            if r.op == "=~":
                out[k] = v * sd[idx[r.lhs]] / sd[idx[r.rhs]]
            elif r.op == "~":
                out[k] = v * sd[idx[r.rhs]] / sd[idx[r.lhs]]
            elif r.op == "~1":
                out[k] = v / sd[idx[r.lhs]]
            elif r.lhs == r.rhs:
                out[k] = v / sd[idx[r.lhs]] ** 2
            else:
                out[k] = v / (resid[(r.group, r.lhs)] * resid[(r.group, r.rhs)])
    if defined is not None and len(defined):
        x = np.zeros(pt.n_free)
        seen = set()
        for k, r in enumerate(pt.rows):
            if r.free and r.free not in seen:
                seen.add(r.free)
                x[r.free - 1] = out[k]
        d = defined.values(x)
        j = 0
        for k, r in enumerate(pt.rows):
            if r.op == ":=":
                out[k] = d[j]
                j += 1
    return out
