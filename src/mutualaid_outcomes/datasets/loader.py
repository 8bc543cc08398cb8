"""Load the sample cohort files shipped with the package."""

from __future__ import annotations

import functools
import gzip
import io
import json
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_option
from ..errors import ArgumentTypeError, DataFileNotFoundError
from ._items import INSTRUMENTS, item_columns

__all__ = ["SAMPLE_NAMES", "load_sample"]

SampleName = Literal["participants", "waves", "calendar", "network", "latent", "codebook", "truth"]
#: Names accepted by :func:`load_sample`.
SAMPLE_NAMES: tuple[str, ...] = (
    "participants",
    "waves",
    "calendar",
    "network",
    "latent",
    "codebook",
    "truth",
)
_FILES = {
    "participants": "participants.csv",
    "waves": "waves.csv",
    "calendar": "calendar.csv.gz",
    "network": "network.csv.gz",
    "latent": "latent.csv.gz",
    "codebook": "codebook.json",
    "truth": "truth.json",
}
_PACKAGE = "mutualaid_outcomes.datasets.sample"


def _read_bytes(name: str) -> bytes:
    filename = _FILES[name]
    try:
        return resources.files(_PACKAGE).joinpath(filename).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise DataFileNotFoundError(
            f"Sample file '{filename}' is missing from the installed package "
            f"({_PACKAGE}); reinstall mutualaid_outcomes or regenerate it with "
            "`python -m mutualaid_outcomes.datasets.simulate --out src/mutualaid_outcomes/datasets/sample`."
        ) from exc


def _read_csv(name: str, **kwargs: Any) -> pd.DataFrame:
    data = _read_bytes(name)
    if _FILES[name].endswith(".gz"):
        data = gzip.decompress(data)
    return pd.read_csv(io.BytesIO(data), **kwargs)


@functools.cache
def _codebook_dict() -> dict[str, Any]:
    return json.loads(_read_bytes("codebook").decode("utf-8"))


def _dates(values: pd.Series) -> pd.Series:
    # nanosecond resolution under pandas 2 and 3 alike (pandas 3 parses text to
    # microseconds), as simulate_cohort makes them
    return pd.to_datetime(values, format="%Y-%m-%d").astype("datetime64[ns]")


@functools.cache
def _load_frame(name: str, raw: bool) -> pd.DataFrame:
    if name == "participants":
        df = _read_csv(name, dtype={"trial": str, "arm": str})
        df["index_date"] = _dates(df["index_date"])
        return df
    if name == "waves":
        items = [c for inst in INSTRUMENTS for c in item_columns(inst)]
        dtypes: dict[str, Any] = {c: "float64" for c in items}
        dtypes["aa_meetings"] = "float64"
        df = _read_csv(name, dtype=dtypes)
        df["interview_date"] = _dates(df["interview_date"])
        if raw:
            df[items] = df[items].astype("Int64")
        else:
            variables = _codebook_dict()["variables"]
            for c in items:
                codes = [float(x) for x in variables[c]["missing_codes"]]
                if codes:
                    values = df[c].to_numpy()
                    df[c] = np.where(np.isin(values, codes), np.nan, values)
        return df
    if name == "calendar":
        df = _read_csv(name, dtype={"drinks": "float64", "meetings": "int64"})
        df["date"] = _dates(df["date"])
        df["controlled"] = df["controlled"].astype(bool)
        return df
    if name == "network":
        return _read_csv(name)
    return _read_csv(name)  # latent


def load_sample(name: SampleName, *, raw: bool = False) -> Any:
    """Load one part of the simulated sample cohort.

    Parameters
    ----------
    name : {"participants", "waves", "calendar", "network", "latent", "codebook", "truth"}
        Which part (see ``src/mutualaid_outcomes/datasets/sample/README.md``).
    raw : bool
        For ``"waves"``: keep the stored item codes, including the sentinel codes 8
        (don't know) and 9 (refused), as nullable integers. By default sentinel
        codes become NaN and items are floats.

    Returns
    -------
    pandas.DataFrame, Codebook or dict
        A fresh copy each call. Dates are ``datetime64``. Frames carry the codebook
        of their columns (variable and value labels, missing codes; read it with
        :func:`mutualaid_outcomes.io.get_codebook`), so tables and figures label
        them. ``"codebook"`` returns a
        :class:`mutualaid_outcomes.io.Codebook` (the JSON dict if the io module is
        unavailable); ``"truth"`` returns :func:`sample_truth`.

    Raises
    ------
    OptionError
        ``name`` is not one of the names above.
    ArgumentTypeError
        ``raw`` is not a bool.
    DataFileNotFoundError
        The file is missing from the installation.

    Notes
    -----
    The files are package data (``mutualaid_outcomes.datasets.sample``), read with
    :mod:`importlib.resources`, so this works from an installed wheel in any working
    directory. Frames are cached after the first read; callers get copies.

    Examples
    --------
    >>> waves = load_sample("waves")
    >>> waves.shape[0] == 6 * load_sample("participants").shape[0]
    True
    >>> load_sample("calendar").dtypes["date"]
    dtype('<M8[ns]')
    >>> from mutualaid_outcomes.io import get_codebook
    >>> get_codebook(load_sample("participants")).label("arm")
    'Randomised treatment arm'
    """
    check_option(name, SAMPLE_NAMES, "name")
    if not isinstance(raw, bool):
        raise ArgumentTypeError(f"`raw` must be True or False; got {raw!r}.")
    if name == "truth":
        from .truth import sample_truth

        return sample_truth()
    if name == "codebook":
        data = json.loads(json.dumps(_codebook_dict()))
        try:
            from ..io.codebook import Codebook
        except ImportError:  # pragma: no cover - io layer not installed
            return data
        return Codebook.from_dict(data)
    return _with_codebook(_load_frame(name, raw and name == "waves").copy())


@functools.cache
def _codebook() -> Any:
    from ..io.codebook import Codebook

    return Codebook.from_dict(_codebook_dict())


def _with_codebook(frame: pd.DataFrame) -> pd.DataFrame:
    """Attach the part of the sample codebook that describes ``frame``'s columns."""
    try:
        from ..io.codebook import set_codebook
    except ImportError:  # pragma: no cover - io layer not installed
        return frame
    codebook = _codebook()
    described = [c for c in frame.columns if c in codebook]
    if not described:
        return frame
    return set_codebook(frame, codebook.subset(described))
