"""Argument checks and the design of :func:`.causal.causal_mediation`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import (
    as_column_list,
    check_binary,
    check_columns,
    check_conf_level,
    check_option,
)
from ...errors import ArgumentTypeError, DataValidationError, DataWarning, OptionError
from .._core.bootstrap import check_n_boot
from .._core.design import check_equations
from ._causal_engine import Design

__all__ = [
    "CIS",
    "DEFAULT_DRAWS",
    "LINK_OF",
    "METHODS",
    "Options",
    "causal_design",
    "check_draws",
    "check_number",
    "check_options",
    "check_roles",
]


LINKS = {"gaussian": ("identity",), "binomial": ("logit", "probit")}


#: default number of bootstrap resamples (``n_boot``) or quasi-Bayesian draws (``n_sims``)
DEFAULT_DRAWS = 1000


METHODS = ("bootstrap", "quasi_bayesian")


CIS = ("percentile", "bca")


def check_number(value, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"`{argument}` must be a number; got {value!r}.")
    if not np.isfinite(value):
        raise DataValidationError(f"`{argument}` must be finite; got {value!r}.")
    return float(value)


def is_binary(values: np.ndarray) -> bool:
    u = np.unique(values)
    return u.size <= 2 and set(u.tolist()) <= {0.0, 1.0}


#: link of each engine model code
LINK_OF = {"linear": "identity", "logit": "logit", "probit": "probit"}


def model_code(family: str, link: str | None, role: str) -> str:
    """The engine's model (``'linear'``, ``'logit'``, ``'probit'``) of a family and link."""
    if family in ("linear", "logit", "probit"):
        new = "'gaussian'" if family == "linear" else f"'binomial', {role}_link='{family}'"
        raise OptionError(
            f"`{role}_family={family!r}` is a model name of the old interface: use "
            f"{role}_family={new}."
        )
    check_option(family, tuple(LINKS), f"{role}_family")
    link = LINKS[family][0] if link is None else link
    check_option(link, LINKS[family], f"{role}_link")
    return "linear" if family == "gaussian" else str(link)


def one_mediator(mediators: str | Sequence[str]) -> str:
    meds = as_column_list(mediators, "mediators")
    if len(meds) != 1:
        raise DataValidationError(
            f"`mediators` must name exactly one column for causal_mediation (the estimands "
            f"are defined for one mediator); got {meds}. Use mediate() for several."
        )
    return meds[0]


def check_draws(method: str, n_boot: int | None, n_sims: int | None) -> tuple[int, str]:
    """The number of draws and its argument: ``n_boot`` (bootstrap) or ``n_sims``."""
    if method == "bootstrap":
        if n_sims is not None:
            raise OptionError(
                "`n_sims` counts quasi-Bayesian draws (method='quasi_bayesian'); the bootstrap "
                "takes its number of resamples from `n_boot`."
            )
        return (DEFAULT_DRAWS if n_boot is None else n_boot), "n_boot"
    if n_boot is not None:
        raise OptionError(
            "`n_boot` counts bootstrap resamples; method='quasi_bayesian' takes its number of "
            "draws from `n_sims`."
        )
    return (DEFAULT_DRAWS if n_sims is None else n_sims), "n_sims"


@dataclass(frozen=True)
class Options:
    """Validated model and inference options of :func:`causal_mediation`."""

    mediator_model: str
    outcome_model: str
    method: str
    ci: str
    vanderweele: bool
    conf_level: float
    t0: float
    t1: float
    n_draws: int


def check_options(
    mediator_family: Any,
    mediator_link: Any,
    outcome_family: Any,
    outcome_link: Any,
    *,
    method: Any,
    ci: Any,
    interaction: Any,
    conf_level: Any,
    control_value: Any,
    treat_value: Any,
    n_boot: Any,
    n_sims: Any,
) -> Options:
    """Validate the model and inference options of :func:`causal_mediation`."""
    mediator_model = model_code(mediator_family, mediator_link, "mediator")
    outcome_model = model_code(outcome_family, outcome_link, "outcome")
    method = check_option(method, METHODS, "method")
    ci = check_option(ci, CIS, "ci")
    if not isinstance(interaction, (bool, np.bool_)):
        raise ArgumentTypeError(f"`interaction` must be True or False; got {interaction!r}.")
    if ci == "bca" and method != "bootstrap":
        raise OptionError(
            "`ci='bca'` needs `method='bootstrap'` (BCa intervals need resamples and a "
            "jackknife); use ci='percentile' with method='quasi_bayesian'."
        )
    # VanderWeele's closed forms exist for linear and logit models only
    vanderweele = bool(interaction) and "probit" not in (mediator_model, outcome_model)
    conf_level = check_conf_level(conf_level)
    t0 = check_number(control_value, "control_value")
    t1 = check_number(treat_value, "treat_value")
    if t0 == t1:
        raise DataValidationError(
            f"`treat_value` and `control_value` must differ; both are {t0:g}."
        )
    n_draws, draws_arg = check_draws(method, n_boot, n_sims)
    n_draws = check_n_boot(n_draws, ci, draws_arg)
    if n_draws < 2:
        raise DataValidationError(f"`{draws_arg}` must be at least 2; got {n_draws}.")
    return Options(
        mediator_model=mediator_model,
        outcome_model=outcome_model,
        method=method,
        ci=ci,
        vanderweele=vanderweele,
        conf_level=conf_level,
        t0=t0,
        t1=t1,
        n_draws=n_draws,
    )


def check_roles(
    data: pd.DataFrame, exposure: Any, mediators: Any, outcome: Any, covariates: Any
) -> tuple[str, list[str]]:
    """Role columns present, one mediator, each column in one role; mediator and covariates."""
    for arg, val in (("exposure", exposure), ("outcome", outcome)):
        if not isinstance(val, str):
            raise ArgumentTypeError(f"`{arg}` must be a column name (str); got {val!r}.")
    mediator = one_mediator(mediators)
    covs = as_column_list(covariates, "covariates")
    check_columns(data, [exposure], "exposure")
    check_columns(data, [mediator], "mediators")
    check_columns(data, [outcome], "outcome")
    check_columns(data, covs, "covariates")
    roles = {"exposure": exposure, "mediators": mediator, "outcome": outcome}
    seen: dict[str, str] = {}
    for role, col in roles.items():
        if col in seen:
            raise DataValidationError(
                f"`{role}` and `{seen[col]}` both name column '{col}'; the exposure, "
                "mediator and outcome must be different columns."
            )
        seen[col] = role
    clash = [c for c in covs if c in seen]
    if clash:
        raise DataValidationError(
            f"`covariates` contains {clash}, which is also the "
            f"{', '.join(seen[c] for c in clash)}; remove it from the covariates."
        )
    dup = sorted({c for c in covs if covs.count(c) > 1})
    if dup:
        raise DataValidationError(f"`covariates` lists {dup} more than once.")
    return mediator, covs


def causal_design(
    clean: pd.DataFrame,
    exposure: str,
    mediator: str,
    outcome: str,
    covs: list[str],
    opts: Options,
    interaction: bool,
) -> tuple[Design, tuple[float, tuple[str, ...], str]]:
    """Arrays of both models on the complete rows, after checking them.

    Also their conditioning (:func:`~mutualaid_outcomes.models._core.design.check_equations`):
    the largest scaled condition number of the two designs, the columns it flags and
    the model it comes from; a singular design is refused naming its columns.
    """
    mediator_model, outcome_model, t0, t1 = (
        opts.mediator_model,
        opts.outcome_model,
        opts.t0,
        opts.t1,
    )
    arr = {c: clean[c].to_numpy(dtype=float) for c in [exposure, mediator, outcome, *covs]}
    t, m, y = arr[exposure], arr[mediator], arr[outcome]
    cmat = np.column_stack([arr[c] for c in covs]) if covs else np.zeros((t.size, 0))
    if np.unique(t).size < 2:
        raise DataValidationError(
            f"`exposure` ('{exposure}') is constant in the {t.size} rows used; it must vary."
        )
    outside = [v for v in (t0, t1) if not t.min() <= v <= t.max()]
    if outside:
        warnings.warn(
            f"`control_value`/`treat_value` {[float(v) for v in outside]} lie outside the "
            f"observed range of `exposure` ('{exposure}', {t.min():g} to {t.max():g}); "
            "the effects extrapolate the fitted models.",
            DataWarning,
            stacklevel=3,
        )
    for role, arg, col, model, values in (
        ("mediator", "mediators", mediator, mediator_model, m),
        ("outcome", "outcome", outcome, outcome_model, y),
    ):
        if model != "linear":
            check_binary(clean[col], f"{arg} ({role}_family='binomial')")
        elif is_binary(values):
            warnings.warn(
                f"`{arg}` ('{col}') is coded 0/1 but `{role}_family='gaussian'`; "
                f"consider {role}_family='binomial'.",
                DataWarning,
                stacklevel=3,
            )
        if np.unique(values).size < 2:
            raise DataValidationError(f"`{arg}` ('{col}') is constant in the rows used.")
    design = Design(t, m, y, cmat, mediator_model, outcome_model, bool(interaction))
    names = ["Intercept", exposure, mediator, *([f"{exposure}:{mediator}"] * interaction), *covs]
    conditioning = check_equations(
        [
            ("mediator model", design.x_m, ["Intercept", exposure, *covs]),
            ("outcome model", design.x_y, names),
        ],
        "exposure/mediators/covariates",
        refuse_exact=True,
    )
    for name, x in (("mediator", design.x_m), ("outcome", design.x_y)):
        if np.linalg.matrix_rank(x) < x.shape[1]:
            raise DataValidationError(
                f"The {name} model's design matrix is rank deficient (collinear exposure, "
                "mediator or covariates, or a covariate constant in the rows used)."
            )
    return design, conditioning
