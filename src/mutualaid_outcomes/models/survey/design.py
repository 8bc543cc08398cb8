"""Complex survey designs: weights, strata, (multi-stage) clusters and finite population corrections.

:func:`survey_design` describes how a sample was drawn, as R's ``survey::svydesign``
does; estimators (:func:`~mutualaid_outcomes.models.survey.survey_mean`, ...) take the
design and compute Taylor-linearisation (or, after :meth:`SurveyDesign.as_replicate`,
replicate-weight) standard errors. A subgroup is analysed with
:meth:`SurveyDesign.subset`, which keeps every row of the design and gives the rows
outside the subgroup zero weight, so that the variance still sees all PSUs and strata.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"stratum": [1, 1, 1, 1, 2, 2, 2, 2],
...                    "psu": [1, 1, 2, 2, 3, 3, 4, 4],
...                    "w": [10.0, 10, 12, 12, 8, 8, 9, 9],
...                    "aa": [1, 0, 1, 1, 0, 0, 1, 0]})
>>> d = survey_design(df, weights="w", strata="stratum", cluster="psu")
>>> d.n_psu, d.n_strata, d.degf
(4, 2, 2.0)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.linalg import hadamard

from ..._rng import check_rng, seed_of
from ..._validation import check_dataframe, check_option, check_positive_int
from ...errors import ArgumentTypeError, DataValidationError, DataWarning
from ._checks import (
    check_design_weights,
    check_lonely,
    domain_mask,
    stage_columns,
)
from ._stages import (
    CENSUS_TOL,
    Stage,
    build_stages,
    check_lonely_psus,
    check_nesting,
    fpc_sizes,
    stage_ids,
)
from .replicate import ReplicateDesign, with_degf

__all__ = ["survey_design", "SurveyDesign", "Stage", "LonelyPSU", "CENSUS_TOL", "as_replicate"]

LonelyPSU = Literal["fail", "adjust", "average", "remove", "certainty"]


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A survey design for Taylor-linearisation variance (immutable).

    Build it with :func:`survey_design`. ``domain`` marks the rows of a subgroup made by
    :meth:`subset`; rows outside have zero analysis weight but stay in the design.

    Attributes
    ----------
    data : pandas.DataFrame
        The survey data (not copied; never modified).
    weights : numpy.ndarray
        Sampling weights of every row.
    stages : tuple of Stage
        The sampling stages (one for single-stage designs).
    lonely_psu : str
        What to do with strata that have a single PSU.
    """

    data: pd.DataFrame
    weights: np.ndarray
    stages: tuple[Stage, ...]
    lonely_psu: str
    has_strata: bool
    fpc_given: bool
    roles: dict[str, Any] = field(default_factory=dict)
    domain: np.ndarray | None = None
    domain_label: str | None = None

    # -- description --------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``'linearization'``."""
        return "linearization"

    @property
    def n_rows(self) -> int:
        """Rows in the design (including rows outside a subset)."""
        return len(self.weights)

    @property
    def in_domain(self) -> np.ndarray:
        """Boolean mask of the rows in the current subset (all rows for a full design)."""
        return np.ones(self.n_rows, bool) if self.domain is None else self.domain

    @property
    def analysis_weights(self) -> np.ndarray:
        """Sampling weights with zeros outside the subset."""
        return self.weights if self.domain is None else self.weights * self.domain

    @property
    def n_psu(self) -> int:
        """First-stage clusters in the design."""
        return self.stages[0].clusters.n_groups

    @property
    def n_strata(self) -> int:
        """First-stage strata in the design."""
        return self.stages[0].strata.n_groups

    def degf_for(self, mask: np.ndarray | None = None) -> float:
        """Design degrees of freedom of the rows in ``mask`` (R ``degf()``).

        PSUs minus strata among the rows with non-zero weight, as R
        ``degf.survey.design2`` counts them for a subset.
        """
        stage = self.stages[0]
        inset = self.in_domain if mask is None else (self.in_domain & mask)
        psu = np.bincount(stage.clusters.codes[inset], minlength=stage.clusters.n_groups)
        strata = np.bincount(stage.strata.codes[inset], minlength=stage.strata.n_groups)
        return float(np.count_nonzero(psu) - np.count_nonzero(strata))

    @property
    def degf(self) -> float:
        """Design degrees of freedom: PSUs minus strata with rows in the subset."""
        return self.degf_for(None)

    # -- operations -----------------------------------------------------------------------
    def subset(self, mask: Any, label: str | None = None) -> SurveyDesign:
        """Restrict estimation to a subgroup (domain) without dropping rows.

        Parameters
        ----------
        mask : array-like of bool, pandas.Series or str
            Rows of the subgroup: a boolean array/Series aligned with ``data`` or a
            :meth:`pandas.DataFrame.eval` expression such as ``"sex == 'F' and age >= 18"``.
            Missing values count as outside the subgroup.
        label : str, optional
            Description shown in summaries (default: the expression).

        Returns
        -------
        SurveyDesign
            The same design with zero weight outside the subgroup (R ``subset()`` of a
            ``survey.design2``); variances still use every PSU and stratum.
        """
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

    def as_replicate(
        self,
        type: Literal["JK1", "JKn", "BRR", "Fay", "bootstrap"] | None = None,
        *,
        n_boot: int = 50,
        fay_rho: float = 0.0,
        mse: bool = False,
        rng: Any = None,
    ) -> ReplicateDesign:
        """Convert to a replicate-weight design (R ``as.svrepdesign``).

        See :func:`as_replicate`.
        """
        return as_replicate(self, type=type, n_boot=n_boot, fay_rho=fay_rho, mse=mse, rng=rng)

    def _describe(self) -> str:
        r = self.roles
        parts = [f"{len(self.stages)}-stage" if len(self.stages) > 1 else "single-stage"]
        if self.has_strata:
            parts.append(f"stratified ({self.n_strata} strata)")
        parts.append(f"{self.n_psu} PSUs" if r.get("cluster") else "no clusters")
        if self.fpc_given:
            parts.append("with FPC")
        text = ", ".join(parts) + f"; {self.n_rows} rows"
        if self.domain is not None:
            text += f"; subset '{self.domain_label}' ({int(self.domain.sum())} rows)"
        return text

    def __repr__(self) -> str:
        return f"<SurveyDesign: {self._describe()}>"


def survey_design(
    data: pd.DataFrame,
    weights: str | None = None,
    strata: str | Sequence[str | None] | None = None,
    cluster: str | Sequence[str] | None = None,
    *,
    fpc: str | Sequence[str | None] | None = None,
    nest: bool = False,
    lonely_psu: LonelyPSU = "fail",
) -> SurveyDesign:
    """Describe a complex survey sample (R ``survey::svydesign``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent. Not copied or modified; the design keeps a reference.
    weights : str, optional
        Column of sampling weights (inverse inclusion probabilities), all > 0. When
        omitted, the weights are the product over stages of population / sample sizes
        implied by ``fpc`` (as svydesign); without ``fpc`` every row gets weight 1 (with a
        warning).
    strata : str or list of str, optional
        Stratum column (first stage), or one per stage (``None`` for an unstratified stage).
    cluster : str or list of str, optional
        Cluster (PSU) column, or one column per sampling stage for multi-stage designs
        (``["district", "school"]``). Later-stage ids need only be unique within the
        earlier-stage cluster. Default: every row is its own PSU.
    fpc : str or list of str, optional
        Finite population correction per stage: population sizes (number of units in
        the stratum at that stage, all >= 1) or sampling fractions (all <= 1). Later
        stages add their variance only when ``fpc`` is given (``None`` in the list means
        sampling with replacement at that stage), exactly as in R.
    nest : bool
        Cluster ids are numbered within strata (relabel them by stratum).
    lonely_psu : {'fail', 'adjust', 'average', 'remove', 'certainty'}
        Strata with a single PSU: raise (default), centre at zero instead of the
        stratum mean ('adjust'), drop and scale the others up ('average'), contribute
        zero ('remove', 'certainty'); R ``options(survey.lonely.psu = ...)``.

    Returns
    -------
    SurveyDesign

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        Missing or non-positive weights; missing ids, strata or FPC; cluster ids
        repeated across strata without ``nest=True``; an FPC smaller than the sample;
        a single PSU in a stratum with ``lonely_psu='fail'``; a single PSU overall.

    Notes
    -----
    Stage-``k`` clusters are identified by the ids of stages ``1..k`` (and the strata
    with ``nest=True``); stage-``k`` strata (``k >= 2``) are nested in the stage-``k-1``
    cluster, as ``svydesign`` does. The variance is computed by
    :func:`~mutualaid_outcomes.models.survey.linearization.linearized_vcov`.

    References
    ----------
    Lumley, T. (2004). Analysis of complex survey samples. *Journal of Statistical
    Software*, 9(8), 1-19.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "w": [2.0, 2, 3, 3, 4, 4],
    ...                    "N": [30] * 6})
    >>> survey_design(df, weights="w", cluster="psu", fpc="N")
    <SurveyDesign: single-stage, 3 PSUs, with FPC; 6 rows>
    """
    data = check_dataframe(data)
    lonely = check_lonely(lonely_psu)
    if not isinstance(nest, bool):
        raise ArgumentTypeError(f"`nest` must be True or False; got {nest!r}.")
    clusters = stage_columns(data, cluster, "cluster")
    if None in clusters:
        raise DataValidationError("`cluster` must name a column at every stage; got None.")
    strata_l = stage_columns(data, strata, "strata")
    fpc_l = stage_columns(data, fpc, "fpc")
    if weights is not None and not isinstance(weights, str):
        raise ArgumentTypeError(f"`weights` must be a column name; got {weights!r}.")
    roles = {"weights": weights, "strata": strata_l, "cluster": clusters, "fpc": fpc_l}
    has_strata = any(s is not None for s in strata_l)
    id_codes, strata_codes, labels = stage_ids(data, clusters, strata_l, nest)
    if id_codes[0].max() == 0 and not (nest and has_strata):
        raise DataValidationError(
            "The design has a single primary sampling unit; a design-based variance needs "
            "at least two PSUs."
        )
    if has_strata and not nest and clusters:
        check_nesting(data, id_codes[0], strata_codes[0], roles)
    # clusters sampled per stratum, as a per-row vector for each stage
    n_rows_sampled = []
    for ids, sc in zip(id_codes, strata_codes):
        pairs = pd.DataFrame({"s": sc, "c": ids})
        n_rows_sampled.append(pairs.groupby("s")["c"].transform("nunique").to_numpy(float))
    fpc_given = any(c is not None for c in fpc_l)
    n_stages = len(id_codes)
    if fpc_given:
        popsize = fpc_sizes(data, fpc_l, n_stages, strata_codes, n_rows_sampled, labels)
    else:
        popsize = [np.full(len(data), np.inf)] * n_stages
    if weights is not None:
        w = check_design_weights(data, weights)
    elif fpc_given and all(np.all(np.isfinite(p)) for p in popsize):
        w = np.prod([p / n for p, n in zip(popsize, n_rows_sampled)], axis=0)
    else:
        if fpc_given:
            raise DataValidationError(
                "Without `weights`, every stage needs an `fpc` population size to derive "
                "the sampling weights; give `weights=`."
            )
        warnings.warn(
            "No `weights` given: every row has weight 1 (equal-probability sample).",
            DataWarning,
            stacklevel=2,
        )
        w = np.ones(len(data))
    stages = build_stages(id_codes, strata_codes, popsize, labels)
    check_lonely_psus(data, stages, lonely, fpc_given)
    return SurveyDesign(data, w, stages, lonely, has_strata, fpc_given, roles)


def _jk1(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    st = design.stages[0]
    n = st.clusters.n_groups
    M = np.full((n, n), n / (n - 1))
    np.fill_diagonal(M, 0.0)
    f = float(st.fraction_unsampled[0])
    return M, f * (n - 1) / n, np.ones(n)


def _jkn(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    st = design.stages[0]
    G, H = st.clusters.n_groups, st.strata.n_groups
    cols, rscales = [], []
    f = st.fraction_unsampled
    for h in range(H):  # strata are coded in order of appearance, as R's unique()
        members = np.flatnonzero(st.cluster_stratum == h)
        n_h = len(members)
        if f[h] == 0:
            continue  # census stratum: R drops its replicates (survey.drop.replicates)
        if n_h == 1:
            if design.lonely_psu == "adjust":
                col = np.full(G, H / (H - 1))
                col[members] = 0.0
                cols.append(col)
                rscales.append((H - 1) / H)
            continue  # fail was raised at design time; remove/certainty/average drop it
        for j in members:
            col = np.ones(G)
            col[members] = n_h / (n_h - 1)
            col[j] = 0.0
            cols.append(col)
            rscales.append(f[h] * (n_h - 1) / n_h)
    if not cols:
        raise DataValidationError("All strata were sampled exhaustively: no replicates to make.")
    scale = 1.0
    if len(cols) < G and design.lonely_psu == "average":
        scale = G / len(cols)
    return np.column_stack(cols), scale, np.asarray(rscales)


def _brr(design: SurveyDesign, rho: float) -> tuple[np.ndarray, float, np.ndarray]:
    st = design.stages[0]
    H, G = st.strata.n_groups, st.clusters.n_groups
    sizes = np.bincount(st.cluster_stratum, minlength=H)
    bad = np.flatnonzero(sizes != 2)
    if len(bad):
        names = [st.stratum_labels[h] for h in bad[:5]]
        raise DataValidationError(
            f"BRR/Fay replicates need exactly 2 PSUs per stratum; {len(bad)} strata have "
            f"another number (e.g. {names} with {sizes[bad[:5]].tolist()} PSUs). Use JKn or "
            "bootstrap, or pair PSUs into pseudo-strata first."
        )
    order = 1
    while order < H + 1:
        order *= 2
    Hm = (hadamard(order) > 0).astype(int)  # Sylvester, 0/1 coded
    first = np.zeros(G, dtype=bool)
    seen = np.zeros(H, dtype=bool)
    for g in range(G):  # first PSU of each stratum in order of appearance
        h = st.cluster_stratum[g]
        if not seen[h]:
            first[g], seen[h] = True, True
    sign = Hm[1 + st.cluster_stratum, :]  # G x R: 1 selects the first PSU
    pick = np.where(first[:, None], sign == 1, sign == 0)
    M = np.where(pick, 2.0 - rho, rho)
    return M, 1.0 / (order * (1 - rho) ** 2), np.ones(order)


def _bootstrap(
    design: SurveyDesign, n_boot: int, gen: np.random.Generator
) -> tuple[np.ndarray, float, np.ndarray]:
    st = design.stages[0]
    G, H = st.clusters.n_groups, st.strata.n_groups
    M = np.zeros((G, n_boot))
    for h in range(H):  # loop over strata (not PSUs); each draw is vectorised
        members = np.flatnonzero(st.cluster_stratum == h)
        n_h = len(members)
        N_h = st.popsize[h]
        if np.isinf(N_h):
            draws = gen.integers(0, n_h, size=(n_boot, n_h))
        else:
            N_int = int(round(N_h))
            draws = np.stack([gen.choice(N_int, n_h, replace=False) for _ in range(n_boot)])
            draws = draws % n_h
        counts = np.zeros((n_boot, n_h))
        np.add.at(counts, (np.repeat(np.arange(n_boot), n_h), draws.ravel()), 1.0)
        M[members] = counts.T
    m = 1.0 / np.mean(1.0 / np.bincount(st.cluster_stratum, minlength=H))
    return M, float(m / ((m - 1) * (n_boot - 1))), np.ones(n_boot)


def as_replicate(
    design: SurveyDesign,
    type: Literal["JK1", "JKn", "BRR", "Fay", "bootstrap"] | None = None,
    *,
    n_boot: int = 50,
    fay_rho: float = 0.0,
    mse: bool = False,
    rng: Any = None,
) -> ReplicateDesign:
    """Replicate weights for a linearisation design (R ``as.svrepdesign``).

    Parameters
    ----------
    design : SurveyDesign
        A full (not subset) design; replicates are formed from its first-stage PSUs.
    type : {'JK1', 'JKn', 'BRR', 'Fay', 'bootstrap'}, optional
        Default ``'JKn'`` for stratified and ``'JK1'`` for unstratified designs.
    n_boot : int
        Bootstrap replicates (``type='bootstrap'``).
    fay_rho : float
        Fay's ``rho`` (``type='Fay'``; 0 gives BRR).
    mse : bool
        Centre replicates at the full-sample estimate.
    rng : int, numpy.random.Generator or None
        Randomness of the bootstrap.

    Returns
    -------
    ReplicateDesign

    Raises
    ------
    OptionError
        Unknown ``type``.
    DataValidationError
        JK1 on a stratified design, JKn/BRR/Fay on an unstratified one, BRR/Fay with
        strata that do not have exactly 2 PSUs, or a subset design.

    Notes
    -----
    The first-stage FPC enters JK1/JKn (``1 - n/N``) and the bootstrap (sampling without
    replacement from ``N_h`` copies); BRR/Fay drop it (R warns likewise). BRR uses the
    Sylvester Hadamard matrix of the smallest power-of-2 order above the number of
    strata, where R picks from its own list of Hadamard matrices: for totals the
    variances agree exactly (full orthogonal balance), for nonlinear estimators they are
    equally valid but not identical to R's. JK1/JKn replicates are those of R.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survey.design import survey_design
    >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "w": [1.0, 1, 1, 1]})
    >>> as_replicate(survey_design(df, weights="w", cluster="psu"), "JK1")
    <ReplicateDesign: JK1, 4 replicates; 4 rows>
    """
    if not isinstance(design, SurveyDesign):
        raise ArgumentTypeError(
            "`design` must be a SurveyDesign from survey_design(); got "
            f"{design.__class__.__name__}."
        )
    if design.domain is not None:
        raise DataValidationError(
            "Make replicate weights from the full design, then subset the replicate design."
        )
    if type is None:
        type = "JKn" if design.has_strata else "JK1"
    check_option(type, ("JK1", "JKn", "BRR", "Fay", "bootstrap"), "type")
    if type == "JK1" and design.has_strata:
        raise DataValidationError("type='JK1' is for unstratified designs; use 'JKn'.")
    if type in ("JKn", "BRR", "Fay") and not design.has_strata:
        raise DataValidationError(
            f"type={type!r} needs a stratified design; use 'JK1' or 'bootstrap'."
        )
    rho = float(fay_rho) if type == "Fay" else 0.0
    if type == "Fay" and not 0 < rho < 1:
        raise DataValidationError(f"`fay_rho` must be in (0, 1) for Fay; got {fay_rho!r}.")
    gen = check_rng(rng)
    if type in ("BRR", "Fay") and design.fpc_given:
        warnings.warn(
            "The finite population correction is dropped for BRR/Fay.", DataWarning, stacklevel=2
        )
    if type == "JK1":
        M, scale, rs = _jk1(design)
    elif type == "JKn":
        M, scale, rs = _jkn(design)
    elif type in ("BRR", "Fay"):
        M, scale, rs = _brr(design, rho)
    else:
        M, scale, rs = _bootstrap(design, check_positive_int(n_boot, "n_boot", 2), gen)
    rep = ReplicateDesign(
        design.data,
        design.weights,
        type,
        float(scale),
        rs,
        bool(mse),
        psu_multipliers=M,
        psu=design.stages[0].clusters,
        fay_rho=rho,
        seed=seed_of(rng) if type == "bootstrap" else None,
    )
    return with_degf(rep)
