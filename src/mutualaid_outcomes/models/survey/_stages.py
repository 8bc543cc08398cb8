"""Sampling stages of a survey design: strata and clusters per stage, FPC sizes, checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from .._core.groupsum import GroupIndex, factorize_rows
from ._checks import check_complete, check_numeric_column, show_rows

__all__ = [
    "CENSUS_TOL",
    "Stage",
    "build_stages",
    "check_lonely_psus",
    "check_nesting",
    "fpc_sizes",
    "stage_ids",
]


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


def stage_ids(
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


def check_nesting(
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


def fpc_sizes(
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


def build_stages(
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


def check_lonely_psus(data: pd.DataFrame, stages: tuple[Stage, ...], rule: str, fpc: bool) -> None:
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
