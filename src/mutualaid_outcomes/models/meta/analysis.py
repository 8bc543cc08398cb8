"""Fixed-effect, random-effects and meta-regression models: :func:`meta_analysis`.

Follows R metafor's ``rma.uni`` (Viechtbauer 2010); the model, estimators and tests are
described in :mod:`.tau2` and :mod:`._fit`.
"""

from __future__ import annotations

import keyword
import numbers
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import (
    MissingReport,
    as_column_list,
    check_columns,
    check_conf_level,
    check_dataframe,
    check_numeric,
    check_option,
    check_positive_int,
    listwise_delete,
)
from ...errors import (
    ArgumentTypeError,
    DataValidationError,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)
from .._core.design import Design, build_design
from ._fit import ModelFit, fit_model
from .results import MetaResult
from .tau2 import TAU2_METHODS

__all__ = ["meta_analysis", "fit_arrays"]

Method = Literal["FE", "DL", "HE", "SJ", "PM", "ML", "REML"]
Test = Literal["z", "knha"]
TESTS = ("z", "knha")

SINGLE_STUDY_NOTE = (
    "Only one study: tau^2 cannot be estimated, so a fixed-effect model was fitted "
    "(the pooled effect is that study's effect)."
)


def fit_arrays(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    method: str,
    test: str,
    *,
    tol: float,
    max_iter: int,
    warn: bool = True,
) -> tuple[ModelFit, list[str]]:
    """Fit one model on arrays, with the single-study rule; return the fit and notes.

    Raises
    ------
    EstimationError
        If there are too few studies for the coefficients (and tau^2).
    """
    k, p = X.shape
    notes: list[str] = []
    if k == 1 and p == 1:
        if method != "FE" or test != "z":
            notes.append(SINGLE_STUDY_NOTE)
            if warn:
                warnings.warn(SINGLE_STUDY_NOTE, SmallSampleWarning, stacklevel=3)
        method, test = "FE", "z"
    need = p if method == "FE" else p + 1
    if k < need:
        what = f"{p} coefficient(s)" + ("" if method == "FE" else " and tau^2")
        raise EstimationError(
            f"Too few studies: k = {k} cannot estimate {what} (need k >= {need}). "
            "Drop moderators or use method='FE'."
        )
    if method == "FE" and test == "knha" and k > 1:
        notes.append("Knapp-Hartung adjustment applied to a fixed-effect model (as metafor).")
    fit = fit_model(y, v, X, method, test, tol=tol, max_iter=max_iter)
    if fit.tau2.note:
        notes.append(fit.tau2.note)
    return fit, notes


def _r2(fit: ModelFit, tol: float, max_iter: int) -> float:
    """Pseudo-R^2 (%) of a meta-regression, as metafor (its default ``r2def = "1"``)."""
    if fit.p == 1:
        return float("nan")
    k, p = fit.k, fit.p
    y, v = fit.y, fit.v
    if fit.method == "FE":
        if np.var(y) == 0 or k - p <= 0:
            return 0.0 if np.var(y) == 0 else float("nan")
        w = 1.0 / v
        ybar = np.sum(w * y) / np.sum(w)
        tss = float(np.sum(w * (y - ybar) ** 2))
        r2 = 1 - fit.q / tss
        adj = 1 - (1 - r2) * (k - 1) / (k - p)
        return max(0.0, 100 * adj)
    base = fit_model(y, v, np.ones((k, 1)), fit.method, fit.test, tol=tol, max_iter=max_iter)
    tau2_re = base.tau2.tau2
    if tau2_re == 0:
        return 0.0
    return max(0.0, 100 * (tau2_re - fit.tau2.tau2) / tau2_re)


def _quote(name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    return f'Q("{name}")'


def _design(clean: pd.DataFrame, moderators: list[str]):
    for m in moderators:
        values = clean[m]
        if values.nunique(dropna=True) < 2:
            shown = values.iloc[0] if len(values) else None
            raise DataValidationError(
                f"`moderators` column '{m}' takes the single value {shown!r} in all "
                f"{len(clean)} studies used; a moderator must vary across studies. Drop it."
            )
    if not moderators:
        return np.ones((len(clean), 1)), None, ("overall",)
    rhs = " + ".join(_quote(m) for m in moderators)
    X, design = build_design(rhs, clean, "moderators")
    # patsy puts categorical terms first; keep the user's order (as R's model.matrix)
    slices = design.design_info.term_name_slices
    order = [
        i
        for t in ["Intercept", *map(_quote, moderators)]
        for i in range(slices[t].start, slices[t].stop)
    ]
    mod_design = ModeratorDesign(design, tuple(order))
    names = tuple(re.sub(r'Q\("([^"]+)"\)', r"\1", design.columns[i]) for i in order)
    return X[:, order], mod_design, names


@dataclass(frozen=True)
class ModeratorDesign:
    """A moderator design that can be rebuilt on new data, columns in the user's order."""

    design: Design
    order: tuple[int, ...]

    def matrix(self, data: pd.DataFrame) -> np.ndarray:
        """Design matrix of ``data`` (columns as in the fitted model)."""
        return self.design.matrix(data)[:, list(self.order)]


def _labels(data: pd.DataFrame, study: str | None, index: pd.Index) -> tuple[str, ...]:
    if study is None:
        pos = data.index.get_indexer(index)
        labels = [f"Study {i + 1}" for i in pos]
    else:
        raw = data.loc[index, study]
        labels = [
            f"Study {i + 1}" if pd.isna(s) else str(s)
            for i, s in zip(data.index.get_indexer(index), raw)
        ]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return tuple(out)


def _effects(clean: pd.DataFrame, effect: str, var_col: str, is_se: bool, labels) -> tuple:
    y = clean[effect].to_numpy(dtype=float)
    raw = clean[var_col].to_numpy(dtype=float)
    arg = "se" if is_se else "variance"
    lab = np.asarray(labels, dtype=object)
    bad_y = ~np.isfinite(y)
    if bad_y.any():
        raise DataValidationError(
            f"`effect` ('{effect}') has infinite values for {', '.join(lab[bad_y][:8])}; "
            "effects must be finite (a log of 0? apply a continuity correction)."
        )
    bad_v = ~np.isfinite(raw) | (raw <= 0)
    if bad_v.any():
        raise DataValidationError(
            f"`{arg}` ('{var_col}') must be positive and finite; {', '.join(lab[bad_v][:8])} "
            f"{'has' if bad_v.sum() == 1 else 'have'} {raw[bad_v][:8].tolist()}. "
            "Sampling variances of 0 give infinite weights; check the data or the effect-size "
            "computation."
        )
    return y, raw**2 if is_se else raw


def _result(
    fit: ModelFit,
    notes: list[str],
    *,
    measure: str | None,
    method: str,
    conf_level: float,
    labels: tuple[str, ...],
    terms: tuple[str, ...],
    missing: MissingReport,
    tol: float,
    max_iter: int,
    **extra,
) -> MetaResult:
    return MetaResult(
        measure=measure,
        method=fit.method,
        method_requested=method,
        test=fit.test,
        conf_level=conf_level,
        study_labels=labels,
        term_names=terms,
        fit=fit,
        missing=missing,
        r2=_r2(fit, tol, max_iter),
        tol=tol,
        max_iter=max_iter,
        notes=tuple(notes),
        **extra,
    )


def _subgroups(clean, by, y, v, labels, test: str, common: dict) -> tuple[tuple, dict]:
    groups = clean[by]
    levels = sorted(pd.unique(groups), key=lambda x: (str(type(x)), x))
    if len(levels) < 2:
        raise DataValidationError(
            f"`by` ('{by}') has a single level ({levels[0]!r}) among the studies used; "
            "subgroup analysis needs at least two."
        )
    subs = []
    g = groups.to_numpy()
    for level in levels:
        mask = g == level
        fit, notes = fit_arrays(
            y[mask],
            v[mask],
            np.ones((int(mask.sum()), 1)),
            common["method"],
            test,
            tol=common["tol"],
            max_iter=common["max_iter"],
            warn=False,
        )
        if SINGLE_STUDY_NOTE in notes:
            notes = [f"Subgroup {by}={level}: " + SINGLE_STUDY_NOTE]
        sub = _result(
            fit,
            notes,
            labels=tuple(np.asarray(labels, dtype=object)[mask]),
            terms=("overall",),
            missing=MissingReport(int(mask.sum()), int(mask.sum())),
            **common,
        )
        subs.append((str(level), sub))
    est = np.array([s.fit.beta[0] for _, s in subs])
    se = np.array([s.fit.se[0] for _, s in subs])
    w = 1.0 / se**2
    q = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    df = len(subs) - 1
    extra = {
        "q_between": q,
        "q_between_df": df,
        "q_between_p": float(stats.chi2.sf(q, df)),
        "by": by,
        "groups": tuple(str(x) for x in g),
        "subgroups": tuple(subs),
    }
    return tuple(subs), extra


def _check_numbers(tol: float, max_iter: int) -> None:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1e-3:
        raise DataValidationError(f"`tol` must be a number in (0, 1e-3); got {tol!r}.")
    check_positive_int(max_iter, "max_iter")


def meta_analysis(
    data: pd.DataFrame,
    effect: str = "yi",
    variance: str | None = None,
    *,
    se: str | None = None,
    method: Method = "REML",
    test: Test = "z",
    moderators: str | Sequence[str] | None = None,
    by: str | None = None,
    study: str | None = None,
    measure: str | None = None,
    conf_level: float = 0.95,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> MetaResult:
    """Fixed-effect or random-effects meta-analysis, meta-regression and subgroup analysis.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per study, e.g. the output of :func:`effect_sizes`.
    effect : str
        Column of effects (log ratios, differences, Fisher-z ...); default ``"yi"``.
    variance : str, optional
        Column of sampling variances; default ``"vi"`` when neither ``variance`` nor ``se``
        is given.
    se : str, optional
        Column of standard errors (instead of ``variance``).
    method : {"REML", "ML", "DL", "PM", "SJ", "HE", "FE"}
        tau^2 estimator, or ``"FE"`` for the fixed-effect (common-effect) model.
    test : {"z", "knha"}
        Wald z tests, or the Knapp-Hartung adjustment (t and F tests with ``k - p`` df).
    moderators : str or list of str, optional
        Study-level moderator columns for a meta-regression; text, categorical and boolean
        columns are dummy-coded against their first (sorted) level.
    by : str, optional
        Subgroup column: a separate model (own tau^2) per subgroup and the test of
        subgroup differences. Not combined with ``moderators``.
    study : str, optional
        Column of study labels; default ``"Study 1"``, ``"Study 2"`` ... by row.
    measure : str, optional
        Effect measure for labels (``"RR"``, ``"SMD"``...); default
        ``data.attrs["measure"]`` as set by :func:`effect_sizes`.
    conf_level : float
        Level of the tau^2 and prediction intervals in ``glance()`` (``tidy`` takes its own).
    tol : float
        Convergence tolerance of the ML/REML Fisher scoring.
    max_iter : int
        Maximum Fisher-scoring iterations.

    Returns
    -------
    MetaResult
        ``tidy()`` (pooled effect or meta-regression coefficients, then subgroup effects),
        ``glance()`` (tau^2 and its CI, I^2, H^2, Q, QM, R^2, prediction interval, test of
        subgroup differences), ``summary()``, ``predict()``, ``heterogeneity()``,
        ``studies()``; ``tidy(exponentiate=True)`` back-transforms ratio measures.

    Raises
    ------
    ColumnNotFoundError
        For unknown columns.
    OptionError
        For an unknown ``method`` or ``test``, both ``variance`` and ``se``, or ``by``
        together with ``moderators``.
    DataValidationError
        For non-numeric effects or variances, infinite effects, non-positive variances or
        standard errors, a moderator that does not vary, collinear moderators, or a ``by``
        column with one level.
    EstimationError
        If no study remains or there are too few studies for the model.
    ConvergenceError
        If Fisher scoring does not converge.

    Warns
    -----
    SmallSampleWarning
        With a single study: a fixed-effect model is fitted and the result says so.

    Notes
    -----
    Studies with a missing effect, variance, moderator or subgroup are excluded and counted
    (``glance()["n_dropped"]``, ``summary()`` notes). Weights are ``1 / (v_i + tau^2)``;
    the pooled effect is ``sum(w y) / sum(w)`` with variance ``1 / sum(w)`` (times the
    Knapp-Hartung factor with ``test="knha"``). The prediction interval is
    ``mu +- crit sqrt(se^2 + tau^2)``. ``I^2``, ``H^2``, ``R^2`` and the Q-profile
    interval follow metafor. The test of subgroup differences is Cochran's Q of the
    subgroup estimates with weights ``1 / se_g^2`` (chi^2 with ``G - 1`` df), as R
    ``rma(est, sei = se, method = "FE")`` on the subgroup results and RevMan; for a
    common-tau^2 test use ``moderators=[by]`` (its ``qm``).

    Validated against R metafor 3.8.1 ``rma.uni``, ``predict``, ``confint`` and
    subgroup models on the BCG vaccine trials (log risk ratios, with and without the
    moderators latitude, year and allocation), Normand (1999; SMD and mean differences),
    Molloy et al. (2014; Fisher-z correlations), Hart et al. (1999; IRR) and Niel-Weise
    et al. (2007; odds ratios with zero cells): every tau^2 estimator with z and
    Knapp-Hartung tests agrees to 1e-8 relative or better (tests/reference/meta_metafor.R).

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3):1-48. Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009).
    Introduction to Meta-Analysis. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"yi": [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01]})
    >>> res = meta_analysis(df, method="DL")
    >>> res.tidy()[["term", "estimate", "conf_low", "conf_high"]].round(3)
          term  estimate  conf_low  conf_high
    0  overall    -0.988    -1.441     -0.536
    >>> round(float(res.glance()["i2"].iloc[0]), 1)
    82.0

    In R: ``rma(yi, vi, data = df, method = "DL")``.
    """
    data = check_dataframe(data)
    check_option(method, TAU2_METHODS, "method")
    check_option(test, TESTS, "test")
    conf_level = check_conf_level(conf_level)
    _check_numbers(tol, max_iter)
    if variance is not None and se is not None:
        raise OptionError("Give either `variance` or `se`, not both.")
    var_col, is_se = (se, True) if se is not None else (variance or "vi", False)
    for arg, col in (("effect", effect), ("variance" if not is_se else "se", var_col)):
        if not isinstance(col, str):
            size = f" of length {len(col)}" if hasattr(col, "__len__") else ""
            raise ArgumentTypeError(
                f"`{arg}` must name a column of `data`; got a {type(col).__name__}{size}. "
                "Put effects, variances and moderators in one DataFrame so every study "
                "has one row (their lengths then always match)."
            )
    check_columns(data, [effect], "effect")
    check_columns(data, [var_col], "se" if is_se else "variance")
    check_numeric(data, [effect], "effect")
    check_numeric(data, [var_col], "se" if is_se else "variance")
    mods = as_column_list(moderators, "moderators")
    check_columns(data, mods, "moderators")
    if by is not None:
        if mods:
            raise OptionError(
                "`by` fits a separate model per subgroup and cannot be combined with "
                f"`moderators`; use moderators={[*mods, by]!r} for a meta-regression instead."
            )
        check_columns(data, [by], "by")
    if study is not None:
        check_columns(data, [study], "study")
    if measure is None:
        measure = data.attrs.get("measure")
    if measure is not None and not isinstance(measure, str):
        raise ArgumentTypeError(f"`measure` must be a string such as 'RR'; got {measure!r}.")
    cols = [effect, var_col, *mods, *([by] if by else [])]
    clean, report = listwise_delete(data, cols)
    labels = _labels(data, study, clean.index)
    y, v = _effects(clean, effect, var_col, is_se, labels)
    X, design, terms = _design(clean, mods)
    notes: list[str] = []
    rule = data.attrs.get("continuity")
    if isinstance(rule, dict) and rule.get("n_corrected"):
        notes.append(
            f"Continuity correction: {rule['add']:g} added to the cells of "
            f"{rule['n_corrected']} studies (to={rule['to']!r})."
        )
    fit, fit_notes = fit_arrays(y, v, X, method, test, tol=tol, max_iter=max_iter)
    common: dict[str, Any] = dict(
        measure=measure, method=method, conf_level=conf_level, tol=tol, max_iter=max_iter
    )
    extra: dict = {}
    if by is not None:
        _, extra = _subgroups(clean, by, y, v, labels, test, common)
        extra["notes_sub"] = [n for _, s in extra["subgroups"] for n in s.notes]
    sub_notes = extra.pop("notes_sub", [])
    return _result(
        fit,
        [*notes, *fit_notes, *sub_notes],
        labels=labels,
        terms=terms,
        missing=report,
        moderators=tuple(mods),
        design=design,
        **common,
        **extra,
    )
