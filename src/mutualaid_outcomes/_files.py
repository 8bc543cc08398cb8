"""Writing output files: a missing folder or an operating-system failure is one clear error.

Used by :meth:`~mutualaid_outcomes.tables.Table.save` and
:func:`~mutualaid_outcomes.plotting.save_figure`, so a missing folder, a read-only
location or a full disk is reported as an
:class:`~mutualaid_outcomes.errors.OutputWriteError` that names the file and the cause.

Examples
--------
>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "no_such_folder" / "t.csv"
>>> check_parent_folder(target)
Traceback (most recent call last):
...
mutualaid_outcomes.errors.OutputWriteError: `path`: the folder '...no_such_folder' does not exist; ...
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import MutualAidError, OutputWriteError

__all__ = ["check_parent_folder", "os_errors_named", "os_cause"]


def os_cause(exc: OSError) -> str:
    """The operating system's reason, e.g. ``No space left on device (ENOSPC)``."""
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{text} ({name})" if name else text


def check_parent_folder(path: str | Path, argument: str = "path") -> Path:
    """Return ``path`` as a Path; raise :class:`OutputWriteError` if its folder is missing."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputWriteError(
            f"`{argument}`: the folder '{parent}' does not exist; create it first "
            "(for example with Path(folder).mkdir(parents=True)).",
            errno=errno.ENOENT,
            filename=str(parent),
        )
    return path


@contextmanager
def os_errors_named(path: str | Path) -> Iterator[None]:
    """Re-raise an operating-system error while writing ``path`` as an OutputWriteError."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, MutualAidError):
            raise
        raise OutputWriteError(
            f"Cannot write '{path}': {os_cause(exc)}.", errno=exc.errno, filename=str(path)
        ) from exc
