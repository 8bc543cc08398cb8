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
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..._validation import check_dataframe
from ...errors import ArgumentTypeError, DataValidationError, DataWarning
from .._core.groupsum import GroupIndex, factorize_rows
from ._checks import (
    check_complete,
    check_design_weights,
    check_lonely,
    check_numeric_column,
    show_rows,
    stage_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    from .replicate import ReplicateDesign

__all__ = ["survey_design", "SurveyDesign", "Stage", "LonelyPSU"]

LonelyPSU = Literal["fail", "adjust", "average", "remove", "certainty"]
CENSUS_TOL = 1e-7  # R onestrat(): a stratum with sampling fraction f = 1 - n/N below this adds 0


@dataclass(frozen=True)
class Stage:
    """One sampling stage: its strata, its clusters and the sizes behind the FPC.

    Stratum and cluster codes are unique over the whole design: a later-stage stratum
    is nested in its earlier-stage cluster, as in R ``svydesign``.
    """

    strata: GroupIndex
    clusters: GroupIndex
    cluster_stratum: np.ndarray  # stratum code of each cluster
    n_sampled: np.ndarray  # clusters sampled per stratum
    popsize: np.ndarray  # population clusters per stratum (inf: no FPC)
    stratum_parent: np.ndarray | None  # earlier-stage cluster of each stratum (stage >= 2)
    stratum_labels: tuple[Any, ...] = ()

    @property
    def fraction_unsampled(self) -> np.ndarray:
        """``f = (N - n) / N`` per stratum (1 without FPC)."""
        N = self.popsize
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(np.isinf(N), 1.0, (N - self.n_sampled) / N)


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

        See :func:`mutualaid_outcomes.models.survey.replicate.as_replicate`.
        """
        from .replicate import as_replicate

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


def domain_mask(data: pd.DataFrame, mask: Any) -> np.ndarray:
    """Boolean row mask from an array, Series or eval expression (NA -> False)."""
    if isinstance(mask, str):
        try:
            m = data.eval(mask)
        except Exception as exc:  # pandas raises many types
            raise DataValidationError(f"`mask` expression {mask!r} failed: {exc}") from None
    else:
        m = mask
    if isinstance(m, pd.Series):
        if not m.index.equals(data.index):
            raise DataValidationError("`mask` Series must have the same index as the design data.")
        m = m.to_numpy()
    arr = np.asarray(m)
    if arr.shape != (len(data),):
        raise DataValidationError(
            f"`mask` must have one value per row of the design ({len(data)}); got shape "
            f"{arr.shape}."
        )
    if arr.dtype == object:
        arr = pd.array(arr, dtype="boolean").fillna(False).to_numpy(dtype=bool)
    if arr.dtype != bool:
        raise ArgumentTypeError(f"`mask` must be boolean; got values of dtype {arr.dtype}.")
    return arr.copy()


def _stage_ids(
    data: pd.DataFrame,
    clusters: list[str | None],
    strata: list[str | None],
    nest: bool,
) -> tuple[list[np.ndarray], list[np.ndarray], list[tuple[Any, ...]]]:
    """Cluster and stratum codes per stage, nested as R ``svydesign`` nests them."""
    n = len(data)
    n_stages = max(len(clusters), 1)
    raw_ids = [
        check_complete(data, c, "cluster").to_numpy() if c is not None else np.arange(n)
        for c in (clusters or [None])
    ]
    raw_strata = [
        check_complete(data, s, "strata").to_numpy() if s is not None else np.zeros(n, int)
        for s in (strata or [None])
    ]
    n_s = len(raw_strata)
    has_strata = any(s is not None for s in strata)
    id_codes: list[np.ndarray] = []
    strata_codes: list[np.ndarray] = []
    labels: list[tuple[Any, ...]] = []
    for k in range(n_stages):
        parts = list(raw_ids[: k + 1])
        if nest and has_strata:
            parts = list(raw_strata[: min(k + 1, n_s)]) + parts
        codes, _ = factorize_rows(*parts)
        id_codes.append(codes)
        s_raw = raw_strata[min(k, n_s - 1)]
        if k == 0:
            s_codes, _ = factorize_rows(s_raw)
        else:
            s_codes, _ = factorize_rows(s_raw, id_codes[k - 1])
        strata_codes.append(s_codes)
        first = pd.Series(np.arange(n)).groupby(s_codes, sort=True).first().to_numpy()
        labels.append(tuple(np.asarray(s_raw[first]).tolist()))
    return id_codes, strata_codes, labels


def _check_nesting(
    data: pd.DataFrame, cluster_codes: np.ndarray, strata_codes: np.ndarray, roles: dict
) -> None:
    """Stage-1 clusters must not cross strata unless ``nest=True`` (R check.strata)."""
    pairs = pd.DataFrame({"c": cluster_codes, "s": strata_codes}).drop_duplicates()
    n_strata_per = pairs.groupby("c")["s"].nunique()
    bad = n_strata_per.index[n_strata_per.to_numpy() > 1].to_numpy()
    if len(bad):
        rows = np.flatnonzero(np.isin(cluster_codes, bad))
        col = roles["cluster"][0]
        ids = pd.unique(data[col].to_numpy()[rows])[:5].tolist()
        raise DataValidationError(
            f"`cluster` ids in column '{col}' repeat across strata of '{roles['strata'][0]}': "
            f"{len(bad)} ids (e.g. {ids}) occur in more than one stratum ({show_rows(data, rows)}). "
            "If these ids are numbered within strata (PSU 1, 2 in every stratum), pass "
            "nest=True; otherwise fix the ids."
        )


def _fpc_sizes(
    data: pd.DataFrame,
    fpc: list[str | None],
    n_stages: int,
    strata_codes: list[np.ndarray],
    n_sampled_rows: list[np.ndarray],
    labels: list[tuple[Any, ...]],
) -> list[np.ndarray]:
    """Population sizes per row and stage from FPC columns (sizes or fractions)."""
    if len(fpc) > n_stages:
        raise DataValidationError(
            f"`fpc` names {len(fpc)} columns but the design has {n_stages} stage(s) of "
            "`cluster`; give one FPC column (or None) per stage."
        )
    values = [check_numeric_column(data, c, "fpc") if c is not None else None for c in fpc] + [
        None
    ] * (n_stages - len(fpc))
    given = [v for v in values if v is not None]
    allv = np.concatenate(given)
    if np.any(~np.isfinite(allv) | (allv < 0)):
        raise DataValidationError("`fpc` values must be finite and >= 0.")
    is_popsize = bool(np.any(allv > 1))
    if is_popsize and not np.all(allv >= 1):
        raise DataValidationError(
            "`fpc` must hold either population sizes (all >= 1) or sampling fractions (all "
            "<= 1); the columns mix both."
        )
    out = []
    for k, v in enumerate(values):
        n_k = n_sampled_rows[k]
        if v is None:
            out.append(np.full(len(data), np.inf))
            continue
        col = fpc[k]
        codes = strata_codes[k]
        varies = pd.Series(v).groupby(codes).nunique().to_numpy() > 1
        if varies.any():
            h = int(np.flatnonzero(varies)[0])
            rows = np.flatnonzero(codes == h)
            raise DataValidationError(
                f"`fpc` column '{col}' varies within stratum {labels[k][h]!r} at stage {k + 1} "
                f"({show_rows(data, rows)}); the FPC is one population size per stratum."
            )
        with np.errstate(divide="ignore"):
            pop = v if is_popsize else np.where(v > 0, n_k / v, np.inf)
        small = np.flatnonzero(pop < n_k - 1e-9)
        if len(small):
            h = codes[small[0]]
            raise DataValidationError(
                f"`fpc` column '{col}' implies a population smaller than the sample at stage "
                f"{k + 1}: stratum {labels[k][h]!r} has {int(n_k[small[0]])} sampled units "
                f"but an FPC population of {pop[small[0]]:g} ({show_rows(data, small)}). "
                "Give population sizes (number of units in the stratum) or sampling fractions "
                "<= 1."
            )
        out.append(pop)
    return out


def _build_stages(
    id_codes: list[np.ndarray],
    strata_codes: list[np.ndarray],
    popsize_rows: list[np.ndarray],
    labels: list[tuple[Any, ...]],
) -> tuple[Stage, ...]:
    stages = []
    for k, (ids, sc) in enumerate(zip(id_codes, strata_codes)):
        cl = GroupIndex.from_codes(ids)
        st = GroupIndex.from_codes(sc)
        first = np.zeros(cl.n_groups, dtype=np.int64)
        first[ids[::-1]] = np.arange(len(ids))[::-1]
        cluster_stratum = sc[first]
        n_sampled = np.bincount(cluster_stratum, minlength=st.n_groups).astype(float)
        s_first = np.zeros(st.n_groups, dtype=np.int64)
        s_first[sc[::-1]] = np.arange(len(sc))[::-1]
        pop = popsize_rows[k][s_first]
        parent = id_codes[k - 1][s_first] if k > 0 else None
        stages.append(Stage(st, cl, cluster_stratum, n_sampled, pop, parent, labels[k]))
    return tuple(stages)


def _check_lonely(data: pd.DataFrame, stages: tuple[Stage, ...], rule: str, fpc: bool) -> None:
    """Fail on strata with a single PSU when ``lonely_psu='fail'`` (stages used only)."""
    if rule != "fail":
        return
    used = stages if fpc else stages[:1]
    for k, st in enumerate(used):
        lonely = np.flatnonzero((st.n_sampled == 1) & (st.fraction_unsampled >= CENSUS_TOL))
        if len(lonely):
            rows = np.flatnonzero(np.isin(st.strata.codes, lonely))
            names = [st.stratum_labels[h] for h in lonely[:5]] if k == 0 else []
            which = f" ({names}{' ...' if len(lonely) > 5 else ''})" if names else ""
            raise DataValidationError(
                f"{len(lonely)} stratum/strata at stage {k + 1} have a single PSU{which}: "
                f"{show_rows(data, rows)}. A variance needs two PSUs per stratum. Choose "
                "lonely_psu='adjust' (centre at the population mean), 'average' (scale up the "
                "other strata), 'remove' (contribute zero) or 'certainty', or collapse "
                "strata before building the design."
            )


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
    lonely_psu = check_lonely(lonely_psu)
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
    id_codes, strata_codes, labels = _stage_ids(data, clusters, strata_l, nest)
    if id_codes[0].max() == 0 and not (nest and has_strata):
        raise DataValidationError(
            "The design has a single primary sampling unit; a design-based variance needs "
            "at least two PSUs."
        )
    if has_strata and not nest and clusters:
        _check_nesting(data, id_codes[0], strata_codes[0], roles)
    # clusters sampled per stratum, as a per-row vector for each stage
    n_rows_sampled = []
    for ids, sc in zip(id_codes, strata_codes):
        pairs = pd.DataFrame({"s": sc, "c": ids})
        n_rows_sampled.append(pairs.groupby("s")["c"].transform("nunique").to_numpy(float))
    fpc_given = any(c is not None for c in fpc_l)
    n_stages = len(id_codes)
    if fpc_given:
        popsize = _fpc_sizes(data, fpc_l, n_stages, strata_codes, n_rows_sampled, labels)
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
    stages = _build_stages(id_codes, strata_codes, popsize, labels)
    _check_lonely(data, stages, lonely_psu, fpc_given)
    return SurveyDesign(data, w, stages, lonely_psu, has_strata, fpc_given, roles)
