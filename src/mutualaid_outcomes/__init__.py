"""mutualaid_outcomes: outcomes research on 12-step mutual-aid groups."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import errors
from .results import Summary

try:
    __version__ = version("mutualaid_outcomes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__", "errors", "Summary"]
