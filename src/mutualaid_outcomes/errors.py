"""Exception and warning classes.

Every error raised on bad user input is a :class:`MutualAidError` that also
inherits the matching built-in exception, so ``except ValueError`` and
``except KeyError`` keep working in user code.

Examples
--------
>>> from mutualaid_outcomes.errors import DataValidationError
>>> issubclass(DataValidationError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "MutualAidError",
    "DataValidationError",
    "ColumnNotFoundError",
    "OptionError",
    "ArgumentTypeError",
    "DataFileNotFoundError",
    "FileFormatError",
    "SpecError",
    "OutputFolderError",
    "OutputWriteError",
    "RunInterrupted",
    "EstimationError",
    "ConvergenceError",
    "MutualAidWarning",
    "ConvergenceWarning",
    "DataWarning",
    "BootstrapWarning",
    "SmallSampleWarning",
]


class MutualAidError(Exception):
    """Base class of every error raised by mutualaid_outcomes."""


class DataValidationError(MutualAidError, ValueError):
    """Data or an argument's value is not acceptable (wrong range, type, shape)."""


class ColumnNotFoundError(MutualAidError, KeyError):
    """A named column is not in the data frame.

    ``KeyError`` quotes its message in ``str()``; this class prints it plainly.
    """

    def __str__(self) -> str:  # pragma: no cover - trivial
        return str(self.args[0]) if self.args else ""


class OptionError(MutualAidError, ValueError):
    """A string option is not one of the allowed values."""


class ArgumentTypeError(MutualAidError, TypeError):
    """An argument has the wrong type."""


class DataFileNotFoundError(MutualAidError, FileNotFoundError):
    """A data file does not exist."""


class FileFormatError(MutualAidError, ValueError):
    """A file has an unsupported extension or cannot be parsed."""


class SpecError(MutualAidError, ValueError):
    """An instrument or analysis specification is invalid."""


class OutputFolderError(SpecError):
    """An output folder cannot be used or replaced safely.

    For example it holds inputs or files the package did not write, or another run is
    writing to it.
    """


class OutputWriteError(MutualAidError, OSError):
    """Output could not be written; the message names the operating system's cause.

    Carries ``errno`` and ``filename`` of the underlying error when there is one.
    """

    def __init__(self, message: str, *, errno: int | None = None, filename: str | None = None):
        super().__init__(message)
        self.errno = errno
        self.filename = filename

    def __str__(self) -> str:  # pragma: no cover - trivial
        return str(self.args[0]) if self.args else ""


class RunInterrupted(KeyboardInterrupt):
    """A run was interrupted (Ctrl-C); the message says what was left where."""


class EstimationError(MutualAidError, RuntimeError):
    """A model could not be estimated (for example, no usable rows)."""


class ConvergenceError(EstimationError):
    """An iterative estimator failed to converge and no estimate can be given."""


class MutualAidWarning(UserWarning):
    """Base class of every warning issued by mutualaid_outcomes."""


class ConvergenceWarning(MutualAidWarning):
    """An estimator did not converge; the result records it in ``glance()``."""


class DataWarning(MutualAidWarning):
    """The data are usable but something about them deserves attention."""


class BootstrapWarning(MutualAidWarning):
    """Bootstrap settings or results deserve attention (too few or failed resamples)."""


class SmallSampleWarning(MutualAidWarning):
    """Too few observations or clusters for the requested inference."""
