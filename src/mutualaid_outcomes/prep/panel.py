"""Analysis frames for lagged designs built from long (person x wave) data.

A lagged design measures the exposure at one wave, the mechanism at a later
wave and the outcome later still, adjusting for baseline values (Kelly,
Hoeppner, Stout & Pagano 2012: attendance during months 0-3, mediators at
month 9, outcome at month 15). :func:`lagged_panel` turns long data into that
wide frame and reports, step by step, how many people were lost and why.

Examples
--------
>>> import pandas as pd
>>> long = pd.DataFrame({
...     "id": [1, 1, 1, 2, 2],
...     "month": [0, 3, 9, 0, 3],
...     "aa": [0, 5, 2, 1, 0],
...     "pda": [0.2, 0.6, 0.7, 0.1, 0.3],
... })
>>> panel = lagged_panel(long, id="id", time="month", variables={"aa": 3, "pda": [0, 9]})
>>> panel.frame
   id  pda_t0  aa_t3  pda_t9
0   1     0.2      5     0.7
>>> panel.name("pda", 9)
'pda_t9'
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_dataframe
from ..errors import ArgumentTypeError, DataValidationError, EstimationError
from ._panel_checks import check_request, observed_waves, warn_varying

__all__ = ["LaggedPanel", "lagged_panel", "wave_suffix"]

STEP_COLUMNS: tuple[str, ...] = (
    "origin",
    "step",
    "column",
    "time",
    "reason",
    "n_before",
    "n_missing",
    "n_dropped",
    "n_after",
)


def wave_suffix(time: Any) -> str:
    """Column suffix for a wave: ``t3`` for 3 or 3.0, ``t1_5`` for 1.5, ``t-3`` for -3.

    Examples
    --------
    >>> wave_suffix(3.0), wave_suffix(1.5), wave_suffix(-3)
    ('t3', 't1_5', 't-3')
    """
    if isinstance(time, numbers.Real) and not isinstance(time, bool):
        v = float(time)
        text = str(int(v)) if v.is_integer() else repr(v).replace(".", "_")
    else:
        text = str(time)
    return "t" + text


def _offset_name(column: str, offset: Any) -> str:
    v = float(offset)
    text = str(int(abs(v))) if v.is_integer() else repr(abs(v)).replace(".", "_")
    if v == 0:
        return column
    return f"{column}_lead{text}" if v > 0 else f"{column}_lag{text}"


@dataclass(frozen=True, repr=False, eq=False)
class LaggedPanel:
    """A wide analysis frame for a lagged design and the record of how it was built.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per person (or per person and origin wave when built with ``lags``).
        Columns: the id, ``origin`` (lags only), time-invariant columns under their own
        names, then one column per requested variable and wave, e.g. ``aa_meetings_t3``.
    steps : pandas.DataFrame
        One row per step, in the order applied: ``origin, step, column, time, reason,
        n_before, n_missing, n_dropped, n_after``. ``reason`` is ``"missing wave row"``
        (the person has no row at that wave) or ``"missing value"`` (the row exists but the
        value is missing). Counts are people (or person-origins).
    dropped : pandas.DataFrame
        Who was excluded: the id, ``origin`` (lags only), and the ``step`` number, column,
        time and reason of the first step that excluded them.
    names : dict
        Maps ``(column, time)`` -- or ``(column, offset)`` for ``lags`` -- to the output
        column name.
    id : str
        Name of the id column.
    time : str
        Name of the time column.
    n_input : int
        People (or person-origins) before any step.
    dropna : bool
        Whether people with a missing requested value were dropped.
    """

    frame: pd.DataFrame
    steps: pd.DataFrame
    dropped: pd.DataFrame
    names: dict[tuple[str, Any], str] = field(default_factory=dict)
    id: str = "id"
    time: str = "time"
    n_input: int = 0
    dropna: bool = True

    @property
    def n(self) -> int:
        """Rows in :attr:`frame`."""
        return int(len(self.frame))

    @property
    def n_dropped(self) -> int:
        """People (or person-origins) excluded."""
        return int(self.n_input - len(self.frame))

    def name(self, column: str, time: Any) -> str:
        """Output column name of ``column`` at wave (or offset) ``time``.

        Raises
        ------
        KeyError
            If that column and wave were not requested.
        """
        for (c, t), nm in self.names.items():
            if c == column and _same_time(t, time):
                return nm
        requested = sorted({f"{c}@{t}" for c, t in self.names})
        raise KeyError(f"({column!r}, {time!r}) was not requested; requested: {requested}.")

    def describe(self) -> str:
        """Plain-language account of the steps (counts only).

        Examples
        --------
        >>> long = pd.DataFrame({"id": [1, 1, 2], "w": [0, 1, 0], "y": [1.0, 2.0, 3.0]})
        >>> print(lagged_panel(long, id="id", time="w", variables={"y": [0, 1]}).describe())
        Lagged panel: 1 of 2 people kept, 1 excluded.
          step 3: row at w=1: 1 missing wave row, 1 excluded
        """
        unit = "people" if "origin" not in self.frame.columns else "person-waves"
        lines = [
            f"Lagged panel: {self.n} of {self.n_input} {unit} kept, {self.n_dropped} excluded."
        ]
        for i, row in self.steps.iterrows():
            if row["n_missing"] == 0:
                continue
            where = f" at {self.time}={row['time']}" if pd.notna(row["time"]) else ""
            origin = f" (origin {row['origin']})" if pd.notna(row["origin"]) else ""
            what = "row" if row["reason"] == "missing wave row" else row["column"]
            lines.append(
                f"  step {i + 1}{origin}: {what}{where}: {row['n_missing']} "
                f"{row['reason']}, {row['n_dropped']} excluded"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        import html

        body = html.escape(self.describe()).replace("\n", "<br>")
        return f"<div><p>{body}</p>{self.steps.to_html(index=False)}</div>"


def _same_time(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def _as_times(value: Any, argument: str, column: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        values = [value]
    else:
        values = list(value)
    if not values:
        raise DataValidationError(f"`{argument}` gives no waves for column '{column}'.")
    return values


def _match_time(value: Any, observed: Sequence[Any]) -> Any | None:
    for t in observed:
        if _same_time(t, value):
            return t
    return None


def _build_wide(
    data: pd.DataFrame,
    id_col: str,
    time_col: str,
    ids: np.ndarray,
    slots: list[tuple[str, Any, str]],
    invariant: list[str],
    dropna: bool,
    observed: list[Any],
) -> tuple[pd.DataFrame, list[dict[str, Any]], pd.DataFrame]:
    """One wide row per id; slots are (column, absolute time, output name)."""
    n = len(ids)
    alive = np.ones(n, dtype=bool)
    first_step = np.full(n, -1, dtype=int)
    out: dict[str, Any] = {id_col: ids}
    steps: list[dict[str, Any]] = []

    def record(column: str, t: Any, reason: str, missing: np.ndarray) -> None:
        n_before = int(alive.sum())
        miss_alive = missing & alive
        n_missing = int(miss_alive.sum())
        if dropna:
            newly = miss_alive
            first_step[newly & (first_step < 0)] = len(steps)
            alive[newly] = False
        steps.append(
            {
                "step": len(steps) + 1,
                "column": column,
                "time": t,
                "reason": reason,
                "n_before": n_before,
                "n_missing": n_missing,
                "n_dropped": n_missing if dropna else 0,
                "n_after": int(alive.sum()),
            }
        )

    rank = {t: i for i, t in enumerate(observed)}
    # Time-invariant columns from each person's first (earliest) row.
    if invariant:
        wave_rank = data[time_col].map(rank).to_numpy()
        first = data.iloc[np.lexsort((wave_rank, data[id_col].to_numpy()))]
        first = first.drop_duplicates(id_col).set_index(id_col).reindex(ids)
        for col in invariant:
            vals = first[col]
            record(col, np.nan, "missing value", vals.isna().to_numpy())
            out[col] = vals.to_numpy()

    by_time = {t: g.set_index(id_col) for t, g in data.groupby(time_col, sort=True, observed=True)}
    times_in_order = sorted({t for _, t, _ in slots}, key=lambda t: rank[t])
    for t in times_in_order:
        wave = by_time[t]
        present = np.isin(ids, wave.index.to_numpy())
        record(time_col, t, "missing wave row", ~present)
        wave_rows = wave.reindex(ids)
        for col, tt, nm in slots:
            if tt is not t and not _same_time(tt, t):
                continue
            vals = wave_rows[col]
            record(col, t, "missing value", (vals.isna().to_numpy() & present))
            out[nm] = vals.to_numpy()
    frame = pd.DataFrame(out).loc[alive].reset_index(drop=True)
    # Keep the original dtypes where the kept rows allow it (ints without NaN stay ints).
    for col, nm in [*((c, nm) for c, _, nm in slots), *((c, c) for c in invariant)]:
        if frame[nm].notna().all() and frame[nm].dtype != data[col].dtype:
            try:
                frame[nm] = frame[nm].astype(data[col].dtype)
            except (TypeError, ValueError):
                pass
    gone = ~alive
    dropped = pd.DataFrame(
        {
            id_col: ids[gone],
            "step": first_step[gone] + 1,
            "column": [steps[i]["column"] for i in first_step[gone]],
            "time": [steps[i]["time"] for i in first_step[gone]],
            "reason": [steps[i]["reason"] for i in first_step[gone]],
        }
    )
    return frame, steps, dropped


def _baseline_wave(baseline_time: Any, observed: list[Any], time: str) -> Any:
    """The baseline wave: ``baseline_time`` as observed, or the earliest (first) wave."""
    if baseline_time is None:
        return observed[0]  # earliest (numeric) or first (categorical / labelled) wave
    b_time = _match_time(baseline_time, observed)
    if b_time is None:
        raise DataValidationError(
            f"`baseline_time` {baseline_time!r} is not a wave in `{time}`; "
            f"waves present: {observed}."
        )
    return b_time


@dataclass(frozen=True)
class _Wide:
    """The long data and options every wide frame of one call is built from."""

    work: pd.DataFrame
    id: str
    time: str
    ids: np.ndarray
    invariant: list[str]
    dropna: bool
    observed: list[Any]

    def build(
        self, slots: list[tuple[str, Any, str]], origin: Any
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The wide frame, its steps (with ``origin``) and the dropped ids for ``slots``."""
        frame, steps, dropped = _build_wide(
            self.work, self.id, self.time, self.ids, slots, self.invariant, self.dropna,
            self.observed,
        )  # fmt: skip
        steps_df = pd.DataFrame(steps)
        steps_df["time"] = pd.Series([st["time"] for st in steps], dtype=object)
        steps_df.insert(0, "origin", origin)
        return frame, steps_df, dropped


def _absolute_waves(
    wide: _Wide,
    spec_map: dict[str, Any],
    base_slots: list[tuple[str, Any, str]],
    names: dict[tuple[str, Any], str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per person with each ``(column, wave)`` of ``variables``; fills ``names``."""
    slots = list(base_slots)
    for col, waves in spec_map.items():
        for w in _as_times(waves, "variables", col):
            t = _match_time(w, wide.observed)
            if t is None:
                raise DataValidationError(
                    f"`variables` asks for '{col}' at {wide.time}={w!r}, which does not "
                    f"occur in the data; waves present: {wide.observed}."
                )
            nm = f"{col}_{wave_suffix(t)}"
            if (col, t) in {(c, tt) for c, tt, _ in slots}:
                continue
            slots.append((col, t, nm))
            names[(col, t)] = nm
    return wide.build(slots, np.nan)


def _lag_offsets(spec_map: dict[str, Any]) -> list[tuple[str, float]]:
    """``(column, offset)`` pairs of ``lags``."""
    offsets: list[tuple[str, float]] = []
    for col, offs in spec_map.items():
        for k in _as_times(offs, "lags", col):
            if isinstance(k, bool) or not isinstance(k, numbers.Real):
                raise ArgumentTypeError(f"`lags` offsets must be numbers; got {k!r} for '{col}'.")
            offsets.append((col, float(k)))
    return offsets


def _lag_origins(
    origins: Sequence[Any] | None, offsets: list[tuple[str, float]], observed: list[Any], time: str
) -> list[Any]:
    """The origin waves: ``origins`` as observed, or every wave with all its offsets."""
    obs_f = [float(t) for t in observed]
    if origins is None:
        chosen = [t for t in observed if all((float(t) + k) in obs_f for _, k in offsets)]
        if not chosen:
            raise DataValidationError(
                f"No wave t has all of t + offsets {sorted({k for _, k in offsets})} in "
                f"the data (waves present: {observed})."
            )
        return chosen
    chosen = []
    for o in origins:
        t = _match_time(o, observed)
        bad = [k for _, k in offsets if (float(o) + k) not in obs_f]
        if t is None or bad:
            raise DataValidationError(
                f"`origins` value {o!r} needs waves {[float(o) + k for k in bad] or [o]} "
                f"that do not occur in `{time}`; waves present: {observed}."
            )
        chosen.append(t)
    return chosen


def _relative_lags(
    wide: _Wide,
    spec_map: dict[str, Any],
    base_slots: list[tuple[str, Any, str]],
    names: dict[tuple[str, Any], str],
    origins: Sequence[Any] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """One row per person and origin wave with each ``(column, offset)`` of ``lags``."""
    time, observed = wide.time, wide.observed
    if not pd.api.types.is_numeric_dtype(wide.work[time]):
        raise DataValidationError(
            f"`lags` needs a numeric `time` column; '{time}' is {wide.work[time].dtype}."
        )
    offsets = _lag_offsets(spec_map)
    chosen = _lag_origins(origins, offsets, observed, time)
    for col, k in offsets:
        names[(col, k)] = _offset_name(col, k)
    frames, step_frames, drop_frames = [], [], []
    for o in chosen:
        slots = list(base_slots)
        for col, k in offsets:
            t = _match_time(float(o) + k, observed)
            slots.append((col, t, names[(col, k)]))
        fr, sdf, dr = wide.build(slots, o)
        fr.insert(1, "origin", o)
        dr.insert(1, "origin", o)
        frames.append(fr)
        step_frames.append(sdf)
        drop_frames.append(dr)
    return (
        pd.concat(frames, ignore_index=True),
        pd.concat(step_frames, ignore_index=True),
        pd.concat(drop_frames, ignore_index=True),
        len(chosen),
    )


def lagged_panel(
    data: pd.DataFrame,
    *,
    id: str,
    time: str,
    variables: Mapping[str, Any] | None = None,
    baseline: str | Sequence[str] | None = None,
    baseline_time: Any = None,
    invariant: str | Sequence[str] | None = None,
    lags: Mapping[str, Any] | None = None,
    origins: Sequence[Any] | None = None,
    dropna: bool = True,
) -> LaggedPanel:
    """Build the wide analysis frame of a lagged design from long data.

    Two layouts are supported:

    * **absolute waves** (``variables``): one row per person; each requested
      ``(column, wave)`` becomes a column ``{column}_t{wave}`` -- e.g. attendance at
      month 3, mechanism at month 9, outcome at month 15 with
      ``variables={"aa_meetings": 3, "cesd": 9, "pda": 15}``;
    * **relative lags** (``lags``): one row per person and origin wave ``t``; each
      ``(column, offset)`` becomes ``{column}`` (offset 0), ``{column}_lead{k}``
      (value at ``t + k``) or ``{column}_lag{k}`` (value at ``t - k``), for
      stacked designs such as "attendance at ``t`` predicting PDA at ``t + 3``".

    In both, ``baseline`` columns are added at ``baseline_time`` as
    ``{column}_t{baseline_time}`` and ``invariant`` columns are copied from each
    person's earliest row under their own names.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per person and wave.
    id : str
        Person identifier column.
    time : str
        Wave column (numeric for ``lags``).
    variables : mapping of str to wave or list of waves, optional
        Column -> wave(s) to take it at, e.g. ``{"aa_meetings": 3, "pda": [0, 15]}``.
    baseline : str or list of str, optional
        Columns to add at ``baseline_time`` (baseline values of mediators and outcome).
    baseline_time : scalar, optional
        The baseline wave; defaults to the earliest wave in ``data``. Numeric waves are
        ordered numerically; labelled waves by the categories of a categorical ``time``
        column, otherwise by first appearance in ``data``.
    invariant : str or list of str, optional
        Time-invariant columns (arm, sex, age, site), taken from each person's earliest
        row. A :class:`~mutualaid_outcomes.errors.DataWarning` is issued when such a
        column varies within a person.
    lags : mapping of str to offset or list of offsets, optional
        Column -> offset(s) from the origin wave, e.g. ``{"aa_meetings": 0, "pda": 3}``.
        Cannot be combined with ``variables``.
    origins : sequence, optional
        Origin waves for ``lags``; by default every wave for which all
        ``origin + offset`` waves occur in the data.
    dropna : bool
        Drop people (or person-origins) with a missing wave row or value (default).
        With ``False`` everyone is kept with NaN, and the steps still count the missing.

    Returns
    -------
    LaggedPanel
        ``frame`` (the wide data), ``steps`` (who was lost at each step and why),
        ``dropped`` (the ids excluded and their first failing step) and ``names``.

    Raises
    ------
    ColumnNotFoundError
        If a named column is not in ``data`` (with close-match suggestions).
    DataValidationError
        If ``(id, time)`` rows are duplicated, ``id`` or ``time`` has missing values, a
        requested wave does not occur in the data, or the request is empty or ambiguous.
    ArgumentTypeError
        If ``variables`` or ``lags`` is not a mapping.
    EstimationError
        If ``dropna`` leaves no rows.

    Notes
    -----
    Steps run in this order: invariant columns (missing in the earliest row); then, for
    each requested wave in ascending order, "has a row at that wave" followed by "has a
    value" for each column requested at that wave. With ``dropna=True`` a person leaves at
    the first failing step; ``steps.n_missing`` counts only people still present then, so
    the ``n_dropped`` column sums to the total excluded. No participant data enters
    warnings or messages; ``dropped`` holds the excluded ids for follow-up.

    References
    ----------
    Kelly, J. F., Hoeppner, B., Stout, R. L., & Pagano, M. (2012). Determining the
    relative importance of the mechanisms of behavior change within Alcoholics
    Anonymous. *Addiction*, 107(2), 289-299.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({
    ...     "id": [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3],
    ...     "month": [0, 3, 9, 15, 0, 3, 9, 0, 3, 9, 15],
    ...     "arm": ["TSF"] * 4 + ["CBT"] * 3 + ["MET"] * 4,
    ...     "aa": [0, 6, 4, 3, 2, 0, 0, 1, 9, 8, 7],
    ...     "cesd": [20, 15, 12, 10, 25, 24, 22, 18, 12, None, 9],
    ...     "pda": [0.3, 0.7, 0.8, 0.9, 0.2, 0.3, 0.4, 0.5, 0.9, 0.9, 1.0],
    ... })
    >>> p = lagged_panel(long, id="id", time="month", invariant="arm",
    ...                  variables={"aa": 3, "cesd": 9, "pda": 15}, baseline=["cesd", "pda"])
    >>> p.frame
       id  arm  cesd_t0  pda_t0  aa_t3  cesd_t9  pda_t15
    0   1  TSF     20.0     0.3      6     12.0      0.9
    >>> p.steps.loc[p.steps.n_dropped > 0, ["column", "time", "reason", "n_dropped"]]
      column  time            reason  n_dropped
    7   cesd     9     missing value          1
    8  month    15  missing wave row          1
    """
    data = check_dataframe(data)
    spec_map, base_cols, inv_cols = check_request(
        data, id, time, variables, lags, baseline, invariant, dropna
    )
    observed = observed_waves(data, id, time)
    used_cols = list(dict.fromkeys([*spec_map, *base_cols, *inv_cols]))
    work = data.loc[:, [id, time, *used_cols]]
    ids = np.sort(pd.unique(work[id]))
    warn_varying(work, id, inv_cols)
    b_time = _baseline_wave(baseline_time, observed, time)
    base_slots = [(c, b_time, f"{c}_{wave_suffix(b_time)}") for c in base_cols]
    names: dict[tuple[str, Any], str] = {(c, t): nm for c, t, nm in base_slots}
    wide = _Wide(work, id, time, ids, inv_cols, bool(dropna), observed)
    if lags is None:
        frame, steps_df, dropped = _absolute_waves(wide, spec_map, base_slots, names)
        n_input = len(ids)
    else:
        frame, steps_df, dropped, n_origins = _relative_lags(
            wide, spec_map, base_slots, names, origins
        )
        n_input = len(ids) * n_origins

    steps_df = steps_df.loc[:, list(STEP_COLUMNS)]
    if dropna and len(frame) == 0:
        worst = steps_df.sort_values("n_dropped", ascending=False).iloc[0]
        raise EstimationError(
            f"No {'people' if lags is None else 'person-waves'} remain after requiring every "
            f"requested value (largest loss: {int(worst['n_dropped'])} at "
            f"'{worst['column']}', {time}={worst['time']}, {worst['reason']}). "
            "Use dropna=False to inspect the missing pattern."
        )
    return LaggedPanel(
        frame=frame,
        steps=steps_df.reset_index(drop=True),
        dropped=dropped.reset_index(drop=True),
        names=names,
        id=id,
        time=time,
        n_input=int(n_input),
        dropna=bool(dropna),
    )
