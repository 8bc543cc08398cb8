"""Simulate the sample cohort: a Project MATCH-like trial with known true effects.

Run ``python -m mutualaid_outcomes.datasets.simulate --out src/mutualaid_outcomes/datasets/sample`` to
regenerate the committed sample files with the fixed default seed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._rng import check_rng
from ..errors import ArgumentTypeError, DataValidationError
from ._codebook import build_codebook, write_sav
from ._cohort import SampleCohort
from ._dgp import RECRUIT_START, CohortParameters, all_window_outcomes, attrition, simulate_core
from ._frames import (
    MEASUREMENT_LATENTS,
    calendar_frame,
    item_responses,
    latent_frame,
    measurement_latents,
    network_frame,
    participants_frame,
    waves_frame,
)
from ._items import INSTRUMENTS, item_columns
from ._truth_text import README_TEXT
from .truth import mediation_frame, render_truth_md, sample_truth, structural_truth

__all__ = [
    "SAMPLE_SEED",
    "MEASUREMENT_LATENTS",
    "SampleCohort",
    "CohortParameters",
    "sample_cohort_mediation_data",
    "simulate_cohort",
    "write_sample_files",
]

#: Seed of the committed sample files.
SAMPLE_SEED = 20260127


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ArgumentTypeError(f"`n` must be an integer >= 10; got {type(n).__name__} {n!r}.")
    if int(n) < 10:
        raise DataValidationError(f"`n` must be an integer >= 10; got {int(n)}.")
    return int(n)


def _check_days(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, numbers.Integral):
        raise ArgumentTypeError(f"`days` must be an integer >= 450; got {days!r}.")
    if int(days) < 450:
        raise DataValidationError(
            f"`days` must be an integer >= 450 (waves every 3 months need 90-day windows); "
            f"got {int(days)}."
        )
    return int(days)


def simulate_cohort(
    n: int = 1726,
    *,
    rng: int | np.random.Generator | None = None,
    days: int = 455,
    parameters: CohortParameters | None = None,
    sentinel_codes: bool = False,
) -> SampleCohort:
    """Simulate a Project MATCH-like cohort with known true effects.

    Parameters
    ----------
    n : int
        Number of participants (at least 10).
    rng : int, numpy.random.Generator or None
        Seed or generator. The committed sample uses ``rng=SAMPLE_SEED``.
    days : int
        Days of follow-up after the index date (at least 450). Waves fall on day
        ``round(month * days / 15)``.
    parameters : CohortParameters, optional
        Structural parameters; the defaults generate the documented truth.
    sentinel_codes : bool
        If True, a few item answers carry the raw codes 8 (don't know) and 9
        (refused), as in the committed files; if False (default) they are NaN.

    Returns
    -------
    SampleCohort
        Frames ``participants``, ``waves``, ``calendar``, ``network``, ``latent``
        and ``truth``.

    Raises
    ------
    ArgumentTypeError
        ``n`` or ``days`` is not an integer, ``parameters`` is not a
        :class:`CohortParameters`, or ``rng`` is of the wrong type.
    DataValidationError
        ``n < 10`` or ``days < 450``.

    Notes
    -----
    The data-generating process is written out in ``src/mutualaid_outcomes/datasets/sample/TRUTH.md``.
    In short: arms are randomised; the arm (TSF) raises 12-step meeting
    attendance, whose course over the six waves follows one of three latent classes
    (low, descending, high; the true class is ``attendance_class`` in ``latent``); meetings in the 90 days before each wave raise the
    recovery-supportive network, abstinence self-efficacy, motivation and
    spirituality and lower depression and craving (the network effect is twice as
    large for women); the mechanisms (and, a little, attendance directly) lower the
    daily probability of drinking, and a meeting yesterday lowers the log-odds of
    drinking today (a within-person effect). The first heavy
    drinking day follows a discrete-time complementary log-log hazard in which any
    meeting in the past 30 days multiplies the hazard by exactly
    ``exp(heavy_log_hr_attend)`` (0.6 by default), given the baseline proportion of
    heavy drinking days. Drop-out depends on the proportion of heavy drinking days
    in the previous window (not completely at random). Item responses follow a
    graded logistic response model from the latent scores.

    The ``truth`` frame holds the documented population values when the default
    parameters and ``days=455`` are used, and only the exact structural values
    otherwise.

    References
    ----------
    Project MATCH Research Group (1997). Matching alcoholism treatments to client
    heterogeneity. *Journal of Studies on Alcohol*, 58(1), 7-29.

    Kelly, J. F., Hoeppner, B., Stout, R. L., & Pagano, M. (2012). Determining the
    relative importance of the mechanisms of behavior change within Alcoholics
    Anonymous. *Addiction*, 107(2), 289-299.

    Examples
    --------
    >>> cohort = simulate_cohort(50, rng=1)
    >>> cohort.participants.shape
    (50, 8)
    >>> sorted(cohort.waves["month"].unique().tolist())
    [0, 3, 6, 9, 12, 15]
    >>> cohort.calendar.columns.tolist()
    ['id', 'date', 'day', 'drinks', 'meetings', 'controlled']
    """
    n = _check_n(n)
    days = _check_days(days)
    if parameters is None:
        parameters = CohortParameters()
    if not isinstance(parameters, CohortParameters):
        raise ArgumentTypeError(
            f"`parameters` must be a CohortParameters; got {type(parameters).__name__}."
        )
    gen = check_rng(rng)
    g_core, g_meas, g_attr, g_items, g_miss, g_net = gen.spawn(6)

    core = simulate_core(n, days, parameters, g_core)
    win = all_window_outcomes(core)
    meas = measurement_latents(core, win, g_meas)
    assessed = attrition(win["phdd"], parameters, g_attr)
    last = np.where(assessed, np.arange(6)[None, :], 0).max(axis=1)
    index_date = RECRUIT_START + core["entry"].astype("timedelta64[D]")
    items = item_responses(core, win, meas, assessed, g_items, g_miss, sentinel_codes)
    default = parameters == CohortParameters() and days == 455
    return SampleCohort(
        participants=participants_frame(core, last, index_date),
        waves=waves_frame(core, win, assessed, last, index_date, items),
        calendar=calendar_frame(core, last, index_date),
        network=network_frame(core, meas, assessed, g_net),
        latent=latent_frame(core, meas),
        truth=sample_truth() if default else structural_truth(parameters),
        parameters=parameters,
    )


def sample_cohort_mediation_data(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate ``n`` participants from the sample cohort's generator, as a mediation frame.

    A ready-made ``generator`` for
    :func:`~mutualaid_outcomes.models.power.power_mediation`: runs
    :func:`simulate_cohort` and returns :func:`~mutualaid_outcomes.datasets.mediation_frame` (AA meetings in months 1-3
    ``attendance``, the six latent mechanisms at month 9 such as ``network_9``, the
    month-15 ``pda_15`` outcome and the baseline covariates, with drop-out as NaN).

    Parameters
    ----------
    n : int
        Participants (at least 10).
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> frame = sample_cohort_mediation_data(20, np.random.default_rng(0))
    >>> {"attendance", "network_9", "pda_15"} <= set(frame.columns)
    True
    """
    cohort = simulate_cohort(n, rng=rng)
    return mediation_frame(cohort.latent, cohort.waves, cohort.participants)


# ----------------------------------------------------------------------------------
# Writing the committed files
# ----------------------------------------------------------------------------------


def _write_gzip_csv(df: pd.DataFrame, path: Path, **kwargs: Any) -> None:
    """Write a gzip-compressed CSV with a zero timestamp (byte-identical output)."""
    text = df.to_csv(index=False, lineterminator="\n", **kwargs)
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(text.encode("utf-8"))


def _write_csv(df: pd.DataFrame, path: Path, **kwargs: Any) -> None:
    text = df.to_csv(index=False, lineterminator="\n", **kwargs)
    path.write_bytes(text.encode("utf-8"))


def _int_columns(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    for c in columns:
        out[c] = out[c].round().astype("Int64")
    return out


def raw_waves(cohort_waves: pd.DataFrame) -> pd.DataFrame:
    """Wave frame as stored: item codes as nullable integers, dates as ISO text."""
    items = [c for inst in INSTRUMENTS for c in item_columns(inst)]
    out = _int_columns(cohort_waves, items)
    out["interview_date"] = out["interview_date"].dt.strftime("%Y-%m-%d")
    return out


def write_sample_files(
    out_dir: str | os.PathLike[str],
    *,
    rng: int | np.random.Generator | None = SAMPLE_SEED,
    n: int = 1726,
) -> list[Path]:
    """Generate the sample cohort and write its files to ``out_dir``.

    Parameters
    ----------
    out_dir : str or path-like
        Target directory (created if needed).
    rng : int, numpy.random.Generator or None
        Seed; the committed files use :data:`SAMPLE_SEED`.
    n : int
        Number of participants.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ArgumentTypeError, DataValidationError
        From :func:`simulate_cohort`.

    Notes
    -----
    Output is deterministic: CSV text with fixed formatting, gzip members with a
    zero timestamp, and an SPSS file written with pyreadstat (its header carries
    the creation time, so the ``.sav`` bytes differ between runs while its data
    and metadata do not). ``TRUTH.md`` is rendered from the stored large-sample
    truth (``truth.json``), which :func:`mutualaid_outcomes.datasets.truth.compute_truth`
    recomputes.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = write_sample_files(d, n=20)
    ...     sorted(p.name for p in files)[:3]
    ['README.md', 'TRUTH.md', 'calendar.csv.gz']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cohort = simulate_cohort(n, rng=rng, sentinel_codes=True)
    files: list[Path] = []

    part = cohort.participants.copy()
    part["index_date"] = part["index_date"].dt.strftime("%Y-%m-%d")
    _write_csv(part, out / "participants.csv")
    files.append(out / "participants.csv")

    waves = raw_waves(cohort.waves)
    _write_csv(waves, out / "waves.csv", float_format="%.10g")
    files.append(out / "waves.csv")

    cal = cohort.calendar.copy()
    cal["date"] = cal["date"].dt.strftime("%Y-%m-%d")
    cal["drinks"] = cal["drinks"].round().astype(np.int64)
    cal["controlled"] = cal["controlled"].astype(np.int64)
    _write_gzip_csv(cal, out / "calendar.csv.gz")
    files.append(out / "calendar.csv.gz")

    _write_gzip_csv(cohort.network, out / "network.csv.gz")
    files.append(out / "network.csv.gz")

    _write_gzip_csv(cohort.latent, out / "latent.csv.gz", float_format="%.10g")
    files.append(out / "latent.csv.gz")

    codebook = build_codebook(cohort, waves)
    text = json.dumps(codebook, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    (out / "codebook.json").write_bytes(text.encode("utf-8"))
    files.append(out / "codebook.json")

    write_sav(waves, codebook, out / "waves.sav")
    files.append(out / "waves.sav")

    (out / "TRUTH.md").write_bytes(render_truth_md().encode("utf-8"))
    files.append(out / "TRUTH.md")
    (out / "README.md").write_bytes(README_TEXT.encode("utf-8"))
    files.append(out / "README.md")
    return sorted(files)


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mutualaid_outcomes.datasets.simulate",
        description="Regenerate the sample cohort files.",
    )
    parser.add_argument(
        "--out", default="src/mutualaid_outcomes/datasets/sample", help="output directory"
    )
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="random seed")
    parser.add_argument("--n", type=int, default=1726, help="number of participants")
    args = parser.parse_args(argv)
    for path in write_sample_files(args.out, rng=args.seed, n=args.n):
        print(f"{path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":  # pragma: no cover
    _main()
