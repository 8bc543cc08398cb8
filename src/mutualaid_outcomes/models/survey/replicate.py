"""Replicate-weight designs: jackknife (JK1, JKn), BRR, Fay and bootstrap.

A replicate design carries ``R`` sets of analysis weights. An estimate ``theta`` is
recomputed with each set (``theta_r``) and its variance is

    V = scale * sum_r rscales_r (theta_r - c)(theta_r - c)'

with ``c`` the mean of the replicates (or ``theta`` itself with ``mse=True``), R
``survey:::svrVar``. :func:`replicate_design` takes the replicate weights that a
public-use file ships (R ``svrepdesign``); :func:`~mutualaid_outcomes.models.survey.design.as_replicate` makes them from a
:class:`~mutualaid_outcomes.models.survey.design.SurveyDesign` (R ``as.svrepdesign``):

* ``JK1`` (unstratified): drop one PSU, multiply the others by ``n / (n - 1)``;
  ``scale = (n - 1) / n`` times ``1 - n / N`` with an FPC.
* ``JKn`` (stratified): the same within each stratum; ``rscales_h = (n_h - 1) / n_h``
  times ``1 - n_h / N_h``.
* ``BRR`` / ``Fay``: two PSUs per stratum; half-samples from a Hadamard matrix with
  multipliers ``2 - rho`` and ``rho``; ``scale = 1 / (R (1 - rho)^2)``.
* ``bootstrap``: Rao-Wu with-replacement resampling of ``n_h`` PSUs per stratum (without
  replacement from ``N_h`` copies with an FPC); multipliers are the resampling counts and
  ``scale = m / ((m - 1)(R - 1))`` with ``m`` the harmonic mean of PSUs per stratum
  (Canty & Davison 1999), as R ``bootweights``.

Replicates generated here as PSU-level multipliers are stored compressed (one row per
PSU), so replicate totals cost one pass over the data whatever ``R`` is.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import check_dataframe, check_option
from ...errors import ArgumentTypeError, DataValidationError, DataWarning
from .._core.groupsum import GroupIndex
from ._checks import check_design_weights, check_replicate_columns, domain_mask

__all__ = [
    "ReplicateDesign",
    "replicate_design",
    "replicate_vcov",
    "REPLICATE_TYPES",
]

REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "other")
RANK_SVD_CELLS = 100_000  # above this many cells (and tall), rank from the Gram matrix
GRAM_RANK_TOL = 1e-7  # singular values from A'A below this fraction of the largest are zero


def replicate_vcov(
    thetas: np.ndarray, estimate: np.ndarray, scale: float, rscales: np.ndarray, mse: bool
) -> np.ndarray:
    """Replicate variance (R ``svrVar``) of ``R x p`` replicate estimates.

    Examples
    --------
    >>> th = np.array([[1.0], [2.0], [3.0]])
    >>> float(replicate_vcov(th, np.array([2.0]), 0.5, np.ones(3), False)[0, 0])
    1.0
    """
    th = np.asarray(thetas, dtype=float)
    if th.ndim == 1:
        th = th[:, None]
    centre = np.asarray(estimate, float) if mse else th[rscales > 0].mean(axis=0)
    D = (th - centre) * np.sqrt(rscales)[:, None]
    return scale * (D.T @ D)


@dataclass(frozen=True, eq=False)
class ReplicateDesign:
    """A survey design with replicate weights (immutable).

    Attributes
    ----------
    data : pandas.DataFrame
        The survey data (not copied).
    weights : numpy.ndarray
        Full-sample sampling weights.
    type : str
        ``'JK1'``, ``'JKn'``, ``'BRR'``, ``'Fay'``, ``'bootstrap'`` or ``'other'``.
    scale, rscales, mse
        Variance constants (see the module docstring).
    """

    data: pd.DataFrame
    weights: np.ndarray
    type: str
    scale: float
    rscales: np.ndarray
    mse: bool
    psu_multipliers: np.ndarray | None = None  # G x R (compressed multipliers)
    psu: GroupIndex | None = None
    full: np.ndarray | None = None  # n x R analysis weights
    fay_rho: float = 0.0
    seed: int | None = None
    domain: np.ndarray | None = None
    domain_label: str | None = None
    _degf: float | None = None
    _rank_cache: dict = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        """``'replicate'``."""
        return "replicate"

    @property
    def n_rows(self) -> int:
        """Rows in the design."""
        return len(self.weights)

    @property
    def n_replicates(self) -> int:
        """Number of replicate weight sets."""
        return len(self.rscales)

    @property
    def in_domain(self) -> np.ndarray:
        """Rows in the current subset."""
        return np.ones(self.n_rows, bool) if self.domain is None else self.domain

    @property
    def analysis_weights(self) -> np.ndarray:
        """Full-sample weights with zeros outside the subset."""
        return self.weights if self.domain is None else self.weights * self.domain

    def _by_psu(self) -> tuple[GroupIndex, np.ndarray]:
        """The PSU index and ``G x R`` multipliers of weights stored by PSU."""
        if self.psu is None or self.psu_multipliers is None:  # callers check `full` first
            raise RuntimeError("replicate weights are stored as a full matrix, not by PSU")
        return self.psu, self.psu_multipliers

    def replicate_totals_by(self, X: np.ndarray, codes: np.ndarray, n_domains: int) -> np.ndarray:
        """``R x (n_domains p)`` replicate totals of ``X`` within each domain (``codes``).

        Compressed replicates: one ``bincount`` per column over PSU x domain, then a
        ``G x R`` product; full matrices: one product per domain.
        """
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        p = X.shape[1]
        if self.domain is not None:
            codes = np.where(self.domain, codes, -1)
        keep = codes >= 0
        if self.full is not None:
            out = np.empty((self.n_replicates, n_domains * p))
            for d in range(n_domains):
                rows = codes == d
                out[:, d * p : (d + 1) * p] = self.full[rows].T @ X[rows]
            return out
        psu, multipliers = self._by_psu()
        G = psu.n_groups
        idx = psu.codes[keep] * n_domains + codes[keep]
        wk = self.weights[keep]
        cols = [
            np.bincount(idx, weights=wk * X[keep, k], minlength=G * n_domains).reshape(G, n_domains)
            for k in range(p)
        ]
        T = np.stack(cols, axis=2).reshape(G, n_domains * p)
        return multipliers.T @ T

    def weights_block(self, rows: slice) -> np.ndarray:
        """Replicate analysis weights of a block of rows (``rows x R``), zero outside the subset."""
        if self.full is not None:
            A = self.full[rows]
        else:
            psu, multipliers = self._by_psu()
            A = multipliers[psu.codes[rows]] * self.weights[rows, None]
        if self.domain is not None:
            A = A * self.domain[rows, None]
        return A

    def vcov(self, thetas: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """Replicate variance of replicate estimates ``thetas`` (``R x p``)."""
        return replicate_vcov(thetas, estimate, self.scale, self.rscales, self.mse)

    def degf_for(self, mask: np.ndarray | None = None) -> float:
        """Rank of the analysis-weight matrix of the rows in ``mask``, minus 1 (R ``degf``)."""
        inset = self.in_domain if mask is None else (self.in_domain & mask)
        if mask is None and self.domain is None and self._degf is not None:
            return self._degf
        if self.full is None:
            psu, multipliers = self._by_psu()
            present = np.bincount(psu.codes[inset], minlength=psu.n_groups) > 0
            key = hashlib.sha1(np.packbits(present).tobytes()).hexdigest()
            A = multipliers[present]
        else:
            key = hashlib.sha1(np.packbits(inset).tobytes()).hexdigest()
            A = self.full[inset]
        if key in self._rank_cache:
            return self._rank_cache[key]
        if A.shape[0] <= 4 * A.shape[1] or A.size <= RANK_SVD_CELLS:
            rank = np.linalg.matrix_rank(A) if A.size else 0
        else:
            s = np.sqrt(np.abs(np.linalg.eigvalsh(A.T @ A)))
            rank = int(np.sum(s > GRAM_RANK_TOL * s.max()))
        self._rank_cache[key] = float(rank - 1)
        return float(rank - 1)

    @property
    def degf(self) -> float:
        """Design degrees of freedom (rank of the replicate weights minus 1)."""
        return self.degf_for(None)

    def subset(self, mask: Any, label: str | None = None) -> ReplicateDesign:
        """Restrict estimation to a subgroup; see :meth:`SurveyDesign.subset`."""
        m = domain_mask(self.data, mask)
        new = m if self.domain is None else (self.domain & m)
        if not new.any():
            raise DataValidationError(
                "`mask` selects no rows; a subgroup needs at least one row of the sample."
            )
        text = label if label is not None else (mask if isinstance(mask, str) else "subset")
        if self.domain_label:
            text = f"{self.domain_label} & {text}"
        return replace(self, domain=new, domain_label=text)

    def _describe(self) -> str:
        text = f"{self.type}, {self.n_replicates} replicates; {self.n_rows} rows"
        if self.domain is not None:
            text += f"; subset '{self.domain_label}' ({int(self.domain.sum())} rows)"
        return text

    def __repr__(self) -> str:
        return f"<ReplicateDesign: {self._describe()}>"


def with_degf(design: ReplicateDesign) -> ReplicateDesign:
    return replace(design, _degf=design.degf_for(None))


def replicate_design(
    data: pd.DataFrame,
    weights: str,
    replicate_weights: list[str],
    *,
    type: Literal["JK1", "JKn", "BRR", "Fay", "bootstrap", "other"],
    scale: float | None = None,
    rscales: float | list[float] | np.ndarray | None = None,
    mse: bool = False,
    fay_rho: float | None = None,
    combined_weights: bool = True,
) -> ReplicateDesign:
    """A design from replicate weights shipped with the data (R ``svrepdesign``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (not modified).
    weights : str
        Column of full-sample weights (> 0).
    replicate_weights : list of str
        One column per replicate.
    type : {'JK1', 'JKn', 'BRR', 'Fay', 'bootstrap', 'other'}
        How the replicates were made; sets the default ``scale``.
    scale : float, optional
        Overall multiplier. Defaults as R: ``1/R`` (BRR), ``1/(R (1 - rho)^2)`` (Fay),
        ``1/(R - 1)`` (bootstrap), ``(R - 1)/R`` (JK1, with a warning), 1 otherwise.
    rscales : float or list of float, optional
        Per-replicate multipliers (length ``R``); required for JKn; default 1.
    mse : bool
        Centre the replicates at the full-sample estimate instead of their mean.
    fay_rho : float, optional
        Fay's ``rho`` (required for ``type='Fay'``).
    combined_weights : bool
        The columns are analysis weights (default) rather than multipliers of ``weights``.

    Returns
    -------
    ReplicateDesign

    Raises
    ------
    DataValidationError
        Missing, negative or non-finite (replicate) weights; ``rscales`` of the wrong
        length; BRR/Fay replicate counts that are not a multiple of 4; JKn without
        ``rscales``; Fay without ``fay_rho``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"w": [1.0, 1, 1, 1], "r1": [0.0, 2, 1, 1], "r2": [2.0, 0, 1, 1],
    ...                    "r3": [1.0, 1, 0, 2], "r4": [1.0, 1, 2, 0], "y": [1.0, 2, 3, 5]})
    >>> replicate_design(df, weights="w", replicate_weights=["r1", "r2", "r3", "r4"],
    ...                  type="JKn", rscales=0.5)
    <ReplicateDesign: JKn, 4 replicates; 4 rows>
    """
    data = check_dataframe(data)
    check_option(type, REPLICATE_TYPES, "type")
    if not isinstance(weights, str):
        raise ArgumentTypeError(f"`weights` must be a column name; got {weights!r}.")
    from ..._validation import check_columns

    check_columns(data, weights, "weights")
    w = check_design_weights(data, weights)
    cols, A = check_replicate_columns(data, replicate_weights)
    R = len(cols)
    if type in ("BRR", "Fay") and R % 4 != 0 and R > 2:
        raise DataValidationError(
            f"`replicate_weights` has {R} columns, but {type} replicates come from a Hadamard "
            "matrix whose order is a multiple of 4; check that every replicate column is "
            "listed (and no other column)."
        )
    if type == "Fay" and fay_rho is None:
        raise DataValidationError("type='Fay' needs `fay_rho` (e.g. 0.5).")
    rho = 0.0 if fay_rho is None else float(fay_rho)
    if not 0 <= rho < 1:
        raise DataValidationError(f"`fay_rho` must be in [0, 1); got {fay_rho!r}.")
    if rscales is None:
        if type == "JKn":
            raise DataValidationError(
                "type='JKn' needs `rscales` ((n_h - 1) / n_h for the stratum of each "
                "replicate), as the data documentation gives them."
            )
        rs = np.ones(R)
    else:
        rs = np.atleast_1d(np.asarray(rscales, dtype=float))
        if rs.size == 1:
            rs = np.full(R, float(rs[0]))
        if rs.size != R:
            raise DataValidationError(
                f"`rscales` has {rs.size} values but `replicate_weights` names {R} columns "
                f"({cols[0]} ... {cols[-1]}); give one value per replicate column."
            )
    if scale is None:
        if type == "BRR":
            scale = 1.0 / R
        elif type == "Fay":
            scale = 1.0 / (R * (1 - rho) ** 2)
        elif type == "bootstrap":
            scale = 1.0 / (R - 1)
        elif type == "JK1":
            scale = (R - 1) / R
            warnings.warn(
                f"`scale` not given for JK1: using (R - 1) / R with R = {R} replicates "
                "(right when each replicate drops one PSU).",
                DataWarning,
                stacklevel=2,
            )
        else:
            scale = 1.0
    if not combined_weights:
        A = A * w[:, None]
    design = ReplicateDesign(data, w, type, float(scale), rs, bool(mse), full=A, fay_rho=rho)
    return with_degf(design)
