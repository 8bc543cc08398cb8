"""From internal estimates to reported ones: names, raw-scale map and covariance (internal).

Reported trajectory coefficients are those of ``poly(time, d, raw = TRUE)`` and of the
covariates on their own scale; they are a linear map ``A`` of the internal (scaled-time,
standardised) coefficients (:meth:`.panel.Panel.x_map`). ``sigma`` is reported as
``exp(log sigma)``; zero-inflation and membership coefficients stay on the logit scale
(membership coefficients through the map of :meth:`.panel.Panel.z_map`). The reported
covariance is ``J V J'`` with ``J`` the Jacobian of this map (linear except for ``sigma``,
where it is the delta method).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .panel import Panel
from .params import Layout, Params, Spec

__all__ = ["report"]


def report(
    panel: Panel, spec: Spec, layout: Layout, params: Params, V: np.ndarray
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Reported estimates, their covariance and a ``class``/``part`` frame per parameter."""
    P = layout.n_params
    theta = layout.pack(params)
    J = np.zeros((P, P))
    names: list[str] = [""] * P
    cls: list[object] = [pd.NA] * P
    part: list[str] = [""] * P
    Ax = panel.x_map()
    for k in range(layout.K):
        act = np.flatnonzero(layout.valid[k, : layout.p])
        idx = layout.gidx[k, act]
        J[np.ix_(idx, idx)] = Ax[np.ix_(act, act)]
        for j, pos in zip(act, idx):
            names[pos] = f"class{k + 1}:{panel.x_names[j]}"
            cls[pos], part[pos] = k + 1, "trajectory"
        if layout.has_anc:
            pos = int(layout.gidx[k, layout.p])
            if spec.family.ancillary == "log_sigma":
                J[pos, pos] = float(np.exp(theta[pos]))
                label, kind = "sigma", "sigma"
            else:
                J[pos, pos] = 1.0
                label, kind = "zero_(Intercept)", "zero"
            if layout.shared_pos is None:
                names[pos] = f"class{k + 1}:{label}"
                cls[pos], part[pos] = k + 1, kind
            else:
                names[pos], part[pos] = label, kind
    Az = panel.z_map()
    for lidx in range(layout.K - 1):
        idx = layout.gam_idx[lidx]
        J[np.ix_(idx, idx)] = Az
        for jz, pos in enumerate(idx):
            names[pos] = f"membership:class{lidx + 2}:{panel.z_names[jz]}"
            cls[pos], part[pos] = lidx + 2, "membership"
    est = J @ theta  # linear part; sigma (delta-method rows of J) is set exactly below
    if spec.family.ancillary == "log_sigma":
        pos = np.unique(layout.gidx[:, layout.p])
        est[pos] = np.exp(theta[pos])
    cov = J @ V @ J.T
    params_s = pd.Series(est, index=names, name="estimate")
    cov_df = pd.DataFrame(cov, index=names, columns=names)
    meta = pd.DataFrame({"class": pd.array(cls, dtype="Int64"), "part": part}, index=names)
    return params_s, cov_df, meta
