"""The ``mutualaid`` command line: version, readable tables, help text."""

import pandas as pd
from typer.testing import CliRunner

from mutualaid_outcomes import __version__
from mutualaid_outcomes.cli import WIDTH, app


def test_version_option_and_command():
    runner = CliRunner()
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"mutualaid_outcomes {__version__}"
    assert runner.invoke(app, ["version"]).output.strip() == __version__


def test_instruments_table_fits_100_columns():
    res = CliRunner().invoke(app, ["instruments"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert max(len(x.rstrip()) for x in lines) <= WIDTH == 100
    assert lines[0].startswith("21 instruments") or "instruments" in lines[0]
    assert any(x.split()[:1] == ["cesd"] for x in lines)
    assert "Center for Epidemiologic Studies" in res.output


def test_describe_prints_labels_within_100_columns(tmp_path):
    from mutualaid_outcomes.datasets import load_sample
    from mutualaid_outcomes.io import write_data

    path = tmp_path / "p.sav"
    write_data(load_sample("participants")[["id", "arm", "sex", "age"]], path)
    res = CliRunner().invoke(app, ["describe", str(path)])
    assert res.exit_code == 0, res.output
    assert max(len(x.rstrip()) for x in res.output.splitlines()) <= WIDTH
    assert "Randomised treatment arm" in res.output and "0 = Male" in res.output
    csv = tmp_path / "d.csv"
    pd.DataFrame({"q1": [1, 2, 99], "q2": [3, 4, 5]}).to_csv(csv, index=False)
    res = CliRunner().invoke(app, ["describe", str(csv), "--missing-codes", "99"])
    assert res.exit_code == 0 and "q1" in res.output


def test_help_shows_no_type_placeholders():
    runner = CliRunner()
    for args in ([], ["demo"], ["run"], ["describe"], ["validate"], ["instruments"]):
        out = runner.invoke(app, [*args, "--help"]).output
        assert "<bool>" not in out and "BOOLEAN" not in out, args
