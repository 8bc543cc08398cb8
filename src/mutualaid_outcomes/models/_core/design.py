"""Formula handling shared by the regression, GEE and mixed-model fitters.

Formulas use statsmodels' formula layer (patsy syntax: ``y ~ x1 + C(arm) + np.log(x2)``).
This module finds the data columns a formula uses (so missing values can be
deleted listwise across the formula, weight and cluster columns together), checks
for unknown names with close-match suggestions, and builds design matrices that
can be rebuilt on new data for prediction.
"""

from __future__ import annotations

import builtins
import io
import keyword
import math
import os
import re
import sys
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import patsy

from ..._validation import close_matches
from ...errors import ArgumentTypeError, ColumnNotFoundError, DataValidationError, DataWarning

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: Scaled condition number above which a design is flagged as near-collinear. The
#: condition number is that of the design with every column (the intercept included,
#: not centred) scaled to unit length, Belsley, Kuh & Welsch (1980), who read condition
#: indices of 30-100 as moderate to strong dependencies. ``1e4`` is two orders of
#: magnitude beyond that band: about four of the sixteen significant digits of the
#: least-squares solution are lost, and the coefficients of the columns involved are no
#: longer separately identified by the data. An uncentred cubic in age has about 300.
COLLINEARITY_THRESHOLD = 1e4
#: Belsley's variance-decomposition proportion above which a column counts as involved
#: in the dependency of the smallest singular value.
INVOLVED_PROPORTION = 0.5

# Names that may appear in formulas without being data columns.
_FORMULA_NAMES = frozenset(
    {
        "C",
        "I",
        "Q",
        "np",
        "numpy",
        "log",
        "exp",
        "sqrt",
        "center",
        "standardize",
        "scale",
        "bs",
        "cr",
        "cc",
        "te",
        "poly",
        "Treatment",
        "Sum",
        "Diff",
        "Helmert",
        "Poly",
        "T",
        "S",
        "D",
        "H",
        "reference",
        "levels",
        "df",
        "degree",
        "True",
        "False",
        "None",
        "pd",
    }
)


def formula_columns(formula: str, data: pd.DataFrame, argument: str = "formula") -> list[str]:
    """Data columns referenced by ``formula``, in order of appearance.

    Identifiers that are neither data columns nor formula functions raise
    :class:`ColumnNotFoundError` with close-match suggestions.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise ArgumentTypeError(
            f"`{argument}` must be a formula string such as 'y ~ x1 + x2'; got {formula!r}."
        )
    present = [str(c) for c in data.columns]
    present_set = set(present)
    found: list[str] = []
    unknown: list[str] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    except (tokenize.TokenError, IndentationError) as exc:
        raise DataValidationError(f"`{argument}` could not be parsed: {exc}.") from None
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1].string if i > 0 else ""
        nxt = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if tok.type == tokenize.STRING and prev == "(" and i >= 2 and tokens[i - 2].string == "Q":
            name = tok.string.strip("\"'")
            (found if name in present_set else unknown).append(name)
            continue
        if tok.type != tokenize.NAME:
            continue
        name = tok.string
        if prev == "." or nxt == "(" or nxt == "=":
            continue  # attribute, function call or keyword argument
        if name in present_set:
            found.append(name)
        elif (
            name in _FORMULA_NAMES or keyword.iskeyword(name) or name in builtins.__dict__
        ) and name not in present_set:
            continue
        else:
            unknown.append(name)
    if unknown:
        name = unknown[0]
        text = f"`{argument}` names column '{name}', which is not in the data."
        sugg = close_matches(name, present)
        if sugg:
            text += " Did you mean " + " or ".join(repr(s) for s in sugg) + "?"
        raise ColumnNotFoundError(text)
    return list(dict.fromkeys(found))


def split_formula(formula: str, argument: str = "formula") -> tuple[str, str]:
    """Split ``'y ~ x'`` into the outcome expression and the right-hand side."""
    if formula.count("~") != 1:
        raise DataValidationError(
            f"`{argument}` must have exactly one '~' separating outcome and predictors "
            f"(e.g. 'pda ~ aa_meetings + arm'); got {formula!r}."
        )
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs:
        raise DataValidationError(f"`{argument}` has no outcome left of '~': {formula!r}.")
    if not rhs:
        rhs = "1"
    return lhs, rhs


def outcome_series(lhs: str, data: pd.DataFrame, argument: str = "formula") -> pd.Series:
    """Evaluate the outcome expression (usually a single column name)."""
    if lhs in data.columns:
        return data[lhs]
    m = re.fullmatch(r"Q\(\s*['\"](.+)['\"]\s*\)", lhs)
    if m and m.group(1) in data.columns:
        return data[m.group(1)]
    try:
        y = patsy.dmatrix(f"{lhs} - 1", data, return_type="dataframe", NA_action="raise")
    except Exception as exc:  # patsy raises many types
        raise DataValidationError(
            f"The outcome `{lhs}` in `{argument}` could not be evaluated: {exc}"
        ) from None
    if y.shape[1] != 1:
        raise DataValidationError(
            f"The outcome `{lhs}` in `{argument}` must give one numeric column; "
            f"got {y.shape[1]} columns ({list(y.columns)[:5]})."
        )
    return pd.Series(y.iloc[:, 0].to_numpy(), index=data.index, name=lhs)


def scaled_condition(
    X: np.ndarray, names: Any, r: np.ndarray | None = None
) -> tuple[float, list[str]]:
    """Belsley's scaled condition number of ``X`` and the columns of its weakest direction.

    Columns are scaled to unit length (not centred); the condition number is the ratio
    of the largest to the smallest singular value. The columns named are those whose
    variance-decomposition proportion on the smallest singular value exceeds
    :data:`INVOLVED_PROPORTION` (Belsley, Kuh & Welsch 1980, ch. 3), or, for an exactly
    singular design, those with a non-zero weight in its null space.

    Examples
    --------
    >>> x = np.linspace(0, 1, 20)
    >>> X = np.column_stack([np.ones(20), x, x + 1e-9 * np.cos(7 * x)])
    >>> kappa, cols = scaled_condition(X, ["Intercept", "x", "x2"])
    >>> kappa > COLLINEARITY_THRESHOLD, cols
    (True, ['x', 'x2'])

    ``r``, the triangular factor of ``X = QR`` when the caller has it, saves the
    factorisation: scaling the columns of ``X`` scales those of ``R`` alike.
    """
    names = [str(c) for c in names]
    if X.shape[1] == 0 or X.shape[0] == 0:
        return 1.0, []
    if r is None:
        r = _r_factor(X)
    norms = np.linalg.norm(r, axis=0)
    zero = norms == 0
    if zero.any():
        return math.inf, [n for n, z in zip(names, zero, strict=True) if z]
    # the singular values and right vectors of X equal those of R in X = QR (cheaper)
    r = r / norms
    _, sv, vt = np.linalg.svd(r, full_matrices=False)
    tol = sv[0] * max(X.shape) * np.finfo(float).eps
    if sv[-1] <= tol:
        null = vt[sv <= tol]
        weight = np.abs(null).max(axis=0)
        return math.inf, [n for n, w in zip(names, weight, strict=True) if w > 1e-8]
    phi = (vt.T / sv) ** 2  # phi[j, k] = v_jk^2 / mu_k^2
    prop = phi[:, -1] / phi.sum(axis=1)
    involved = [n for n, p in zip(names, prop, strict=True) if p > INVOLVED_PROPORTION]
    return float(sv[0] / sv[-1]), involved


def _gram_screen(X: np.ndarray) -> float | None:
    """Belsley's scaled condition number from ``X'X``, when that is safe; else None.

    The eigenvalues of the column-scaled ``X'X`` are the squared singular values of the
    scaled ``X``, so the condition number is the square root of their ratio. Squaring
    costs digits (about ``eps * kappa^2`` relative, at most 1e-8 below the threshold),
    so this screen only answers for designs that are clearly of full rank (unscaled
    singular-value ratio above :data:`_GRAM_SAFE`, far above the rank tolerance of
    ``numpy.linalg.matrix_rank``) and clearly below :data:`COLLINEARITY_THRESHOLD`;
    every other design goes through the QR factorisation of :func:`scaled_condition`.
    One ``X'X`` costs a fraction of a QR factorisation of a tall design.
    """
    if X.shape[1] == 0 or X.shape[0] <= X.shape[1]:
        return None
    g = X.T @ X
    d = np.sqrt(np.diag(g))
    if not np.all(d > 0) or not np.all(np.isfinite(d)):
        return None
    lam = np.linalg.eigvalsh(g / np.outer(d, d))
    lam_raw = np.linalg.eigvalsh(g)
    if lam[0] <= 0 or lam_raw[0] <= _GRAM_SAFE**2 * lam_raw[-1]:
        return None
    kappa = float(np.sqrt(lam[-1] / lam[0]))
    return kappa if kappa <= COLLINEARITY_THRESHOLD / 10 else None


#: Smallest unscaled singular-value ratio :func:`_gram_screen` accepts as full rank.
_GRAM_SAFE = 1e-6


def _r_factor(X: np.ndarray) -> np.ndarray:
    """``R`` of ``X = QR`` (``X`` itself when it has no more rows than columns)."""
    return cast(np.ndarray, np.linalg.qr(X, mode="r")) if X.shape[0] > X.shape[1] else X


@dataclass(frozen=True)
class Design:
    """A right-hand-side design that can be rebuilt on new data.

    ``condition_number`` is Belsley's scaled condition number of the design it was built
    on (see :func:`scaled_condition`), ``collinear_columns`` the columns flagged when it
    exceeds :data:`COLLINEARITY_THRESHOLD` (empty otherwise).
    """

    rhs: str
    design_info: Any
    columns: tuple[str, ...]
    condition_number: float = math.nan
    collinear_columns: tuple[str, ...] = ()

    @property
    def collinear(self) -> bool:
        """Whether the design exceeded :data:`COLLINEARITY_THRESHOLD`."""
        return bool(self.collinear_columns)

    def matrix(self, data: pd.DataFrame) -> np.ndarray:
        """Design matrix for ``data`` (missing values propagate as NaN rows)."""
        (mat,) = patsy.build_design_matrices(
            [self.design_info], data, NA_action=patsy.NAAction(NA_types=[])
        )
        return np.asarray(mat, dtype=float)

    @property
    def has_intercept(self) -> bool:
        """Whether the design has an intercept column."""
        return "Intercept" in self.columns


def build_design(
    rhs: str, data: pd.DataFrame, argument: str = "formula", intercept: bool = True
) -> tuple[np.ndarray, Design]:
    """Build the design matrix of ``rhs`` on complete-case ``data``."""
    text = rhs if intercept else f"{rhs} - 1"
    try:
        mat = patsy.dmatrix(text, data, return_type="matrix", NA_action="raise")
    except patsy.PatsyError as exc:
        raise DataValidationError(f"`{argument}` could not be evaluated: {exc}") from None
    columns = tuple(str(c) for c in mat.design_info.column_names)
    X = np.asarray(mat, dtype=float)  # patsy builds float64: no copy
    finite = np.isfinite(X).all(axis=0)
    if not finite.all():
        bad = sorted({columns[j] for j in np.flatnonzero(~finite)})
        raise DataValidationError(
            f"`{argument}` produces non-finite values in {bad} (e.g. log of 0); "
            "transform or filter the data first."
        )
    kappa_fast = _gram_screen(X)
    if kappa_fast is not None:  # clearly full rank and not near-collinear
        return X, Design(rhs, mat.design_info, columns, kappa_fast, ())
    # one factorisation of the design serves both the rank and the condition number:
    # the singular values of X are those of R (numpy.linalg.matrix_rank's tolerance)
    r = _r_factor(X) if X.shape[1] > 0 else None
    if r is not None:
        sv = np.linalg.svd(r, compute_uv=False)
        rank = int(np.sum(sv > sv.max(initial=0.0) * max(X.shape) * np.finfo(float).eps))
        if rank < X.shape[1]:
            _, involved = scaled_condition(X, columns, r)
            raise DataValidationError(
                f"The predictors in `{argument}` are collinear (rank {rank} < {X.shape[1]} "
                f"columns: {list(columns)}); the dependency involves {involved}. Remove "
                "redundant terms or empty factor levels (R would report NA for the "
                "aliased coefficients; this package refuses the fit)."
            )
    kappa, flagged = check_conditioning(X, columns, argument, r=r)
    design = Design(rhs, mat.design_info, columns, kappa, flagged)
    return X, design


def check_conditioning(
    X: np.ndarray,
    names: Any,
    argument: str,
    *,
    centre: bool = False,
    refuse_exact: bool = False,
    r: np.ndarray | None = None,
) -> tuple[float, tuple[str, ...]]:
    """Belsley's scaled condition number of a design; warn once when it is too large.

    The one collinearity check of every model that fits a linear predictor
    (``fit_regression``, ``fit_gee``, ``fit_mixed``, meta-regression, Cox, Fine-Gray,
    instrumental variables, propensity scores, mediation). Returns the condition number
    and the columns flagged (empty when it is at most :data:`COLLINEARITY_THRESHOLD`);
    when columns are flagged, one :class:`~mutualaid_outcomes.errors.DataWarning` names
    them and ``argument``, attributed to the first caller outside the package.

    ``centre=True`` centres the columns first: for models without an intercept whose
    likelihood does not change when a covariate is shifted (the Cox and Fine-Gray
    partial likelihoods), only the centred design matters, and two uncentred covariates
    with large means would otherwise look collinear.

    An exactly singular design (condition number infinite) is not "nearly" collinear:
    with ``refuse_exact=True`` it raises a :class:`DataValidationError` naming the
    columns of the dependency (for models without a rank check of their own); otherwise
    it is flagged like a near dependency and the model's own rank check decides.

    ``r``, the triangular factor of the uncentred ``X = QR`` when the caller already has
    it (``build_design`` does), saves the factorisation on the exact route.

    Examples
    --------
    >>> x = np.linspace(0, 1, 20)
    >>> X = np.column_stack([x, x + 1e-9 * np.cos(7 * x)])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     kappa, cols = check_conditioning(X, ["x", "x2"], "covariates", centre=True)
    >>> cols
    ('x', 'x2')
    """
    kappa, flagged = _conditioning(X, names, f"`{argument}`", centre, refuse_exact, r)
    if flagged:
        _warn_collinear(kappa, flagged, f"`{argument}`")
    return kappa, flagged


def check_equations(
    designs: Sequence[tuple[str, np.ndarray, Sequence[str]]],
    argument: str,
    *,
    refuse_exact: bool = False,
) -> tuple[float, tuple[str, ...], str]:
    """:func:`check_conditioning` over the designs of several fitted equations; one warning.

    ``designs`` holds ``(equation, X, column names)`` for each equation a model fits
    (the mediator and outcome models of a mediation analysis). Returns the largest
    scaled condition number, the columns flagged in that equation (empty when it is at
    most :data:`COLLINEARITY_THRESHOLD`) and the equation's name; when columns are
    flagged, one :class:`~mutualaid_outcomes.errors.DataWarning` names them, the
    equation and ``argument``. With ``refuse_exact=True`` a singular design raises
    :class:`~mutualaid_outcomes.errors.DataValidationError` naming its equation.

    Examples
    --------
    >>> x = np.linspace(0, 1, 20)
    >>> one = np.ones(20)
    >>> mediator = np.column_stack([one, x])
    >>> outcome = np.column_stack([one, x, x + 1e-9 * np.cos(7 * x)])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     kappa, cols, which = check_equations(
    ...         [("mediator model", mediator, ["1", "x"]),
    ...          ("outcome model", outcome, ["1", "x", "m"])], "covariates")
    >>> which, cols
    ('outcome model', ('x', 'm'))
    """
    worst: tuple[float, tuple[str, ...], str] = (-math.inf, (), "")
    for equation, X, names in designs:
        kappa, flagged = _conditioning(
            X, names, f"`{argument}` of the {equation}", False, refuse_exact, None
        )
        if not kappa <= worst[0]:  # the largest (an undefined number counts as large)
            worst = (kappa, flagged, equation)
    if worst[1]:
        _warn_collinear(worst[0], worst[1], f"`{argument}` of the {worst[2]}")
    return worst


def _conditioning(
    X: np.ndarray,
    names: Any,
    subject: str,
    centre: bool,
    refuse_exact: bool,
    r: np.ndarray | None,
) -> tuple[float, tuple[str, ...]]:
    """The condition number and flagged columns of :func:`check_conditioning`, no warning.

    ``subject`` names the predictors in messages ("`covariates`").
    """
    X = np.asarray(X, dtype=float)
    if centre and X.shape[0] > 0:
        X = X - X.mean(axis=0)
        r = None  # a factor of the uncentred design does not apply
    kappa, involved = _gram_condition(X, names)
    if not kappa < GRAM_KAPPA_LIMIT:  # large, infinite or not tried: the exact route
        kappa, involved = scaled_condition(X, names, r)
    if math.isinf(kappa) and refuse_exact:
        raise DataValidationError(
            f"The predictors in {subject} are collinear (the design is singular); "
            f"the dependency involves {involved}. Remove redundant terms or constant "
            "columns (R would report NA for the aliased coefficients; this package "
            "refuses the fit)."
        )
    return kappa, (tuple(involved) if kappa > COLLINEARITY_THRESHOLD else ())


def _warn_collinear(kappa: float, flagged: tuple[str, ...], subject: str) -> None:
    warnings.warn(
        f"The predictors in {subject} are nearly collinear: scaled condition number "
        f"{kappa:.3g} > {COLLINEARITY_THRESHOLD:.0e} (Belsley), from the columns "
        f"{list(flagged)}. Their coefficients and standard errors are unreliable; "
        "remove or combine them, or centre polynomial terms. glance()['collinear'] "
        "records it.",
        DataWarning,
        stacklevel=_caller_level(),
    )


def _caller_level() -> int:
    """``stacklevel`` of the first frame outside the package, seen from the caller."""
    frame = sys._getframe(1)  # the function that warns (level 1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


#: Above this condition number (or below :data:`GRAM_MIN_ROWS` rows) the Gram-matrix
#: shortcut of :func:`check_conditioning` is not trusted and the QR/SVD route is used:
#: squaring the condition number in ``X'X`` costs about ``kappa**2 * eps``
#: (``1e-4`` at ``1e6``) of relative accuracy.
GRAM_KAPPA_LIMIT = 1e6
GRAM_MIN_ROWS = 10_000


def _gram_condition(X: np.ndarray, names: Any) -> tuple[float, list[str]]:
    """Scaled condition number from the eigenvalues of ``X'X`` (fast for many rows).

    For tall designs the cross-product is a BLAS product of ``N p^2`` flops, several times
    cheaper than a Householder QR of ``X``; its eigenvectors are the right singular
    vectors, so the variance-decomposition proportions are the same. Returns ``inf``
    (meaning: use :func:`scaled_condition`) for short designs or a zero column.
    """
    n, p = X.shape
    if n < GRAM_MIN_ROWS or p == 0:
        return math.inf, []
    G = X.T @ X
    d = np.sqrt(np.diag(G))
    if not np.all(d > 0):
        return math.inf, []
    ev, V = np.linalg.eigh(G / np.outer(d, d))
    if not ev[0] > 0:
        return math.inf, []
    phi = V**2 / ev  # phi[j, k] = v_jk^2 / mu_k^2, ev ascending
    prop = phi[:, 0] / phi.sum(axis=1)
    involved = [str(c) for c, q in zip(names, prop, strict=True) if q > INVOLVED_PROPORTION]
    return float(np.sqrt(ev[-1] / ev[0])), involved


def collinearity_note(kappa: float, flagged: tuple[str, ...], equation: str = "") -> str:
    """The summary note of a flagged design (call it only when ``flagged`` is non-empty).

    ``equation`` names the fitted equation of a model that fits several ("outcome model").
    """
    where = f" in the {equation}" if equation else ""
    return (
        f"Nearly collinear predictors {list(flagged)}{where} (scaled condition number "
        f"{kappa:.3g}): their estimates are unreliable."
    )


def check_weights(w: pd.Series, argument: str = "weights") -> np.ndarray:
    """Check analytic weights: numeric, finite, non-negative and not all zero."""
    if not pd.api.types.is_numeric_dtype(w):
        raise DataValidationError(f"`{argument}` ('{w.name}') must be numeric; got {w.dtype}.")
    arr = w.to_numpy(dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0) or not np.any(arr > 0):
        raise DataValidationError(
            f"`{argument}` ('{w.name}') must be finite and >= 0 with at least one positive "
            f"value; found {int(np.sum(arr < 0))} negative values."
        )
    return arr
