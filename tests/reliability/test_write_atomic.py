"""A failed write_data (disk full, permission) leaves the previous file byte-identical.

The failure surfaces as an error of the package that is also an OSError and names
the operating system's cause; no temporary file is left behind, and a data file and
its codebook sidecar never disagree silently.
"""

import errno
import os
import warnings

import pandas as pd
import pyreadstat
import pytest

from mutualaid_outcomes.errors import DataWarning, MutualAidError
from mutualaid_outcomes.io import get_codebook, read_data, write_data

FORMATS = [".csv", ".parquet", ".sav", ".zsav", ".dta"]


@pytest.fixture
def old_and_new():
    old = pd.DataFrame({"id": [1, 2, 3], "x": [1.5, 2.5, 3.5], "arm": ["TSF", "CBT", "MET"]})
    new = pd.DataFrame({"id": [4, 5], "x": [9.0, 8.0], "arm": ["CBT", "CBT"]})
    return old, new


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _disk_full_after(n_bytes):
    """A replacement writer that writes part of a file, then fails as a full disk does."""

    def write(*args, **kwargs):
        path = next(a for a in (*args, *kwargs.values()) if isinstance(a, (str, os.PathLike)))
        with open(path, "wb") as fh:
            fh.write(b"x" * n_bytes)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


def _patch_writer(monkeypatch, suffix, replacement):
    if suffix == ".csv":
        monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, *a, **k: replacement(*a, **k))
    elif suffix == ".parquet":
        monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda self, *a, **k: replacement(*a, **k))
    elif suffix in (".sav", ".zsav"):
        monkeypatch.setattr(pyreadstat, "write_sav", lambda df, *a, **k: replacement(*a, **k))
    else:
        monkeypatch.setattr(pyreadstat, "write_dta", lambda df, *a, **k: replacement(*a, **k))


@pytest.mark.parametrize("suffix", FORMATS)
def test_disk_full_mid_write_keeps_previous_file_byte_identical(
    tmp_path, monkeypatch, old_and_new, suffix
):
    old, new = old_and_new
    write_data(old, tmp_path / f"d{suffix}")
    before = _snapshot(tmp_path)
    _patch_writer(monkeypatch, suffix, _disk_full_after(7))
    with pytest.raises(OSError, match="No space left on device") as info:
        write_data(new, tmp_path / f"d{suffix}")
    assert isinstance(info.value, MutualAidError)
    assert info.value.errno == errno.ENOSPC
    assert "unchanged" in str(info.value)
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before  # no truncated file, no temporary file
    assert read_data(tmp_path / f"d{suffix}")["id"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_disk_full_while_writing_the_sidecar_keeps_both_files(
    tmp_path, monkeypatch, old_and_new, suffix
):
    old, new = old_and_new
    write_data(old, tmp_path / f"d{suffix}")
    before = _snapshot(tmp_path)
    real = type(tmp_path).write_text

    def full(self, *args, **kwargs):
        if self.name.startswith(".d.codebook.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "write_text", full)
    with pytest.raises(OSError, match="No space left on device"):
        write_data(new, tmp_path / f"d{suffix}")
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before


def test_failure_at_fsync_is_reported_and_harmless(tmp_path, monkeypatch, old_and_new):
    old, new = old_and_new
    write_data(old, tmp_path / "d.csv")
    before = _snapshot(tmp_path)

    def fsync(fd):
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="EDQUOT"):
        write_data(new, tmp_path / "d.csv")
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before


def test_interrupt_mid_write_leaves_previous_file_and_no_temporary(
    tmp_path, monkeypatch, old_and_new
):
    old, new = old_and_new
    write_data(old, tmp_path / "d.sav")
    before = _snapshot(tmp_path)

    def interrupted(df, path, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(pyreadstat, "write_sav", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_data(new, tmp_path / "d.sav")
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before


def test_read_only_folder_names_the_cause(tmp_path, monkeypatch, old_and_new):
    old, new = old_and_new
    write_data(old, tmp_path / "d.dta")
    before = _snapshot(tmp_path)
    if os.geteuid() != 0:  # a real read-only folder (root ignores permissions)
        tmp_path.chmod(0o555)
    else:
        real_open = os.open

        def refuse_new_files(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and os.path.dirname(os.fspath(path)) == str(tmp_path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse_new_files)
    try:
        with pytest.raises(OSError, match="Permission denied") as info:
            write_data(new, tmp_path / "d.dta")
    finally:
        tmp_path.chmod(0o755)
        monkeypatch.undo()
    assert isinstance(info.value, MutualAidError)
    assert info.value.errno == errno.EACCES
    assert "d.dta" in str(info.value)
    assert _snapshot(tmp_path) == before


def test_type_errors_are_not_blamed_on_the_disk_and_keep_the_file(tmp_path, old_and_new):
    old, _ = old_and_new
    write_data(old, tmp_path / "d.parquet")
    before = _snapshot(tmp_path)
    mixed = pd.DataFrame({"v": [1, "a", 2.5]}, dtype=object)
    with pytest.raises(MutualAidError, match="column types") as info:
        write_data(mixed, tmp_path / "d.parquet")
    assert not isinstance(info.value, OSError)
    assert _snapshot(tmp_path) == before


def test_sidecar_out_of_step_with_its_data_is_noticed(tmp_path, monkeypatch, old_and_new):
    old, new = old_and_new
    write_data(set_label(old), tmp_path / "d.csv")
    real = os.replace
    calls = []

    def crash_between(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the data file is new; the process dies before the sidecar
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", crash_between)
    with pytest.raises(KeyboardInterrupt):
        write_data(new, tmp_path / "d.csv")
    monkeypatch.undo()
    with pytest.warns(DataWarning, match="written for another version of 'd.csv'"):
        df = read_data(tmp_path / "d.csv")
    assert df["id"].tolist() == [4, 5]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_matching_sidecar_reads_silently(tmp_path, old_and_new):
    old, _ = old_and_new
    write_data(set_label(old), tmp_path / "d.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        df = read_data(tmp_path / "d.csv")
    assert get_codebook(df).label("x") == "Exposure"


def set_label(frame):
    from mutualaid_outcomes.io import Codebook, Variable, set_codebook

    return set_codebook(frame, Codebook([Variable("x", "Exposure")]))


def test_vague_writer_error_on_a_full_disk_names_the_real_cause(tmp_path, monkeypatch, old_and_new):
    """pyreadstat says "Unable to write data" on a full disk; the OS is asked for the cause."""
    old, new = old_and_new
    write_data(old, tmp_path / "d.sav")
    before = _snapshot(tmp_path)

    def vague(df, path, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise RuntimeError("Unable to write data")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pyreadstat, "write_sav", vague)
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"No space left on device \(ENOSPC\)") as info:
        write_data(new, tmp_path / "d.sav")
    monkeypatch.undo()
    assert "column types" not in str(info.value)
    assert _snapshot(tmp_path) == before


def test_silently_truncated_stata_file_is_refused(tmp_path, monkeypatch, old_and_new):
    """pyreadstat returns without error when a .dta write is cut short."""
    old, new = old_and_new
    write_data(old, tmp_path / "d.dta")
    before = _snapshot(tmp_path)
    real = pyreadstat.write_dta

    def truncated(df, path, **kwargs):
        real(df, path, **kwargs)
        with open(path, "r+b") as fh:
            fh.truncate(100)

    monkeypatch.setattr(pyreadstat, "write_dta", truncated)
    with pytest.raises(OSError, match="stopped before the end of the file"):
        write_data(new, tmp_path / "d.dta")
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and mount; skipped elsewhere)."""
    import shutil
    import subprocess

    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("suffix", FORMATS)
def test_real_full_disk(full_disk, suffix):
    import numpy as np

    old = pd.DataFrame({"x": [1.0, 2.0]})
    write_data(old, full_disk / f"d{suffix}")
    before = _snapshot(full_disk)
    big = pd.DataFrame({"x": np.linspace(0, 1, 20_000), "s": ["abcdefghij"] * 20_000})
    with pytest.raises(OSError, match="No space left on device") as info:
        write_data(big, full_disk / f"d{suffix}")
    assert isinstance(info.value, MutualAidError)
    assert _snapshot(full_disk) == before


@pytest.mark.parametrize("suffix", [".csv", ".sav"])
def test_replaced_file_keeps_its_permissions(tmp_path, old_and_new, suffix):
    old, new = old_and_new
    target = tmp_path / f"d{suffix}"
    write_data(old, target)
    target.chmod(0o640)
    write_data(new, target)
    assert target.stat().st_mode & 0o777 == 0o640


def test_new_file_gets_the_permissions_open_would_give(tmp_path, old_and_new):
    old, _ = old_and_new
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    write_data(old, tmp_path / "d.csv")
    assert (tmp_path / "d.csv").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_writing_through_a_symbolic_link_keeps_the_link(tmp_path, old_and_new):
    old, new = old_and_new
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "d.csv"
    write_data(old, real)
    link = tmp_path / "d.csv"
    link.symlink_to(real)
    write_data(new, link)
    assert link.is_symlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_data(link)["id"].tolist() == [4, 5]
    assert read_data(real, use_sidecar=False)["id"].tolist() == [4, 5]
