"""Important People (network roster) indices.

The Important People instrument (Important People and Activities, IPA / Important
People Inventory) asks a respondent to list the people important to them and, for each,
the relationship, contact, that person's drinking, their stance towards the respondent's
drinking and whether they are in AA. This module turns such a roster into per-person
network indices.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.instruments.network import network_indices
>>> roster = pd.DataFrame({"id": [1, 1, 1, 2], "member": [1, 2, 3, 1],
...                        "drinker_type": [2, 0, 1, 0], "stance": [-1, 1, 1, 1],
...                        "in_aa": [0, 1, 0, 1]})
>>> network_indices(roster)[["id", "network_size", "n_heavy", "pct_heavy", "n_aa"]]
   id  network_size  n_heavy  pct_heavy  n_aa
0   1             3        1  33.333333     1
1   2             1        0   0.000000     1
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._validation import as_column_list, check_columns, check_dataframe, check_option, renamed
from ..errors import ColumnNotFoundError, DataValidationError

__all__ = ["network_indices", "NETWORK_COLUMNS"]

#: index columns returned by :func:`network_indices` (after the id / by columns)
NETWORK_COLUMNS: tuple[str, ...] = (
    "network_size",
    "n_heavy",
    "pct_heavy",
    "n_abstainers",
    "pct_abstainers",
    "n_drinker_unknown",
    "n_aa",
    "pct_aa",
    "n_support_drinking",
    "pct_support_drinking",
    "n_support_abstinence",
    "pct_support_abstinence",
    "mean_stance",
)

_CODES = {
    "drinker_type": (0, 1, 2, 3),
    "stance": (-1, 0, 1),
    "in_aa": (0, 1),
}


def _check_codes(frame: pd.DataFrame, col: str, allowed: Sequence[int], argument: str) -> None:
    s = frame[col]
    num = pd.to_numeric(s, errors="coerce")
    bad = (s.notna() & num.isna()) | (num.notna() & ~num.isin(allowed))
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        vals = list(dict.fromkeys(repr(v) for v in s.iloc[pos]))[:10]
        shown = ", ".join(str(int(p)) for p in pos[:10])
        more = f" (+{len(pos) - 10} more)" if len(pos) > 10 else ""
        raise DataValidationError(
            f"`{argument}` column '{col}' must hold codes {list(allowed)} (or missing); "
            f"found {vals} at row position(s) {shown}{more}."
        )


def _wide_to_long(roster: pd.DataFrame, keys: list[str], attrs: dict[str, str]) -> pd.DataFrame:
    pieces = []
    members: set[int] = set()
    found: dict[str, dict[int, str]] = {}
    for role, base in attrs.items():
        pat = re.compile(rf"^{re.escape(base)}_(\d+)$")
        cols = {int(m.group(1)): c for c in roster.columns if (m := pat.match(str(c)))}
        if not cols:
            raise ColumnNotFoundError(
                f"`{role}`: no wide columns named '{base}_1', '{base}_2', ... in the roster."
            )
        found[role] = cols
        members |= set(cols)
    for k in sorted(members):
        part = roster[keys].copy()
        part["member"] = k
        for role in attrs:
            col = found[role].get(k)
            part[role] = roster[col].to_numpy() if col is not None else np.nan
        pieces.append(part)
    long = pd.concat(pieces, ignore_index=True)
    listed = long[list(attrs)].notna().any(axis=1)
    long["_listed"] = listed.to_numpy()
    return long


@renamed(roster="data")
def network_indices(
    data: pd.DataFrame,
    *,
    id: str = "id",
    by: str | Sequence[str] | None = None,
    member: str | None = "member",
    drinker_type: str = "drinker_type",
    stance: str = "stance",
    in_aa: str = "in_aa",
    layout: Literal["long", "wide"] = "long",
) -> pd.DataFrame:
    """Network composition indices per person (and per wave) from an Important People roster.

    Parameters
    ----------
    data : pandas.DataFrame
        The Important People roster. ``layout="long"``: one row per network member, with the person id, optional
        ``by`` columns (e.g. ``"month"``), a member number and the attributes.
        ``layout="wide"``: one row per person (x wave) with columns
        ``{drinker_type}_1, {drinker_type}_2, ...`` (likewise for ``stance`` and
        ``in_aa``). Not modified.
    id : str
        Person id column.
    by : str or list of str, optional
        Further grouping columns, e.g. the assessment month.
    member : str or None
        Member number column (long layout); used to reject duplicated members.
    drinker_type : str
        Member's drinking: 0 abstainer, 1 light/moderate, 2 heavy, 3 unknown.
    stance : str
        Member's stance on the respondent's drinking: -1 supports drinking (opposes
        abstinence), 0 neutral, 1 supports abstinence.
    in_aa : str
        Member is in AA: 0/1.
    layout : {'long', 'wide'}
        Roster layout.

    Returns
    -------
    pandas.DataFrame
        One row per ``id`` (x ``by``) with :data:`NETWORK_COLUMNS`.

    Raises
    ------
    ColumnNotFoundError
        A named column (or, for wide rosters, a family of columns) is missing.
    DataValidationError
        Codes outside those listed above, or duplicated (id, by, member) rows.

    Notes
    -----
    Definitions (members = people listed; in a wide roster a slot counts as listed when
    any of its attributes is recorded):

    * ``network_size``: number of members.
    * ``n_heavy`` / ``pct_heavy``: members with ``drinker_type == 2``; percent of
      ``network_size`` (0-100). Likewise ``n_abstainers`` (code 0); ``n_drinker_unknown``
      counts code 3 or missing.
    * ``n_aa`` / ``pct_aa``: members with ``in_aa == 1``.
    * ``n_support_drinking`` / ``pct_support_drinking``: members with ``stance == -1``.
    * ``n_support_abstinence`` / ``pct_support_abstinence``: members with ``stance == 1``.
    * ``mean_stance``: mean stance over members with a recorded stance (-1 to 1), a
      signed summary of support for abstinence.

    Percentages are missing when the network is empty. Unknown codes count in the
    denominator of percentages (they are members), not in the numerators.

    References
    ----------
    Longabaugh R, Wirtz PW, Zywiak WH, O'Malley SS (2010). Network support as a
    prognostic indicator of drinking outcomes: the COMBINE study. Journal of Studies on
    Alcohol and Drugs 71:837-846. Zywiak WH, Longabaugh R, Wirtz PW (2002).
    Decomposing the relationships between pretreatment social network characteristics
    and alcohol treatment outcome. Journal of Studies on Alcohol 63:114-121.

    Examples
    --------
    A wide roster with two slots per person:

    >>> import numpy as np, pandas as pd
    >>> wide = pd.DataFrame({"id": [1, 2],
    ...     "drinker_type_1": [2, 0], "drinker_type_2": [0, np.nan],
    ...     "stance_1": [-1, 1], "stance_2": [1, np.nan],
    ...     "in_aa_1": [0, 1], "in_aa_2": [1, np.nan]})
    >>> network_indices(wide, layout="wide")[["id", "network_size", "mean_stance"]]
       id  network_size  mean_stance
    0   1             2          0.0
    1   2             1          1.0
    """
    roster = check_dataframe(data, allow_empty=False)
    check_option(layout, ("long", "wide"), "layout")
    by_cols = as_column_list(by, "by")
    keys = [id, *by_cols]
    check_columns(roster, keys, "id/by")
    attrs = {"drinker_type": drinker_type, "stance": stance, "in_aa": in_aa}
    if layout == "long":
        need = list(attrs.values()) + ([member] if member is not None else [])
        check_columns(roster, need, "roster attribute columns")
        long = roster[keys].copy()
        for role, col in attrs.items():
            long[role] = roster[col].to_numpy()
        if member is not None:
            dup = roster.duplicated(subset=[*keys, member], keep=False).to_numpy()
            if dup.any():
                pos = np.flatnonzero(dup)
                raise DataValidationError(
                    f"`data` has {int(dup.sum())} rows with duplicated ({', '.join(keys)}, "
                    f"{member}) at row position(s) {', '.join(map(str, pos[:10]))}; each "
                    "member must appear once per person and wave."
                )
        long["_listed"] = True
        for role, col in attrs.items():
            _check_codes(roster, col, _CODES[role], role)
    else:
        long = _wide_to_long(roster, keys, attrs)
        for role in attrs:
            _check_codes(long, role, _CODES[role], role)

    dt = pd.to_numeric(long["drinker_type"], errors="coerce")
    st = pd.to_numeric(long["stance"], errors="coerce")
    aa = pd.to_numeric(long["in_aa"], errors="coerce")
    listed = long["_listed"].astype(bool)
    work = long[keys].copy()
    work["network_size"] = listed.astype(np.int64)
    work["n_heavy"] = (listed & (dt == 2)).astype(np.int64)
    work["n_abstainers"] = (listed & (dt == 0)).astype(np.int64)
    work["n_drinker_unknown"] = (listed & ((dt == 3) | dt.isna())).astype(np.int64)
    work["n_aa"] = (listed & (aa == 1)).astype(np.int64)
    work["n_support_drinking"] = (listed & (st == -1)).astype(np.int64)
    work["n_support_abstinence"] = (listed & (st == 1)).astype(np.int64)
    work["_stance_sum"] = np.where(listed & st.notna(), st, 0.0)
    work["_stance_n"] = (listed & st.notna()).astype(np.int64)
    agg = work.groupby(keys, sort=True, dropna=False).sum().reset_index()
    size = agg["network_size"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        for n_col, p_col in (
            ("n_heavy", "pct_heavy"),
            ("n_abstainers", "pct_abstainers"),
            ("n_aa", "pct_aa"),
            ("n_support_drinking", "pct_support_drinking"),
            ("n_support_abstinence", "pct_support_abstinence"),
        ):
            agg[p_col] = np.where(size > 0, 100.0 * agg[n_col] / size, np.nan)
        agg["mean_stance"] = np.where(
            agg["_stance_n"] > 0, agg["_stance_sum"] / agg["_stance_n"], np.nan
        )
    return agg[[*keys, *NETWORK_COLUMNS]]
