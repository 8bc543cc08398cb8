r"""Moderated mediation (conditional process analysis) for :func:`.product.mediate`.

Called by ``mediate(..., moderator=W, moderated_paths=[...])`` after its own checks. The
equations (PROCESS notation, Hayes 2022) are, for mediator :math:`M_j` and outcome
:math:`Y`,

.. math::
    M_j = i_j + a_{1j} X + a_{2j} W + a_{3j} XW + \sum_{i<j} d_{ij} M_i + C\gamma_j
    \qquad Y = i_Y + c_1 X + c_2 W + c_3 XW + \sum_j (b_{1j} M_j + b_{3j} M_j W)
    + C\gamma_Y,

where :math:`W` and its products enter an equation only when one of its paths is
moderated (``"a"``: :math:`a_{2j}, a_{3j}`; ``"b"``: :math:`c_2, b_{3j}`; ``"c"``:
:math:`c_2, c_3`), :math:`d` only for serial mediators, and a categorical :math:`W` is
``L - 1`` indicators (each with its own product). The conditional indirect effect of a
chain at :math:`W = w` is :math:`(a_1 + a_3 w)\prod d\,(b_1 + b_3 w)`; when exactly one of
its end paths is moderated it is linear in :math:`w` and its slope is the index of
moderated mediation (:math:`a_3 \prod d\, b_1` or :math:`a_1 \prod d\, b_3`, Hayes 2015);
when both are, it is quadratic and no single index exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..._rng import check_rng, seed_of
from ..._validation import MissingReport, listwise_delete
from ...disclosure import check_min_cell
from ...errors import DataValidationError, EstimationError, OptionError
from ...results import glance_frame
from .._core import bootstrap as bs
from .._core.design import check_equations, collinearity_note
from ._moderated_engine import ModEngine, ModSpec, build_columns
from ._moderated_layout import Coding, Layout, code_moderator, parse_paths, resolve_at
from ._product_notes import count_failures as _count_failures
from ._product_notes import interval_note as _interval_note
from ._product_result import GLANCE_COLUMNS, MediationResult

__all__ = [
    "ModeratedMediationResult",
    "MODERATED_GLANCE_COLUMNS",
    "fit_moderated",
    "mediate_moderated",
]

#: glance() columns of a moderated mediation result: the mediation family's, then the
#: moderator, the moderated paths, the centring and the PROCESS model number.
MODERATED_GLANCE_COLUMNS: tuple[str, ...] = GLANCE_COLUMNS + (
    "moderator",
    "moderator_type",
    "moderated_paths",
    "center",
    "process_model",
)

# PROCESS model numbers of parallel (or single-mediator) models: (a, b, c) -> model
_PROCESS = {
    (False, False, True): 5,
    (True, False, False): 7,
    (True, False, True): 8,
    (False, True, False): 14,
    (False, True, True): 15,
    (True, True, False): 58,
    (True, True, True): 59,
}


@dataclass(frozen=True, repr=False, eq=False)
class ModeratedMediationResult(MediationResult):
    """Result of :func:`mediate` with a ``moderator``.

    Besides the rows of :class:`MediationResult`, it keeps the bootstrap (or Monte Carlo)
    draws of the path coefficients, so :meth:`conditional_effects` gives conditional
    indirect and direct effects at any moderator values without refitting.

    Attributes
    ----------
    moderator : str
        The moderator column.
    moderated_paths : tuple of str
        The moderated paths as given (``"a"``, ``"b"``, ``"c"``, ``"a[m]"``, ``"b[m]"``).
    center : bool
        Whether the exposure and a numeric moderator were mean-centred (lower-order paths
        ``a[m]``, ``b[m]`` and ``direct`` are then effects at the mean of the moderator;
        otherwise at moderator 0, or at the reference level of a categorical moderator).
    at : tuple
        Moderator values of the conditional-effect rows of :meth:`tidy`.
    """

    moderator: str = ""
    moderated_paths: tuple[str, ...] = ()
    center: bool = False
    at: tuple[Any, ...] = ()
    layout: Layout | None = field(default=None, repr=False)
    path_estimates: np.ndarray | None = field(default=None, repr=False)
    path_draws: np.ndarray | None = field(default=None, repr=False)
    path_jackknife: np.ndarray | None = field(default=None, repr=False)

    def conditional_effects(
        self,
        at: Sequence[Any] | Any = None,
        *,
        conf_level: float | None = None,
        contrasts: bool = True,
    ) -> pd.DataFrame:
        """Conditional indirect and direct effects at moderator values ``at``, no refit.

        Parameters
        ----------
        at : value or sequence, optional
            Moderator values (levels of a categorical moderator); default as in
            :func:`mediate` (mean and +/- 1 SD, both values of a binary moderator, every
            level of a categorical one). Values outside the observed range warn.
        conf_level : float, optional
            Confidence level (default: the result's).
        contrasts : bool
            Include the pairwise contrasts between the values of ``at``.

        Returns
        -------
        pandas.DataFrame
            ``tidy()`` columns for ``index[...]``, ``indirect[...|W=w]``,
            ``contrast[...]`` and (with a moderated direct effect) ``direct[W=w]``, from
            the stored draws of the path coefficients with the result's interval type.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from mutualaid_outcomes.models.mediation import mediate
        >>> rng = np.random.default_rng(0)
        >>> d = pd.DataFrame({"x": rng.binomial(1, 0.5, 400), "w": rng.normal(size=400)})
        >>> d["m"] = (0.4 + 0.3 * d.w) * d.x + rng.normal(size=400)
        >>> d["y"] = 0.5 * d.m + rng.normal(size=400)
        >>> res = mediate(d, "x", ["m"], "y", moderator="w", moderated_paths=["a"],
        ...               ci="percentile", n_boot=1000, rng=1)
        >>> int(res.glance().loc[0, "process_model"])
        7
        >>> res.conditional_effects(at=[0, 1], contrasts=False)["term"].tolist()
        ['index[m]', 'indirect[m|w=0]', 'indirect[m|w=1]']
        """
        if self.layout is None or self.path_draws is None or self.path_estimates is None:
            raise EstimationError("This result holds no path draws; refit with mediate().")
        values = resolve_at(at, self.layout.coding, stacklevel=3)
        lay = self.layout
        names, est = lay.conditional_rows(self.path_estimates[None, :], values, contrasts)
        draws = lay.conditional_rows(self.path_draws, values, contrasts)[1]
        jack = None
        if self.path_jackknife is not None:
            jack = lay.conditional_rows(self.path_jackknife, values, contrasts)[1]
        sub = replace(
            self,
            _terms=tuple(names),
            _estimates=est[0],
            draws=pd.DataFrame(draws, columns=names),
            jackknife=jack,
            wald_terms=self.layout.wald_terms(names),
        )
        return sub.tidy(conf_level=self.conf_level if conf_level is None else conf_level)

    def glance(self) -> pd.DataFrame:
        """The mediation family's columns plus ``moderator, moderator_type,
        moderated_paths, center, process_model`` (NaN for models without a number).
        """  # noqa: D205
        row = MediationResult.glance(self).iloc[0].to_dict()
        coding = self.layout.coding if self.layout is not None else None
        spec = self.layout.spec if self.layout is not None else None
        number = np.nan
        if spec is not None and (spec.model == "parallel" or spec.k == 1):
            flags = (all(spec.a_mod), all(spec.b_mod), spec.c_mod)
            uniform = all(v == spec.a_mod[0] for v in spec.a_mod) and all(
                v == spec.b_mod[0] for v in spec.b_mod
            )
            number = _PROCESS.get(flags, np.nan) if uniform else np.nan
        row.update(
            moderator=self.moderator,
            moderator_type=coding.kind if coding is not None else np.nan,
            moderated_paths=",".join(self.moderated_paths),
            center=bool(self.center),
            process_model=number,
        )
        return glance_frame(row, MODERATED_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Moderated mediation by {self.moderator} ({self.model}, {self.ci} intervals)"


def mediate_moderated(
    data: pd.DataFrame, roles: dict[str, Any], options: dict[str, Any], rng: Any
) -> ModeratedMediationResult:
    """Checks of a moderated model, listwise deletion, then :func:`._moderated.fit_moderated`."""
    w = roles["moderator"]
    if w is None or options["moderated_paths"] is None:
        missing = "moderator" if w is None else "moderated_paths"
        raise OptionError(
            f"`moderator` and `moderated_paths` go together; `{missing}` is missing (e.g. "
            "moderator='sex', moderated_paths=['a'])."
        )
    if options["indicators"] is not None or options["outcome_family"] != "gaussian":
        raise OptionError(
            "A `moderator` needs observed mediators and a gaussian outcome; latent "
            "mediators (`indicators`) and outcome_family='binomial' are not supported with "
            "moderation."
        )
    meds, model = roles["mediators"], options["model"]
    max_serial = options["max_serial"]
    if len(set(meds)) != len(meds) or (model == "serial" and len(meds) > max_serial):
        raise DataValidationError(
            f"`mediators` must be distinct (and at most {max_serial} for a serial model)."
        )
    check_min_cell(options["min_cell"])
    options["n_boot"] = bs.check_n_boot(
        options["n_boot"], options["ci"], "n_sims" if options["ci"] == "monte_carlo" else "n_boot"
    )
    cluster = roles["cluster"]
    cols = [roles["exposure"], *meds, *roles["covariates"], roles["outcome"], w]
    clean, report = listwise_delete(
        data, cols + ([cluster] if cluster else []), "data",
        identifiers=[cluster] if cluster else [],
    )  # fmt: skip
    return fit_moderated(
        clean, report, roles | {"moderator": w}, options, check_rng(rng), seed_of(rng)
    )


def fit_moderated(
    clean: pd.DataFrame,
    report: MissingReport,
    roles: dict[str, Any],
    options: dict[str, Any],
    gen: np.random.Generator,
    seed: int | None,
) -> ModeratedMediationResult:
    """Fit on complete rows. ``roles``: exposure, mediators, outcome, covariates,
    moderator, cluster; ``options``: model, moderated_paths, at, center, min_cell,
    n_boot, ci, conf_level (validated by :func:`mediate`).
    """  # noqa: D205
    x_name, meds, y_name = roles["exposure"], roles["mediators"], roles["outcome"]
    covs, w_name, cluster = roles["covariates"], roles["moderator"], roles["cluster"]
    a_mod, b_mod, c_mod = parse_paths(options["moderated_paths"], meds)
    others = {"exposure": clean[x_name]} | {f"mediator '{m}'": clean[m] for m in meds}
    wmat, coding = code_moderator(clean[w_name], w_name, others, options["min_cell"])
    at = resolve_at(options["at"], coding, stacklevel=5)
    spec = ModSpec(
        len(meds), coding.q, len(covs), options["model"], tuple(meds), a_mod, b_mod, c_mod,
        w_in_covs=w_name in covs,
    )  # fmt: skip
    num = clean.loc[:, [x_name, *covs, *meds, y_name]].to_numpy(dtype=float)
    _check_constant(num, [x_name, *covs, *meds, y_name])
    nc = len(covs)
    z, w_center = build_columns(
        num[:, 0], wmat, num[:, 1 : 1 + nc], num[:, 1 + nc : -1], num[:, -1], spec
    )
    center = bool(options["center"])
    base = w_center if (center and coding.levels is None) else np.zeros(coding.q)
    layout = Layout(spec, coding, w_center, base)
    kappa, flagged, worst = _conditioning(z, spec, [x_name, *covs, *meds], w_name)
    engine = ModEngine(spec, z)
    paths, path_cov = engine.fit()
    codes, n_groups = None, 0
    if cluster is not None:
        codes, n_groups = bs.cluster_codes(clean[cluster].to_numpy())
        if n_groups < 2:
            raise DataValidationError(
                f"`cluster` column '{cluster}' has {n_groups} cluster(s); need at least 2."
            )
    n_boot, ci = options["n_boot"], options["ci"]
    jack_paths = None
    if ci == "monte_carlo":
        draws_paths = bs.monte_carlo_draws(paths, path_cov, n_boot, gen)
        method = "monte carlo"
    else:
        draws_paths = engine.bootstrap(n_boot, gen, codes, n_groups)
        method = "bootstrap" if cluster is None else "cluster bootstrap"
        jack_paths = engine.jackknife(codes, n_groups) if ci == "bca" else None
    notes = [report.describe()]
    if flagged:
        notes.append(collinearity_note(kappa, flagged, worst))
    n_failed = _count_failures(draws_paths, n_boot, notes)
    names, est = layout.effects(paths[None, :], at)
    draws = layout.effects(draws_paths, at)[1]
    jack = layout.effects(jack_paths, at)[1] if jack_paths is not None else None
    notes += _moderation_notes(layout, center, at)
    notes.append(_interval_note(ci, n_boot, cluster))
    return ModeratedMediationResult(
        _terms=tuple(names), _estimates=est[0], draws=pd.DataFrame(draws, columns=names),
        jackknife=jack, ci=ci, conf_level=options["conf_level"], _nobs=report.n_used,
        n_dropped=report.n_dropped, n_boot=n_boot, n_failed=n_failed, seed=seed,
        n_clusters=n_groups if cluster is not None else None, model=options["model"],
        method=method, exposure=x_name, mediators=tuple(meds), outcome=y_name,
        covariates=tuple(covs), outcome_family="gaussian",
        wald_terms=layout.wald_terms(names), notes=tuple(notes), moderator=w_name,
        moderated_paths=tuple(_as_list(options["moderated_paths"])), center=center,
        at=tuple(at), layout=layout, path_estimates=paths, path_draws=draws_paths,
        path_jackknife=jack_paths, condition_number=kappa, collinear_columns=flagged,
    )  # fmt: skip


def _conditioning(
    z: np.ndarray, spec: ModSpec, names: list[str], moderator: str
) -> tuple[float, tuple[str, ...], str]:
    """:func:`check_equations` over the mediator and outcome equations the engine fits.

    ``z`` holds the centred columns of :func:`build_columns` (the products of centred
    variables, as fitted); ``names``: exposure, covariates, mediators.
    """
    x_name, k = names[0], spec.k
    covs, meds = names[1 : 1 + spec.n_cov], names[1 + spec.n_cov :]
    w = [moderator] if spec.q == 1 else [f"{moderator}[{i + 1}]" for i in range(spec.q)]
    cols = [x_name, *w, *([f"{x_name}:{v}" for v in w] if spec.has_xw else []), *covs, *meds]
    for j in range(k):
        cols += [f"{meds[j]}:{v}" for v in w] if spec.b_mod[j] else []
    x = np.column_stack([np.ones(len(z)), z[:, :-1]])  # engine column r is x column r
    labels = ["Intercept", *cols]
    designs = [
        (
            f"model of mediator '{meds[e]}'" if e < k else "outcome model",
            x[:, [0, *regs]],
            [labels[i] for i in (0, *regs)],
        )
        for e, (regs, _) in enumerate(spec.equations)
    ]
    return check_equations(designs, "exposure/moderator/mediators/covariates", refuse_exact=True)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _check_constant(num: np.ndarray, cols: list[str]) -> None:
    const = [c for c, s in zip(cols, num.std(axis=0)) if not s > 0]
    if const:
        raise DataValidationError(
            f"Constant column(s) after removing incomplete rows: {const}. A mediation model "
            "needs variation in the exposure, every mediator, covariate and the outcome."
        )


def _moderation_notes(layout: Layout, center: bool, at: list[Any]) -> list[str]:
    coding: Coding = layout.coding
    w = coding.name
    if coding.levels is not None:
        where = f"at the reference level '{coding.levels[0]}' of {w}"
        coded = f"{w} is categorical: {coding.q} indicators against '{coding.levels[0]}'"
    elif center:
        where = f"at the mean of {w} ({coding.mean:.6g})"
        coded = f"the exposure and {w} were mean-centred before forming products"
    else:
        where = f"at {w} = 0"
        coded = f"{w} entered uncentred"
    notes = [
        f"Moderator: {coded}; lower-order paths a[...], b[...] and direct are effects {where}."
    ]
    for chain in layout.no_index_chains():
        notes.append(
            f"No single index of moderated mediation exists for indirect[{chain}]: both its "
            f"a and b paths are moderated by {w}, so the indirect effect is a quadratic "
            f"function of {w}. Compare conditional indirect effects (contrast rows) instead."
        )
    if any(layout.spec.chain_kind(c) == "linear" for c in layout.spec.chains):
        notes.append(
            f"index[...] is the index of moderated mediation: the change in the indirect "
            f"effect per unit of {w}"
            + (" (per level, against the reference level)." if coding.levels else ".")
        )
    return notes
