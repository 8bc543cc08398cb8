"""The output folder of a run: refused targets, the lock, the build folder, the swap.

A run never writes into its output folder directly. It works in a build folder beside
it (``.NAME.incomplete-XXXX``, holding a file ``INCOMPLETE``) and, when every stage has
finished, renames that folder into place. The rules:

- ``--out`` may not name an existing file. Without ``--overwrite`` an existing folder is
  refused. With ``--overwrite``, the folder is replaced only if a previous run of this
  package wrote it (its marker file :data:`MARKER` lists every file the run wrote, with
  its SHA-256) and nothing else has been put there since. The current folder, the home
  folder, the root, a folder that holds the spec or an input data file (or any folder
  above one) and a symbolic link are always refused, with a message that says why.
- A lock file ``.NAME.lock`` beside the folder stops two runs writing to the same
  ``--out`` at once: the second run is refused, naming the first one's process id.
- Replacing moves the old folder aside (``.NAME.replaced-XXXX``), renames the new one
  into place and only then deletes the old one. Ctrl-C is held back during these few
  renames, so an interrupt leaves either the complete old output or the complete new
  output. A folder that appeared, or changed, while the run worked is never removed:
  the new output is then left beside it (``NAME.new-TIMESTAMP``) and the error says so.
- A run that fails or is interrupted removes its build folder; the message names
  anything it could not remove.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._files import os_cause
from ..errors import OutputFolderError, OutputWriteError
from .provenance import sha256_file

__all__ = [
    "MARKER",
    "INCOMPLETE",
    "OutputPlan",
    "OutputLock",
    "os_cause",
    "plan_output",
    "start_build_folder",
    "discard_build_folder",
    "commit_output",
    "write_marker",
    "held_interrupts",
]

#: file in every finished output folder: the package's claim to the files it wrote
MARKER = ".mutualaid-output.json"
#: file in a folder that is not a complete output
INCOMPLETE = "INCOMPLETE"
#: files an operating system's file browser may add; they never block --overwrite
_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def _write_error(action: str, exc: OSError) -> OutputWriteError:
    where = f" '{exc.filename}'" if exc.filename else ""
    return OutputWriteError(
        f"Cannot {action}{where}: {os_cause(exc)}.", errno=exc.errno, filename=exc.filename
    )


@dataclass(frozen=True)
class OutputPlan:
    """Where a run's output goes and what was there when the run started.

    Attributes
    ----------
    out_dir : Path
        The output folder as given.
    target : Path
        Its absolute path (parent resolved, last component kept).
    existed : bool
        Whether the folder existed when the run started.
    snapshot : tuple
        ``(relative path, size, modification time)`` of every file in it then.
    """

    out_dir: Path
    target: Path
    existed: bool
    snapshot: tuple[tuple[str, int, int], ...] = ()


def _files(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder, followlinks=False):
        for d in list(dirs):
            if (Path(root) / d).is_symlink():
                yield Path(root) / d  # a link to a folder counts as a file here
                dirs.remove(d)
        for n in names:
            yield Path(root) / n


def _snapshot(folder: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in _files(folder):
        st = p.lstat()
        out.append((p.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def _foreign_files(folder: Path) -> list[str]:
    """Reasons ``folder`` holds something a run of this package did not write."""
    listed: dict[str, str] = {}
    marker = folder / MARKER
    if marker.is_file():
        try:
            record = json.loads(marker.read_text(encoding="utf-8"))
            listed = dict(record["files"]) if record.get("package") == "mutualaid_outcomes" else {}
        except (ValueError, KeyError, TypeError, OSError):
            return [f"its marker file '{MARKER}' cannot be read"]
    files = [p for p in _files(folder) if p.name not in _LITTER and p != marker]
    if files and not marker.is_file():
        return [
            f"it has no marker file '{MARKER}', so it was not written by a run of "
            "mutualaid_outcomes"
        ]
    foreign, changed = [], []
    for p in files:
        rel = p.relative_to(folder).as_posix()
        if rel not in listed or p.is_symlink():
            foreign.append(rel)
        elif sha256_file(p) != listed[rel]:
            changed.append(rel)
    out = []
    if foreign:
        out.append(f"it holds file(s) the run did not write: {_some(foreign)}")
    if changed:
        out.append(f"file(s) changed since the run wrote them: {_some(changed)}")
    return out


def _some(names: list[str], n: int = 5) -> str:
    shown = ", ".join(repr(x) for x in sorted(names)[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refusals(target: Path, real: Path, inputs: Iterable[Path]) -> list[str]:
    """Reasons a folder may never be replaced, whoever wrote it."""
    reasons = []
    if target.is_symlink():
        reasons.append("it is a symbolic link; give the folder it points to")
    if real == Path.cwd().resolve():
        reasons.append("it is the current folder")
    if real == Path.home().resolve():
        reasons.append("it is your home folder")
    if real == Path(real.anchor):
        reasons.append("it is the root of the file system")
    for p in inputs:
        resolved = Path(p).resolve()
        if _is_within(resolved, real):
            reasons.append(f"it holds the input file '{p}'")
    return reasons


def plan_output(out_dir: str | Path, *, overwrite: bool, inputs: Iterable[Path] = ()) -> OutputPlan:
    """Check that a run may write ``out_dir`` and record what is there now.

    Parameters
    ----------
    out_dir : path
        The output folder.
    overwrite : bool
        Whether an existing folder may be replaced.
    inputs : iterable of Path
        The spec file and every input data file; no folder holding one is replaced.

    Raises
    ------
    OutputFolderError
        If ``out_dir`` names a file, exists without ``overwrite``, or may not be
        replaced (the message lists every reason).
    """
    target = Path(os.path.abspath(Path(out_dir).expanduser()))  # symbolic links kept
    if target.exists() and not target.is_dir() and not target.is_symlink():
        raise OutputFolderError(
            f"--out '{out_dir}' names an existing file, not a folder; choose a folder name."
        )
    if not target.exists() and not target.is_symlink():
        return OutputPlan(out_dir=Path(out_dir), target=target, existed=False)
    if not overwrite:
        raise OutputFolderError(
            f"Output folder '{out_dir}' already exists; choose another with --out or pass "
            "--overwrite to replace it."
        )
    reasons = _refusals(target, target.resolve(), inputs)
    if not reasons:
        reasons = _foreign_files(target)
    if reasons:
        raise OutputFolderError(
            f"--overwrite will not replace '{out_dir}': "
            + "; ".join(reasons)
            + ". Choose another --out, or move the folder away yourself."
        )
    return OutputPlan(
        out_dir=Path(out_dir), target=target, existed=True, snapshot=_snapshot(target)
    )


class OutputLock:
    """Exclusive lock on an output folder: a lock file beside it, held for the run.

    On POSIX the file is locked with ``flock`` (released by the operating system if the
    process dies); elsewhere it is created exclusively.
    """

    def __init__(self, target: Path) -> None:
        self.path = target.parent / f".{target.name}.lock"
        self.target = target
        self._fd: int | None = None

    def _refuse(self) -> OutputFolderError:
        try:
            owner = self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            owner = "unknown"
        return OutputFolderError(
            f"Another run (process {owner}) is writing to '{self.target}'; wait for it to "
            f"finish. If no run is active, delete the lock file '{self.path}'."
        )

    def acquire(self) -> None:
        """Take the lock or raise :class:`OutputFolderError`."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            fcntl = None  # type: ignore[assignment]
        for _ in range(5):
            try:
                flags = os.O_RDWR | os.O_CREAT | (0 if fcntl else os.O_EXCL)
                fd = os.open(self.path, flags, 0o644)
            except FileExistsError:  # pragma: no cover - Windows
                raise self._refuse() from None
            except OSError as exc:
                raise _write_error("create the lock file", exc) from None
            if fcntl is None:  # pragma: no cover - Windows
                self._fd = fd
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._refuse() from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                break
            os.close(fd)  # the previous holder removed the file as we opened it
        else:  # pragma: no cover - only under heavy contention
            raise self._refuse()
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def start_build_folder(target: Path) -> Path:
    """Create the build folder beside ``target`` (marked INCOMPLETE), and its parent.

    Raises
    ------
    OutputWriteError
        If the folder cannot be created (read-only location, disk full, ...).
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.incomplete-", dir=target.parent))
        (tmp / "tables").mkdir()
        (tmp / "figures").mkdir()
        (tmp / INCOMPLETE).write_text(
            "This folder is an unfinished run; its contents are not a complete analysis.\n",
            encoding="utf-8",
        )
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(target.parent)
        raise _write_error("write the output folder in", exc) from None
    return tmp


def discard_build_folder(tmp: Path) -> str | None:
    """Remove a build folder; return a sentence naming it if it could not be removed."""
    try:
        shutil.rmtree(tmp)
    except FileNotFoundError:
        return None
    except (OSError, KeyboardInterrupt) as exc:
        why = os_cause(exc) if isinstance(exc, OSError) else "interrupted"
        return f"The unfinished output '{tmp}' (marked {INCOMPLETE}) could not be removed ({why}); delete it."
    return None


def write_marker(folder: Path, provenance: dict[str, Any]) -> None:
    """Write :data:`MARKER`: the package, the run's times and every file with its hash."""
    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(_files(folder))
        if p.name not in (MARKER, INCOMPLETE)
    }
    record = {
        "package": "mutualaid_outcomes",
        "version": provenance.get("versions", {}).get("mutualaid_outcomes"),
        "started": provenance.get("started"),
        "finished": provenance.get("finished"),
        "note": "Written by a mutualaid_outcomes run; `--overwrite` replaces this folder "
        "only while it holds exactly these files.",
        "files": files,
    }
    (folder / MARKER).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", "utf-8")


@contextlib.contextmanager
def held_interrupts() -> Iterator[list[int]]:
    """Hold Ctrl-C back for the duration of the block; re-raise it afterwards.

    Yields the list of signals received (empty if none). Only possible in the main
    thread; elsewhere the block runs unprotected.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):
        yield received
        return
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def _leave_beside(tmp: Path, plan: OutputPlan, why: str) -> OutputFolderError:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    keep = plan.target.parent / f"{plan.target.name}.new-{stamp}"
    try:
        os.rename(tmp, keep)
    except OSError:
        keep = tmp
    return OutputFolderError(
        f"'{plan.out_dir}' {why} while the run was working, so it was not replaced. "
        f"The complete new output is in '{keep}'."
    )


def commit_output(tmp: Path, plan: OutputPlan, provenance: dict[str, Any]) -> None:
    """Put the finished build folder in place of ``plan.target``; Ctrl-C is held back.

    Raises
    ------
    OutputFolderError
        If the target appeared or changed while the run worked (the new output is left
        beside it and the message names it).
    OutputWriteError
        If a rename fails (the old output is put back first).
    """
    target = plan.target
    write_marker(tmp, provenance)
    (tmp / INCOMPLETE).unlink()
    if not plan.existed and (target.exists() or target.is_symlink()):
        raise _leave_beside(tmp, plan, "appeared")
    if plan.existed and (not target.is_dir() or _snapshot(target) != plan.snapshot):
        raise _leave_beside(tmp, plan, "changed")
    if not plan.existed:
        try:
            os.rename(tmp, target)  # refuses a non-empty folder that appeared meanwhile
        except OSError as exc:
            raise _leave_beside(tmp, plan, f"could not be created ({os_cause(exc)})") from None
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.replaced-", dir=target.parent))
    try:
        os.rename(target, aside / "old")
    except OSError as exc:
        aside.rmdir()
        raise _leave_beside(tmp, plan, f"could not be moved aside ({os_cause(exc)})") from None
    try:
        os.rename(tmp, target)
    except OSError as exc:
        os.rename(aside / "old", target)
        aside.rmdir()
        raise _write_error("put the new output in place of", exc) from None
    (aside / INCOMPLETE).write_text("The previous output, being deleted.\n", encoding="utf-8")
    try:
        shutil.rmtree(aside)
    except OSError as exc:
        raise _write_error(f"delete the previous output, left in '{aside}';", exc) from None
