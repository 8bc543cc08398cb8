"""Causal mediation analysis in the potential-outcomes framework.

:func:`causal_mediation` estimates the average causal mediation effects (ACME), average
direct effects (ADE), total effect and proportion mediated of Imai, Keele & Tingley
(2010) for linear, logit and probit mediator and outcome models, with nonparametric
bootstrap or quasi-Bayesian intervals; with a exposure-mediator interaction it also
reports VanderWeele's controlled and natural effects and the four-way decomposition.
Models are named by family and link (``"gaussian"``; ``"binomial"`` with ``"logit"`` or
``"probit"``) as everywhere in the package.
:meth:`CausalMediationResult.sensitivity` runs the sensitivity analysis for unmeasured
mediator-outcome confounding (:mod:`mutualaid_outcomes.models.mediation.sensitivity`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._rng import RNGLike, check_rng, seed_of
from ..._validation import (
    MissingReport,
    check_dataframe,
    check_numeric,
    listwise_delete,
    renamed,
)
from ...errors import (
    BootstrapWarning,
    EstimationError,
)
from ...parallel import blas_single_thread
from .._core.bootstrap import iter_bootstrap_counts
from .._core.counts import count_threads
from .._core.design import collinearity_note
from ._causal_checks import (
    LINK_OF,
    Options,
    causal_design,
    check_number,
    check_options,
    check_roles,
)
from ._causal_engine import (
    IKT_TERMS,
    VW_TERMS,
    Design,
    fit_weighted,
    ikt_effects,
    vanderweele_effects,
    vcov,
)
from ._causal_result import GLANCE_COLUMNS, CausalMediationResult

__all__ = ["causal_mediation", "CausalMediationResult", "GLANCE_COLUMNS"]

Family = Literal["gaussian", "binomial"]
Link = Literal["identity", "logit", "probit"]
MethodType = Literal["bootstrap", "quasi_bayesian"]
CIType = Literal["percentile", "bca"]

# Resamples fitted in one batch (bounds memory at about _CHUNK * n * p^2 doubles).
_CHUNK = 250


@renamed(
    treatment="exposure",
    mediator="mediators",
    mediator_model="`mediator_family` and `mediator_link`",
    outcome_model="`outcome_family` and `outcome_link`",
)
def causal_mediation(
    data: pd.DataFrame,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    covariates: str | Sequence[str] = (),
    *,
    mediator_family: Family = "gaussian",
    mediator_link: Link | None = None,
    outcome_family: Family = "gaussian",
    outcome_link: Link | None = None,
    interaction: bool = False,
    control_value: float = 0,
    treat_value: float = 1,
    m_value: float | None = None,
    method: MethodType = "bootstrap",
    n_boot: int | None = None,
    n_sims: int | None = None,
    ci: CIType = "percentile",
    conf_level: float = 0.95,
    rng: RNGLike = None,
) -> CausalMediationResult:
    r"""Causal mediation effects (Imai, Keele & Tingley) and VanderWeele's decomposition.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    exposure : str
        Exposure (treatment) column; binary or continuous (see ``control_value``).
    mediators : list of str
        The mediator column, as a one-element list (the estimands are defined for one
        mediator; a single name is accepted too).
    outcome : str
        Outcome column.
    covariates : str or sequence of str
        Pre-exposure covariates, entered in both models (numeric; dummy-code categories).
    mediator_family, outcome_family : {'gaussian', 'binomial'}
        Family of the mediator and of the outcome model: linear regression, or a
        regression for a 0/1 variable.
    mediator_link, outcome_link : {'identity', 'logit', 'probit'}, optional
        Links: ``'identity'`` for gaussian; ``'logit'`` (default) or ``'probit'`` for
        binomial.
    interaction : bool
        Include the exposure x mediator product in the outcome model. With linear or
        logit models this adds VanderWeele's effects (``cde``, ``pnde``, ``tnde``,
        ``pnie``, ``tnie``) to ``tidy()`` and the four-way decomposition
        (:meth:`CausalMediationResult.four_way`); with a probit model only the
        Imai-Keele-Tingley estimands are reported (a note says so).
    control_value, treat_value : float
        The two exposure levels compared (any two values of a continuous exposure).
    m_value : float, optional
        Mediator level of the controlled direct effect and the four-way decomposition;
        by default the mediator mean for a linear mediator and 0 for a binary one.
    method : {'bootstrap', 'quasi_bayesian'}
        Nonparametric bootstrap (both models refitted on the same resampled rows), or
        draws of both models' coefficients from their asymptotic normal distributions.
    n_boot : int, optional
        Bootstrap resamples for ``method='bootstrap'`` (default 1000).
    n_sims : int, optional
        Quasi-Bayesian draws for ``method='quasi_bayesian'`` (default 1000). Giving
        ``n_boot`` with quasi-Bayesian draws, or ``n_sims`` with the bootstrap, is an
        error.
    ci : {'percentile', 'bca'}
        Interval type; BCa (jackknife acceleration) needs ``method='bootstrap'``.
    conf_level : float
        Level of the intervals.
    rng : int, numpy.random.Generator or None
        Randomness (keyword only).

    Returns
    -------
    CausalMediationResult
        ``tidy()`` rows ``acme_control``, ``acme_treated``, ``acme_average``,
        ``ade_control``, ``ade_treated``, ``ade_average``, ``total``,
        ``prop_mediated_control``, ``prop_mediated_treated``, ``prop_mediated_average``
        (and the VanderWeele rows with ``interaction=True``); a ``scale`` column says on
        which scale each row is. ``glance()`` reports ``n``, ``n_dropped``, method,
        ``n_boot`` or ``n_sims``, failed resamples, the seed and the models.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        Non-numeric columns, a constant exposure, a variable used in two roles, more
        than one mediator, ``treat_value == control_value``, a non-binary variable with a
        binomial model, or a singular design (the model and the columns of the
        dependency are named).
    OptionError
        An unknown option, BCa with quasi-Bayesian draws, or ``n_boot`` / ``n_sims``
        given with the other method.
    EstimationError
        A model cannot be fitted (no rows left, separation).

    Warns
    -----
    DataWarning
        A 0/1 mediator or outcome is given a gaussian model, ``control_value`` /
        ``treat_value`` lie outside the observed exposure range, or the predictors of a
        model are nearly collinear (Belsley's scaled condition number above ``1e4``;
        ``glance()`` records the largest over the mediator and outcome models as
        ``condition_number``, and ``collinear``).
    BootstrapWarning
        ``n_boot`` / ``n_sims`` is small for the chosen interval, or some resamples
        failed.

    Notes
    -----
    With exposure levels :math:`t_0` (control) and :math:`t_1`, and
    :math:`\bar\mu(t, t') = n^{-1}\sum_i E[Y_i(t, M_i(t'))]`, the estimands are

    .. math::

        \delta(t) = \bar\mu(t, t_1) - \bar\mu(t, t_0), \quad
        \zeta(t) = \bar\mu(t_1, t) - \bar\mu(t_0, t), \quad
        \tau = \bar\mu(t_1, t_1) - \bar\mu(t_0, t_0),

    ``acme_control`` :math:`=\delta(t_0)`, ``acme_treated`` :math:`=\delta(t_1)`,
    ``ade_control`` :math:`=\zeta(t_0)`, ``ade_treated`` :math:`=\zeta(t_1)`, the
    averages are means of the two, and ``prop_mediated_*`` :math:`=\delta/\tau`.
    Each :math:`E[Y_i(t, M_i(t'))]` is computed *exactly* from the fitted models:
    linear in the mediator for a linear outcome; for a normal mediator and a probit
    outcome :math:`\Phi\{(a + b\mu)/\sqrt{1 + b^2\sigma^2}\}`; for a normal mediator and a
    logit outcome by quadrature over the standardised mediator residual (Gauss-Hermite
    for :math:`|b\sigma| \le 1.45`, the trapezoid rule above), with the number of nodes
    chosen from :math:`|b\sigma|` so that the quadrature error is below 1e-10
    (:math:`\sigma` is the residual standard error with :math:`n - p` degrees of
    freedom); for a binary mediator as the two-point sum over :math:`m \in \{0, 1\}`.
    The point estimates are therefore deterministic plug-in values. R ``mediation``
    instead reports the mean of its simulations (which include simulated mediator
    values), so its printed estimates differ from ours by Monte Carlo error.

    Intervals are percentiles (or BCa) of the same estimands recomputed for each
    bootstrap resample (counts weight both models, so they share the resampled rows;
    the sample means use the resample) or for each quasi-Bayesian draw of the two
    coefficient vectors from :math:`N(\hat\beta, \hat V)` (the residual SD is held at
    its estimate, as in R ``mediation``). For a logit outcome and a normal mediator
    the draws (not the estimates, nor the jackknife values of BCa) evaluate the
    integrals in single precision, averaged in double: they agree with double-precision
    draws to 1e-6 (proportions mediated to 1e-4 relative), far inside their Monte Carlo
    error; the draws are computed on up to two threads, with the same values for any
    number of threads. The p-value is R ``mediation``'s:
    twice the smaller share of draws on either side of zero. Resamples whose models
    fail (singular design, separation) are dropped and counted in ``n_failed``.

    VanderWeele's effects (``interaction=True``) are evaluated at the covariate means
    (recomputed in each bootstrap resample; :math:`m^*` stays at its full-data value).
    For a linear outcome they are differences of means: with :math:`m^*` = ``m_value``,
    ``cde`` :math:`= (\theta_1 + \theta_3 m^*)(t_1 - t_0)`, ``pnde`` / ``tnde`` /
    ``pnie`` / ``tnie`` the natural effects (for linear models they equal ``ade_control``,
    ``ade_treated``, ``acme_control``, ``acme_treated``), and the four-way components
    ``cde + intref + intmed + pie = total`` (VanderWeele 2014). For a logit outcome
    they use the rare-outcome approximation :math:`P(Y=1 \mid t, m, c) \approx
    \exp(\text{linear predictor})`: natural and controlled effects are log odds ratios
    (e.g. :math:`\log OR^{PNDE} = \{\theta_1 + \theta_3(\beta_0 + \beta_1 t_0 +
    \beta_2'c + \theta_2\sigma^2)\}(t_1 - t_0) + \tfrac12\theta_3^2\sigma^2(t_1^2 - t_0^2)`
    for a normal mediator; VanderWeele & Vansteelandt 2010) and the four-way components
    are on the excess-relative-risk scale, summing to :math:`RR^{TE} - 1`.

    Validated against ``tests/reference/causal_mediation_jobs.R`` (R 4.2.2) on the JOBS II
    data: plug-in estimates of eleven linear, logit, probit, binary-mediator,
    continuous-exposure and interaction models agree with deterministic R computations
    from ``lm``/``glm`` fits (``predict`` and adaptive ``integrate``) to 1.2e-8 relative
    (ACME -0.01574465, ADE -0.04026470, total -0.05600935 for the standard model);
    VanderWeele's effects agree with his closed forms coded in R to 1e-10; bootstrap and
    quasi-Bayesian intervals agree within Monte Carlo error with an R re-implementation
    of ``mediation::mediate``'s algorithms (5,000 simulations) and with the intervals
    printed by R ``mediation`` itself (ACME [-0.0400, 0.01] bootstrap; full-covariate
    quasi-Bayesian ACME [-0.0318, 0.0033]). ``mediate`` simulates a mediator value per
    person and draw, which widens its intervals for a binary mediator (by about 20% on
    JOBS II); ours integrate the mediator out.

    References
    ----------
    Imai, K., Keele, L. & Tingley, D. (2010). A general approach to causal mediation
    analysis. *Psychological Methods*, 15, 309-334.
    VanderWeele, T. J. & Vansteelandt, S. (2010). Odds ratios for mediation analysis for a
    dichotomous outcome. *American Journal of Epidemiology*, 172, 1339-1348.
    VanderWeele, T. J. (2014). A unification of mediation and interaction: a 4-way
    decomposition. *Epidemiology*, 25, 749-761.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> t = rng.integers(0, 2, 300)
    >>> m = 0.5 * t + rng.normal(size=300)
    >>> y = 0.4 * m + 0.2 * t + rng.normal(size=300)
    >>> df = pd.DataFrame({"t": t, "m": m, "y": y})
    >>> res = causal_mediation(df, "t", ["m"], "y", n_boot=500, rng=2)
    >>> res.tidy().loc[[2, 5, 6], ["term", "estimate", "conf_low", "conf_high"]].round(3)
               term  estimate  conf_low  conf_high
    2  acme_average     0.261     0.153      0.391
    5   ade_average     0.306     0.048      0.584
    6         total     0.567     0.318      0.811
    """
    data = check_dataframe(data)
    mediator, covs = check_roles(data, exposure, mediators, outcome, covariates)
    opts = check_options(
        mediator_family,
        mediator_link,
        outcome_family,
        outcome_link,
        method=method,
        ci=ci,
        interaction=interaction,
        conf_level=conf_level,
        control_value=control_value,
        treat_value=treat_value,
        n_boot=n_boot,
        n_sims=n_sims,
    )
    cols = [exposure, mediator, outcome, *covs]
    check_numeric(data, cols, "exposure, mediators, outcome and covariates")
    generator = check_rng(rng)
    clean, report = listwise_delete(data, cols)
    # small products throughout: one BLAS thread (parallel.blas_single_thread)
    with blas_single_thread():
        design, (kappa, flagged, worst) = causal_design(
            clean, exposure, mediator, outcome, covs, opts, interaction
        )
        if m_value is None:
            m_star = float(design.m.mean()) if opts.mediator_model == "linear" else 0.0
        else:
            m_star = check_number(m_value, "m_value")
        bm, sm, by, sy = _fit_models(design)
        t0, t1 = opts.t0, opts.t1

        def estimands(bm_, by_, sm_, w_, draws=False):
            # draws behind intervals: single-precision logit-normal integrals, two threads
            fast = {"single": True, "threads": count_threads()} if draws else {}
            parts = [ikt_effects(bm_, by_, sm_, design, w_, t0, t1, **fast)]
            if opts.vanderweele:
                parts.append(vanderweele_effects(bm_, by_, sm_, design, w_, t0, t1, m_star))
            return np.concatenate(parts, axis=1)

        est = estimands(bm, by, sm, None)[0]
        draws, jack, n_failed = _draws(design, opts, bm, sm, by, sy, estimands, generator)
    glance_values = {
        "n": int(design.n),
        "n_dropped": int(report.n_dropped),
        "method": opts.method,
        "ci": opts.ci,
        "n_boot": int(opts.n_draws) if opts.method == "bootstrap" else np.nan,
        "n_sims": int(opts.n_draws) if opts.method == "quasi_bayesian" else np.nan,
        "n_failed": int(n_failed),
        "seed": seed_of(rng),
        "mediator_family": mediator_family,
        "mediator_link": LINK_OF[opts.mediator_model],
        "outcome_family": outcome_family,
        "outcome_link": LINK_OF[opts.outcome_model],
        "interaction": bool(interaction),
        "control_value": t0,
        "treat_value": t1,
        "m_value": m_star if opts.vanderweele else np.nan,
        "condition_number": kappa,
        "collinear": bool(flagged),
    }
    notes = _notes(report, opts, n_failed, interaction, m_star)
    if flagged:
        notes.append(collinearity_note(kappa, flagged, worst))
    return CausalMediationResult(
        **_split_four_way(est, draws, jack, opts.vanderweele, opts.outcome_model),
        ci=opts.ci,
        conf_level=opts.conf_level,
        glance_values=glance_values,
        notes=tuple(notes),
        design=design,
        exposure_values=(t0, t1),
    )


def _fit_models(design: Design) -> tuple[np.ndarray, ...]:
    """Full-data fits of both models (separation or non-convergence is an error)."""
    ones = np.ones((1, design.n))
    bm, sm, okm = fit_weighted(design.x_m, design.m, ones, design.mediator_model)
    by, sy, oky = fit_weighted(design.x_y, design.y, ones, design.outcome_model)
    if not (okm[0] and oky[0]):
        which = "mediator" if not okm[0] else "outcome"
        raise EstimationError(
            f"The {which} model could not be fitted (no convergence or complete separation)."
        )
    return bm, sm, by, sy


def _draws(
    design: Design,
    opts: Options,
    bm: np.ndarray,
    sm: np.ndarray,
    by: np.ndarray,
    sy: np.ndarray,
    estimands: Callable[..., np.ndarray],
    generator: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Quasi-Bayesian draws or bootstrap refits (with the jackknife for BCa)."""
    n_draws = opts.n_draws
    if opts.method == "quasi_bayesian":
        vm = vcov(design.x_m, design.m, bm[0], float(sm[0]), design.mediator_model)
        vy = vcov(design.x_y, design.y, by[0], float(sy[0]), design.outcome_model)
        dm = generator.multivariate_normal(bm[0], vm, size=n_draws, method="cholesky")
        dy = generator.multivariate_normal(by[0], vy, size=n_draws, method="cholesky")
        return estimands(dm, dy, np.full(n_draws, sm[0]), None, draws=True), None, 0
    chunks = iter_bootstrap_counts(design.n, n_draws, generator, chunk_size=_CHUNK)
    draws, n_failed = _replicate(design, chunks, bm[0], by[0], estimands, draws=True)
    if n_failed:
        warnings.warn(
            f"{n_failed} of {n_draws} bootstrap resamples failed (singular design or "
            "separation) and were dropped.",
            BootstrapWarning,
            stacklevel=3,
        )
    jack = None
    if opts.ci == "bca":
        jack, _ = _replicate(design, _jackknife_weights(design.n), bm[0], by[0], estimands)
    return draws, jack, n_failed


def _split_four_way(
    est: np.ndarray,
    draws: np.ndarray,
    jack: np.ndarray | None,
    vanderweele: bool,
    outcome_model: str,
) -> dict[str, Any]:
    """Terms, scales and values of the main table and, separately, the four-way table."""
    k_ikt = len(IKT_TERMS)
    terms = list(IKT_TERMS)
    scales = ["difference"] * (k_ikt - 3) + ["ratio"] * 3
    fw_est = fw_draws = fw_jack = None
    fw_scale = None
    if vanderweele:
        terms += list(VW_TERMS)
        scales += ["difference" if outcome_model == "linear" else "log_odds_ratio"] * 5
        k_main = k_ikt + len(VW_TERMS)
        fw_est, fw_draws = est[k_main:], draws[:, k_main:]
        fw_jack = None if jack is None else jack[:, k_main:]
        fw_scale = "difference" if outcome_model == "linear" else "excess_relative_risk"
        est, draws = est[:k_main], draws[:, :k_main]
        jack = None if jack is None else jack[:, :k_main]
    return {
        "_terms": tuple(terms),
        "_estimates": est,
        "draws": draws,
        "scales": tuple(scales),
        "jackknife": jack,
        "four_way_estimates": fw_est,
        "four_way_draws": fw_draws,
        "four_way_jackknife": fw_jack,
        "four_way_scale": fw_scale,
    }


def _notes(
    report: MissingReport, opts: Options, n_failed: int, interaction: bool, m_star: float
) -> list[str]:
    method, ci, n_draws, vanderweele = opts.method, opts.ci, opts.n_draws, opts.vanderweele
    notes = [report.describe()]
    notes.append(
        "Point estimates are exact plug-in values; intervals: "
        + (
            f"{ci} bootstrap ({n_draws} resamples of rows, both models refitted)"
            if method == "bootstrap"
            else f"quasi-Bayesian ({n_draws} draws of both models' coefficients)"
        )
        + "."
    )
    if n_failed:
        notes.append(f"{n_failed} failed resamples dropped.")
    if interaction and not vanderweele:
        notes.append(
            "VanderWeele's effects are not reported: their closed forms need linear or logit "
            "models (a probit model was requested)."
        )
    if vanderweele:
        notes.append(
            f"VanderWeele effects at the covariate means and m* = {m_star:g}"
            + (
                "; logit outcome: cde/pnde/tnde/pnie/tnie are log odds ratios and the four-way "
                "components excess relative risks (rare-outcome approximation)."
                if opts.outcome_model == "logit"
                else "."
            )
        )
    return notes


def _jackknife_weights(n: int):
    """Leave-one-out weights in chunks of rows (row ``i`` drops observation ``i``)."""
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        w = np.ones((hi - lo, n))
        w[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        yield w


def _replicate(design: Design, chunks, bm0, by0, estimands, draws=False):
    """Refit both models for every weight row and recompute the estimands.

    ``chunks`` yields ``(k, n)`` weight matrices (bootstrap counts or jackknife
    weights); each chunk is fitted in one batch. Failed fits give NaN rows. ``draws``:
    bootstrap draws (see ``estimands``), not jackknife values.
    """
    xm, xy = design.x_m, design.x_y
    k = estimands(bm0[None, :], by0[None, :], np.ones(1), None).shape[1]
    out = []
    failed = 0
    for wb in chunks:
        bm, sm, okm = fit_weighted(xm, design.m, wb, design.mediator_model, bm0)
        by, _, oky = fit_weighted(xy, design.y, wb, design.outcome_model, by0)
        ok = okm & oky
        res = np.full((wb.shape[0], k), np.nan)
        if ok.any():
            res[ok] = estimands(bm[ok], by[ok], sm[ok], wb[ok], draws=draws)
        failed += int((~ok).sum())
        out.append(res)
    return np.concatenate(out), failed
