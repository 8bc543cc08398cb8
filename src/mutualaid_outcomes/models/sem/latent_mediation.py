r"""Mediation through latent mediators: exposure -> latent mediator(s) -> outcome.

:func:`latent_mediation` writes and fits the structural equation model

.. code-block:: text

   support =~ s1 + s2 + s3          # one measurement model per latent mediator
   support ~ a1*exposure + covariates
   outcome ~ b1*support + cp*exposure + covariates
   ind1 := a1*b1 ; total_ind := ind1 + ... ; total := cp + total_ind

(parallel mediators get correlated residuals) and reports the effects in the vocabulary
of :func:`~mutualaid_outcomes.models.mediation.product.mediate`: ``a[m]``, ``b[m]``,
``indirect[m]``, ``total_indirect``, ``direct``, ``total``, ``prop_mediated``. Mediators
not named in ``indicators`` enter as observed variables, so a model may mix observed and
latent mediators. Because the mediator is measured without error, the indirect effect
is not attenuated by the unreliability of the questionnaire (Ledgerwood & Shrout 2011).

Intervals: delta-method (Wald) by default; with ``n_boot`` the joint bootstrap of the
whole model (percentile or BCa) through the package's resampling helpers.

References
----------
Ledgerwood, A. & Shrout, P. E. (2011). The trade-off between accuracy and precision in
latent variable models of mediation processes. *JPSP*, 101, 1174-1188.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ..._validation import as_column_list, check_dataframe
from ...errors import ArgumentTypeError, DataValidationError
from ...results import TIDY_COLUMNS, BaseResult, glance_frame
from .fit import fit_sem
from .results import SEMResult

__all__ = ["latent_mediation", "LatentMediationResult", "LATENT_MEDIATION_GLANCE_COLUMNS"]

#: Glance columns: the mediation family's (``mediate()``) plus SEM fit.
LATENT_MEDIATION_GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "n_boot",
    "n_failed",
    "ci",
    "conf_level",
    "seed",
    "n_clusters",
    "model",
    "method",
    "condition_number",
    "collinear",
    "chisq",
    "df",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
)


def _syntax(exposure, mediators, outcome, covariates, indicators) -> tuple[str, dict[str, str]]:
    lines = []
    for m in mediators:
        if m in indicators:
            lines.append(f"{m} =~ " + " + ".join(indicators[m]))
    cov = (" + " + " + ".join(covariates)) if covariates else ""
    for k, m in enumerate(mediators, start=1):
        lines.append(f"{m} ~ a{k}*{exposure}{cov}")
    bterms = " + ".join(f"b{k}*{m}" for k, m in enumerate(mediators, start=1))
    lines.append(f"{outcome} ~ {bterms} + cp*{exposure}{cov}")
    for i in range(len(mediators)):
        for j in range(i + 1, len(mediators)):
            lines.append(f"{mediators[i]} ~~ {mediators[j]}")
    names = {}
    for k, m in enumerate(mediators, start=1):
        lines.append(f"ind{k} := a{k}*b{k}")
        names[f"ind{k}"] = f"indirect[{m}]"
        names[f"a{k}"] = f"a[{m}]"
        names[f"b{k}"] = f"b[{m}]"
    lines.append("total_ind := " + " + ".join(f"ind{k}" for k in range(1, len(mediators) + 1)))
    lines.append("total := cp + total_ind")
    lines.append("prop := total_ind / total")
    names.update(total_ind="total_indirect", cp="direct", total="total", prop="prop_mediated")
    return "\n".join(lines) + "\n", names


@dataclass(frozen=True, repr=False, eq=False)
class LatentMediationResult(BaseResult):
    """Effects of a latent-mediator model, in the mediation vocabulary.

    Attributes
    ----------
    sem : SEMResult
        The fitted structural equation model (measurement model, fit indices,
        modification indices, path diagram).
    effect_labels : dict
        SEM label -> effect term (``"a1" -> "a[support]"``).
    """

    sem: SEMResult
    effect_labels: dict[str, str]
    exposure: str
    mediators: tuple[str, ...]
    outcome: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    _can_exponentiate = False

    def _rows(self, conf_level: float) -> pd.DataFrame:
        td = self.sem.tidy(conf_level=conf_level)
        key = td["label"].where(td["op"] != ":=", td["lhs"])
        td = td.assign(key=key)
        td = td[td["key"].isin(self.effect_labels)].drop_duplicates("key")
        order = {lab: k for k, lab in enumerate(self._order())}
        td = td.assign(_o=td["key"].map(order)).sort_values("_o")
        return td.assign(sem_term=td["term"], term=td["key"].map(self.effect_labels))

    def _order(self) -> list[str]:
        k = len(self.mediators)
        return (
            [f"a{i}" for i in range(1, k + 1)]
            + [f"b{i}" for i in range(1, k + 1)]
            + [f"ind{i}" for i in range(1, k + 1)]
            + ["total_ind", "cp", "total", "prop"]
        )

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return self._rows(conf_level).loc[:, list(TIDY_COLUMNS)].reset_index(drop=True)

    @property
    def terms(self) -> tuple[str, ...]:
        """Effect terms in :meth:`tidy` order."""
        return tuple(self._rows(0.95)["term"])

    def coef(self) -> pd.Series:
        """Effect estimates."""
        r = self._rows(0.95)
        return pd.Series(r["estimate"].to_numpy(), index=list(r["term"]), name="estimate")

    def vcov(self) -> pd.DataFrame:
        """Covariance of the effects (delta method from the SEM covariance)."""
        r = self._rows(0.95)
        out = self.sem.vcov().loc[list(r["sem_term"]), list(r["sem_term"])].copy()
        out.index = out.columns = list(r["term"])
        return out

    @property
    def nobs(self) -> int:
        """Rows used."""
        return self.sem.nobs

    @property
    def df_resid(self) -> None:
        """``None`` (large-sample inference)."""
        return None

    @property
    def estimate(self) -> pd.Series:
        """Point estimates indexed by effect term (as ``MediationResult.estimate``)."""
        return self.coef()

    def glance(self) -> pd.DataFrame:
        """Mediation-family columns plus ``chisq, df, cfi, tli, rmsea, srmr``.

        ``condition_number`` and ``collinear`` are NaN: the mediators are latent, so no
        observed design matrix is fitted (the SEM checks its sample covariance matrix).
        """
        g = self.sem.glance().iloc[0]
        i = self.sem.info
        if not i["n_boot"]:
            method = f"delta method ({i['cov_type']} SEs)"
        elif i["ci"] == "monte_carlo":
            method = f"Monte Carlo ({i['n_boot']} draws)"
        else:
            method = f"{i['ci']} bootstrap ({i['n_boot']} resamples)"
        values = {
            "n": i["n"],
            "n_dropped": i["n_dropped"],
            "n_boot": i["n_boot"],
            "n_failed": i["n_failed"],
            "ci": i["ci"],
            "conf_level": i["conf_level"],
            "seed": i["seed"],
            "n_clusters": i["n_clusters"],
            "model": "parallel" if len(self.mediators) > 1 else "simple",
            "method": f"SEM with latent mediators ({i['estimator']}); {method}",
        }
        values.update({k: g[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr")})
        return glance_frame(values, LATENT_MEDIATION_GLANCE_COLUMNS)

    def _title(self) -> str:
        k = len(self.mediators)
        return f"Mediation with latent mediators ({k} mediator{'s' if k > 1 else ''}, SEM)"

    def _notes(self) -> list[str]:
        return list(self.notes) + list(self.sem.notes)


def latent_mediation(
    data: pd.DataFrame,
    exposure: str,
    mediators: Sequence[str] | str,
    outcome: str,
    *,
    indicators: Mapping[str, Sequence[str]],
    covariates: Sequence[str] | None = None,
    missing: Literal["listwise", "fiml"] = "listwise",
    estimator: Literal["ML", "MLR"] = "ML",
    cov_type: Literal["model", "robust"] | None = None,
    n_boot: int = 0,
    ci: Literal["wald", "percentile", "bca", "monte_carlo"] | None = None,
    conf_level: float = 0.95,
    cluster: str | None = None,
    rng: Any = None,
) -> LatentMediationResult:
    """Mediation with latent (and observed) mediators, fitted as one SEM.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person.
    exposure : str
        Exposure column.
    mediators : list of str
        Mediator names: keys of ``indicators`` (latent) or columns (observed).
    outcome : str
        Outcome column.
    indicators : mapping
        ``{latent mediator: [indicator columns]}`` (at least two indicators each; the
        first is the marker with loading 1).
    covariates : list of str, optional
        Adjustment covariates of the mediators and the outcome.
    missing, estimator, cov_type, n_boot, ci, conf_level, cluster, rng
        Passed to :func:`~mutualaid_outcomes.models.sem.fit_sem` (``n_boot`` > 0 gives
        bootstrap intervals of every effect).

    Returns
    -------
    LatentMediationResult
        ``tidy()`` rows ``a[m]``, ``b[m]``, ``indirect[m]``, ``total_indirect``,
        ``direct``, ``total``, ``prop_mediated``; the full model in ``.sem``.

    Raises
    ------
    DataValidationError
        A latent mediator with fewer than two indicators, overlapping roles.

    Notes
    -----
    ``indirect[m] = a_m b_m``; ``total = direct + total_indirect``; ``prop_mediated =
    total_indirect / total``. Delta-method SEs use the Jacobian of these definitions
    (lavaan's ``:=``). Validated against lavaan 0.6.14 (estimates, SEs and bootstrap
    percentile limits of the indirect effect, ``tests/reference/sem_lavaan.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> n = 400
    >>> x = rng.binomial(1, 0.5, n).astype(float)
    >>> eta = 0.5 * x + rng.normal(size=n)
    >>> df = pd.DataFrame({"x": x, "y": 0.4 * eta + 0.2 * x + rng.normal(size=n)})
    >>> for k, lam in enumerate((1.0, 0.8, 1.2), start=1):
    ...     df[f"s{k}"] = lam * eta + rng.normal(scale=0.6, size=n)
    >>> res = latent_mediation(df, "x", ["support"], "y",
    ...                        indicators={"support": ["s1", "s2", "s3"]})
    >>> res.tidy()["term"].tolist()
    ['a[support]', 'b[support]', 'indirect[support]', 'total_indirect', 'direct', 'total', 'prop_mediated']
    >>> round(float(res.estimate["indirect[support]"]), 3)
    0.229
    """
    data = check_dataframe(data)
    meds = as_column_list(mediators, "mediators")
    covs = as_column_list(covariates, "covariates")
    if not isinstance(indicators, Mapping):
        raise ArgumentTypeError(
            f"`indicators` must map latent mediators to lists of columns; got {type(indicators).__name__}."
        )
    inds = {m: as_column_list(v, f"indicators['{m}']") for m, v in indicators.items()}
    unknown = [m for m in inds if m not in meds]
    if unknown:
        raise DataValidationError(
            f"`indicators` names {unknown}, which are not in `mediators` {meds}."
        )
    short = [m for m, v in inds.items() if len(v) < 2]
    if short:
        raise DataValidationError(
            f"Latent mediators {short} need at least two indicators (three or more for a "
            "separately identified measurement model)."
        )
    roles = [exposure, outcome, *meds, *covs, *(c for v in inds.values() for c in v)]
    dup = sorted({c for c in roles if roles.count(c) > 1})
    if dup:
        raise DataValidationError(
            f"Columns {dup} play more than one role (exposure, mediator, outcome, covariate, indicator)."
        )
    syntax, names = _syntax(exposure, meds, outcome, covs, inds)
    sem = fit_sem(
        data,
        syntax,
        missing=missing,
        estimator=estimator,
        cov_type=cov_type,
        n_boot=n_boot,
        ci=ci,
        conf_level=conf_level,
        cluster=cluster,
        rng=rng,
    )
    return LatentMediationResult(sem, names, exposure, tuple(meds), outcome)
