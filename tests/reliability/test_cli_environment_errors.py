"""The command line never shows a traceback for an environment problem (issue 14, 8).

The tests run as any user (possibly root, who ignores file permissions), so a
read-only folder and a full disk are simulated by making the operating-system call
fail with EROFS / ENOSPC.
"""

from __future__ import annotations

import errno

import pandas as pd
import pytest
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app
from mutualaid_outcomes.pipeline import runner


def _one_line_error(res, *needles):
    """The command failed with exit status 2 and one ``error:`` line naming ``needles``."""
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert not isinstance(res.exception, (OSError, ValueError, KeyError)), res.exception
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    for needle in needles:
        assert needle in lines[0]


def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_read_only_output_location_fails_before_the_work(pipeline_project, tmp_path, monkeypatch):
    from mutualaid_outcomes.pipeline import output_folder

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    monkeypatch.setattr(output_folder.tempfile, "mkdtemp", read_only)
    fitted = []
    stages = tuple(
        (n, (lambda ctx: fitted.append(1)) if n == "models" else f) for n, f in runner.STAGES
    )
    monkeypatch.setattr(runner, "STAGES", stages)
    res = _invoke("run", pipeline_project.spec, "--out", tmp_path / "out")
    _one_line_error(res, "Read-only file system", "EROFS", str(tmp_path))
    assert not fitted


def test_full_disk_during_the_run_is_one_line_and_leaves_nothing(
    pipeline_project, tmp_path, monkeypatch
):
    real_to_csv = pd.DataFrame.to_csv

    def disk_full(self, path=None, *a, **k):
        if path is not None:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_to_csv(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    out = tmp_path / "out"
    res = _invoke("run", pipeline_project.spec, "--out", out)
    _one_line_error(res, "No space left on device", "ENOSPC")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_out_naming_an_existing_file(pipeline_project, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("<html></html>")
    res = _invoke("run", pipeline_project.spec, "--out", target)
    _one_line_error(res, "names an existing file")
    assert target.read_text() == "<html></html>"


@pytest.mark.parametrize("codes", ["-9,abc", "99;98", "-9,,98"])
def test_bad_missing_codes(pipeline_project, codes):
    res = _invoke("describe", pipeline_project.data, "--missing-codes", codes)
    _one_line_error(res, "--missing-codes")


def test_good_missing_codes_still_work(pipeline_project):
    res = _invoke("describe", pipeline_project.data, "--missing-codes", "-9, 99")
    assert res.exit_code == 0 and "dose" in res.output


def test_describe_of_a_missing_file(tmp_path):
    res = _invoke("describe", tmp_path / "nope.csv")
    _one_line_error(res, "nope.csv")


def test_ctrl_c_exits_130_and_says_what_was_left(pipeline_project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _invoke("run", pipeline_project.spec, "--out", out)

    def interrupt(ctx):
        raise KeyboardInterrupt

    stages = tuple((n, interrupt if n == "figures" else f) for n, f in runner.STAGES)
    monkeypatch.setattr(runner, "STAGES", stages)
    res = _invoke("run", pipeline_project.spec, "--out", out, "--overwrite")
    assert res.exit_code == 130
    assert "Traceback" not in res.output
    assert "still holds the previous output" in res.output and str(out) in res.output


def test_table_save_into_a_missing_folder(tmp_path):
    from mutualaid_outcomes.errors import OutputWriteError
    from mutualaid_outcomes.tables.table import Table

    table = Table(pd.DataFrame({"a": [1]}))
    target = tmp_path / "no_such_folder" / "t.csv"
    with pytest.raises(OutputWriteError, match="no_such_folder' does not exist"):
        table.save(target)
    assert not target.parent.exists()


def test_save_figure_into_a_missing_folder(tmp_path):
    import matplotlib.pyplot as plt

    from mutualaid_outcomes.errors import OutputWriteError
    from mutualaid_outcomes.plotting import save_figure

    fig, _ = plt.subplots()
    try:
        with pytest.raises(OutputWriteError, match="no_such_folder' does not exist"):
            save_figure(fig, tmp_path / "no_such_folder" / "f.png")
    finally:
        plt.close(fig)


def test_table_save_on_a_full_disk_names_the_cause(tmp_path, monkeypatch):
    from mutualaid_outcomes.errors import OutputWriteError
    from mutualaid_outcomes.tables.table import Table

    def disk_full(self, path=None, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(OutputWriteError, match=r"No space left on device \(ENOSPC\)") as info:
        Table(pd.DataFrame({"a": [1]})).save(tmp_path / "t.csv")
    assert info.value.errno == errno.ENOSPC
    assert isinstance(info.value, OSError)
