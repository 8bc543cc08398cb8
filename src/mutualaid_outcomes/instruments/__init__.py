"""Instrument specs (data files), the scoring engine, network indices and reliability."""

from __future__ import annotations

from .network import NETWORK_COLUMNS, network_indices
from .reliability import ReliabilityResult, reliability
from .scoring import list_instruments, score
from .spec import (
    Band,
    Composite,
    InstrumentSpec,
    SpecialCode,
    Subscale,
    available_specs,
    get_spec,
    load_spec,
)

__all__ = [
    "Band",
    "Composite",
    "InstrumentSpec",
    "SpecialCode",
    "Subscale",
    "available_specs",
    "get_spec",
    "load_spec",
    "list_instruments",
    "score",
    "network_indices",
    "NETWORK_COLUMNS",
    "reliability",
    "ReliabilityResult",
]
