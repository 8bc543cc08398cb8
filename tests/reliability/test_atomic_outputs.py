"""Outputs appear atomically and never delete what someone else put there (issue 14, 3).

Interrupts are simulated by raising KeyboardInterrupt from a stage (or sending SIGINT
to this process while the finished output is swapped in); concurrency by a second
process that runs to the same ``--out``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app
from mutualaid_outcomes.pipeline import runner
from mutualaid_outcomes.pipeline.runner import run_spec_file


def _with_stage(monkeypatch, label, action):
    """Replace the stage ``label`` by one that calls ``action(ctx)`` first."""
    stages = []
    for name, func in runner.STAGES:
        if name == label:

            def wrapped(ctx, func=func):
                action(ctx)
                func(ctx)

            stages.append((name, wrapped))
        else:
            stages.append((name, func))
    monkeypatch.setattr(runner, "STAGES", tuple(stages))


def _interrupt(ctx):
    raise KeyboardInterrupt


def _siblings(folder):
    """Everything beside ``folder`` whose name mentions it (build or old folders, locks)."""
    return sorted(p.name for p in folder.parent.iterdir() if folder.name in p.name)


def test_interrupt_before_the_end_keeps_the_old_output_and_says_so(
    pipeline_project, tmp_path, monkeypatch, folder_snapshot
):
    out = tmp_path / "out"
    run_spec_file(pipeline_project.spec, out, progress=False)
    before = folder_snapshot(out)
    _with_stage(monkeypatch, "tables", _interrupt)
    with pytest.raises(KeyboardInterrupt) as info:
        run_spec_file(pipeline_project.spec, out, overwrite=True, progress=False)
    message = str(info.value)
    assert "Interrupted during 'tables'" in message
    assert str(out) in message and "still holds the previous output" in message
    assert folder_snapshot(out) == before
    assert _siblings(out) == ["out"]


def test_interrupt_of_a_first_run_leaves_nothing(pipeline_project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _with_stage(monkeypatch, "models", _interrupt)
    res = CliRunner().invoke(app, ["run", str(pipeline_project.spec), "--out", str(out)])
    assert res.exit_code == 130
    assert "was not created" in res.output and "Traceback" not in res.output
    assert _siblings(out) == []


def test_interrupt_while_the_output_is_swapped_in_leaves_the_complete_new_output(
    pipeline_project, tmp_path, monkeypatch
):
    from mutualaid_outcomes.pipeline import output_folder

    out = tmp_path / "out"
    run_spec_file(pipeline_project.spec, out, progress=False)
    raw = pipeline_project.raw()
    raw["tables"][0]["name"] = "new_table"
    spec = pipeline_project.write(raw)
    real_rename = os.rename

    def rename_with_ctrl_c(src, dst):
        # Ctrl-C in the middle of the swap, delivered to this (the main) thread so that
        # its handler runs before the rename, whichever thread the kernel would pick
        # for a process-wide signal on a busy machine.
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        time.sleep(0.01)
        real_rename(src, dst)

    monkeypatch.setattr(output_folder.os, "rename", rename_with_ctrl_c)
    with pytest.raises(KeyboardInterrupt, match="holds the complete new output"):
        run_spec_file(spec, out, overwrite=True, progress=False)
    monkeypatch.setattr(output_folder.os, "rename", real_rename)
    assert (out / "tables" / "new_table.csv").is_file()
    assert not (out / "tables" / "table1.csv").exists()
    assert not (out / "INCOMPLETE").exists()
    assert _siblings(out) == ["out"]


def test_a_file_created_in_the_target_during_the_run_is_never_deleted(
    pipeline_project, tmp_path, monkeypatch
):
    out = tmp_path / "out"

    def someone_writes(ctx):
        out.mkdir()
        (out / "colleague.txt").write_text("not yours\n")

    _with_stage(monkeypatch, "figures", someone_writes)
    with pytest.raises(Exception, match="appeared while the run was working") as info:
        run_spec_file(pipeline_project.spec, out, progress=False)
    assert (out / "colleague.txt").read_text() == "not yours\n"
    assert sorted(p.name for p in out.iterdir()) == ["colleague.txt"]
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("out.new-")]
    assert len(kept) == 1 and str(kept[0]) in str(info.value)
    assert (kept[0] / "tables" / "table1.csv").is_file()


def test_a_file_added_to_the_old_output_during_an_overwrite_is_kept(
    pipeline_project, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    run_spec_file(pipeline_project.spec, out, progress=False)
    _with_stage(monkeypatch, "report", lambda ctx: (out / "late_note.txt").write_text("keep me\n"))
    with pytest.raises(Exception, match="changed while the run was working"):
        run_spec_file(pipeline_project.spec, out, overwrite=True, progress=False)
    assert (out / "late_note.txt").read_text() == "keep me\n"


def test_a_failed_run_removes_its_build_folder(pipeline_project, tmp_path, monkeypatch):
    out = tmp_path / "out"

    def boom(ctx):
        raise RuntimeError("model exploded")

    _with_stage(monkeypatch, "tables", boom)
    with pytest.raises(RuntimeError, match="model exploded"):
        run_spec_file(pipeline_project.spec, out, progress=False)
    assert _siblings(out) == []


def test_a_build_folder_that_cannot_be_removed_is_named(pipeline_project, tmp_path, monkeypatch):
    from mutualaid_outcomes.pipeline import output_folder

    out = tmp_path / "out"

    def boom(ctx):
        raise RuntimeError("model exploded")

    def cannot_remove(path, *a, **k):
        raise PermissionError(13, "Permission denied", str(path))

    _with_stage(monkeypatch, "tables", boom)
    monkeypatch.setattr(output_folder.shutil, "rmtree", cannot_remove)
    with pytest.raises(RuntimeError) as info:
        run_spec_file(pipeline_project.spec, out, progress=False)
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".out.incomplete-")]
    assert len(left) == 1 and (left[0] / "INCOMPLETE").is_file()
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert str(left[0]) in notes and "could not be removed" in notes


def test_a_second_run_to_the_same_out_is_refused_while_the_first_runs(
    pipeline_project, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    second: list[BaseException] = []

    def second_run(ctx):
        try:
            run_spec_file(pipeline_project.spec, out, progress=False)
        except Exception as exc:  # noqa: BLE001 - recorded and checked below
            second.append(exc)

    _with_stage(monkeypatch, "models", second_run)
    res = run_spec_file(pipeline_project.spec, out, progress=False)
    assert len(second) == 1 and "Another run" in str(second[0])
    assert (res.out_dir / "tables" / "table1.csv").is_file()


def test_two_processes_never_replace_each_other(pipeline_project, tmp_path):
    out = tmp_path / "out"
    ready, go = tmp_path / "ready", tmp_path / "go"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from mutualaid_outcomes.pipeline import runner

        def wait(ctx):
            Path({str(ready)!r}).touch()
            for _ in range(3000):
                if Path({str(go)!r}).exists():
                    return
                time.sleep(0.1)

        runner.STAGES = tuple(
            (n, (lambda ctx, f=f: (wait(ctx), f(ctx))) if n == "models" else f)
            for n, f in runner.STAGES
        )
        runner.run_spec_file({str(pipeline_project.spec)!r}, {str(out)!r}, progress=False)
        """
    )
    env = dict(os.environ, MPLBACKEND="Agg")
    first = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(2400):
            if ready.exists() or first.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), first.stderr.read().decode() if first.stderr else ""
        res = CliRunner().invoke(app, ["run", str(pipeline_project.spec), "--out", str(out)])
        assert res.exit_code == 2 and "Another run" in res.output
        assert not out.exists()
    finally:
        go.touch()
        _, err = first.communicate(timeout=240)
    assert first.returncode == 0, err.decode()
    assert (out / "tables" / "table1.csv").is_file()
    assert _siblings(out) == ["out"]
