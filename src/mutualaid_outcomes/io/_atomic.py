"""Write files so that a failure never leaves a truncated file or loses the previous one.

Each file is written to a temporary file in the destination folder, flushed and
fsynced, and only then moved over the destination with :func:`os.replace` (atomic
on POSIX and Windows within one file system). A data file and its codebook
sidecar are both written completely before either replaces its predecessor; the
sidecar records the size and SHA-256 of the data file it describes, so a reader
notices (and warns) if a crash between the two renames left them out of step.
A replaced file keeps its permissions, and a symbolic link is written through (the
file it points to is replaced, the link stays), as writing in place would do.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import hashlib
import json
import os
import secrets
import stat
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataWarning, MutualAidError
from .codebook import Codebook

__all__ = [
    "DataWriteError",
    "IncompleteFileError",
    "write_atomically",
    "sidecar_text",
    "read_sidecar",
]

#: Key of the sidecar JSON that identifies the data file it describes.
DATA_FILE_KEY = "data_file"


class DataWriteError(MutualAidError, OSError):
    """A file could not be written; the previous file, if any, is unchanged.

    Subclasses :class:`OSError` and carries the operating system's ``errno``,
    ``strerror`` and ``filename`` when the cause was the operating system (disk
    full, permission denied, read-only file system).
    """

    def __init__(
        self,
        message: str,
        *,
        errno: int | None = None,
        strerror: str | None = None,
        filename: str | None = None,
    ) -> None:
        super().__init__(message)
        self.errno = errno
        self.strerror = strerror
        self.filename = filename

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


Writer = Callable[[Path], None]


def _os_cause(err: OSError) -> str:
    name = _errno.errorcode.get(err.errno, "") if err.errno is not None else ""
    text = err.strerror or str(err) or type(err).__name__
    return f"{text} ({name})" if name else text


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - directories cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _temp_in(target: Path) -> Path:
    """A new empty file beside ``target``, with the permissions ``target`` will keep.

    ``tempfile.mkstemp`` would create it readable by its owner only, and the
    replaced file would silently lose its group and other permissions. The file is
    created with mode 0o666 filtered by the umask (as ``open`` would create the
    target), then given the mode of the file it replaces, if any.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        os.close(fd)
        break
    else:  # pragma: no cover
        raise FileExistsError(_errno.EEXIST, "no free temporary name", str(target.parent))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return tmp
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)
    return tmp


class IncompleteFileError(Exception):
    """A writer returned without error but left a file that is not complete."""


#: Bytes appended to a failed temporary file to ask the OS whether the disk is full.
_PROBE_BYTES = 1 << 16


def probe_os_error(tmp: Path) -> OSError | None:
    """The operating system's error, if any, when more bytes are written to ``tmp``.

    Some writers (pyreadstat) report a full disk as "Unable to write data", or not
    at all; writing to the same file again makes the OS name the cause.
    """
    try:
        with open(tmp, "ab") as fh:
            fh.write(b"\0" * _PROBE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        return err
    return None


def _write_one(tmp: Path, write: Writer) -> None:
    try:
        write(tmp)
    except OSError:
        raise
    except Exception as err:
        cause = probe_os_error(tmp)
        if cause is not None:
            raise cause from err
        if isinstance(err, IncompleteFileError):
            raise OSError(_errno.EIO, str(err)) from err
        raise
    _fsync_file(tmp)


def _through_links(target: Path) -> Path:
    """The file a symbolic link points to, so that replacing it keeps the link."""
    return target.resolve() if target.is_symlink() else target


def write_atomically(
    targets: Sequence[tuple[Path, Writer]],
    *,
    after_write: Callable[[list[Path]], Sequence[tuple[Path, Writer]]] | None = None,
) -> None:
    """Write every target through a temporary sibling, then replace them in order.

    ``targets`` pairs a destination with a function writing to a given path.
    ``after_write(temporaries)`` may return more targets, written once the first
    ones are complete (a sidecar that fingerprints the data file). Nothing is
    replaced until every temporary file is written and fsynced; on failure the
    temporaries are removed and every destination keeps its previous content.

    Raises
    ------
    DataWriteError
        If the operating system refused (disk full, permission denied, read-only
        folder): the message names the file and the cause.
    """
    temps: list[tuple[Path, Path]] = []
    try:
        pending = list(targets)
        while pending:
            batch = []
            for given, write in pending:
                target = _through_links(given)
                tmp = _temp_in(target)
                temps.append((tmp, target))
                _write_one(tmp, write)
                batch.append(tmp)
            pending = list(after_write(batch)) if after_write is not None else []
            after_write = None
        for tmp, target in temps:
            os.replace(tmp, target)
        _fsync_dir(temps[0][1].parent)
    except OSError as err:
        _discard(temps)
        if isinstance(err, MutualAidError):
            raise
        where = temps[-1][1] if temps else targets[0][0]
        raise DataWriteError(
            f"Could not write '{where}': {_os_cause(err)}. The previous file, if any, is "
            "unchanged.",
            errno=err.errno,
            strerror=err.strerror,
            filename=str(where),
        ) from err
    except BaseException:
        _discard(temps)
        raise


def _discard(temps: list[tuple[Path, Path]]) -> None:
    for tmp, _ in temps:
        with contextlib.suppress(OSError):
            tmp.unlink()


def fingerprint(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file (the sidecar's record of the data it describes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def sidecar_text(cb: Codebook, data_name: str, data_tmp: Path) -> str:
    """The sidecar JSON: the codebook plus the fingerprint of the data file."""
    content = cb.to_dict()
    content[DATA_FILE_KEY] = {"name": data_name, **fingerprint(data_tmp)}
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


def read_sidecar(side: Path, data_path: Path) -> Codebook:
    """Read a codebook sidecar; warn if it fingerprints another version of the data."""
    cb = Codebook.from_json(side)
    try:
        recorded = json.loads(side.read_text(encoding="utf-8")).get(DATA_FILE_KEY)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - read just above
        recorded = None
    if isinstance(recorded, dict) and "sha256" in recorded:
        size_ok = recorded.get("bytes") == data_path.stat().st_size
        if not size_ok or fingerprint(data_path)["sha256"] != recorded["sha256"]:
            warnings.warn(
                f"The codebook '{side.name}' was written for another version of "
                f"'{data_path.name}' (size or checksum differ): its labels and missing codes "
                "may not describe this file. Write the data again with write_data, or read "
                "with use_sidecar=False.",
                DataWarning,
                stacklevel=4,
            )
    return cb
