import json

import pandas as pd
import pytest
import tomllib
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app
from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.pipeline.runner import run_analysis, run_spec_file
from mutualaid_outcomes.pipeline.spec import validate_spec


@pytest.fixture(scope="module")
def minimal_runs(tmp_path_factory, paths):
    base = tmp_path_factory.mktemp("runs")
    first = run_spec_file(paths.examples / "minimal.toml", base / "first", progress=False)
    second = run_spec_file(paths.examples / "minimal.toml", base / "second", progress=False)
    return first, second


def test_output_folder_contents(minimal_runs):
    first, _ = minimal_runs
    out = first.out_dir
    for name in ("report.html", "provenance.json", "spec.resolved.json"):
        assert (out / name).is_file()
    for ext in ("csv", "html", "docx", "tex", "md"):
        assert (out / "tables" / f"table1.{ext}").is_file()
    assert not (out / "INCOMPLETE").exists()
    assert not list(out.parent.glob(".first.incomplete-*"))


def test_rerun_gives_identical_tables_and_numbers(minimal_runs):
    first, second = minimal_runs
    tables1 = {k: v for k, v in first.files.items() if k.startswith("tables/")}
    tables2 = {k: v for k, v in second.files.items() if k.startswith("tables/")}
    assert tables1 and tables1 == tables2
    pd.testing.assert_frame_equal(
        first.models["depression_over_time"].tidy(), second.models["depression_over_time"].tidy()
    )


def test_provenance_records_inputs_versions_and_seeds(minimal_runs):
    first, _ = minimal_runs
    prov = json.loads((first.out_dir / "provenance.json").read_text())
    assert prov["versions"]["numpy"] and prov["versions"]["pandas"]
    assert prov["python"] and prov["platform"]
    assert len(prov["inputs"]) == 2 and all(len(h) == 64 for h in prov["inputs"].values())
    assert prov["seeds"]["spec_seed"] == 1
    assert prov["spec"]["resolved"]["title"] == "Minimal analysis"
    assert prov["started"] <= prov["finished"]
    assert set(prov["outputs"]) == {k for k in first.files}


def test_report_holds_no_participant_rows(minimal_runs):
    first, _ = minimal_runs
    html = (first.out_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    from mutualaid_outcomes.datasets import load_sample

    waves = load_sample("waves")
    # interview dates identify participant rows; none may appear in the report
    dates = pd.to_datetime(waves["interview_date"].dropna()).dt.strftime("%Y-%m-%d").unique()
    assert not any(d in html for d in dates[:200])
    assert "No participant-level rows" in html


def test_existing_output_folder_is_refused_unless_overwrite(tmp_path, paths):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SpecError, match="already exists.*--overwrite"):
        run_spec_file(paths.examples / "minimal.toml", out, progress=False)
    res = run_spec_file(paths.examples / "minimal.toml", out, overwrite=True, progress=False)
    assert (res.out_dir / "report.html").is_file()


def test_failed_run_leaves_neither_output_nor_build_folder(tmp_path, paths):
    raw = tomllib.loads((paths.examples / "minimal.toml").read_text())
    raw["models"][0]["formula"] = "cesd_total ~ no_such_column"
    spec = validate_spec(raw)
    out = tmp_path / "out"
    with pytest.raises(SpecError, match="no_such_column"):
        run_analysis(spec, out, progress=False)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_bad_data_sources(tmp_path, paths):
    raw = tomllib.loads((paths.examples / "minimal.toml").read_text())
    raw["data"] = {"path": "missing.csv"}
    with pytest.raises(SpecError, match="missing.csv.*does not exist"):
        run_analysis(validate_spec(raw), tmp_path / "o", base_dir=tmp_path, progress=False)
    raw["data"] = {"path": "sample:nope"}
    with pytest.raises(SpecError, match="sample:waves"):
        run_analysis(validate_spec(raw), tmp_path / "o2", base_dir=tmp_path, progress=False)


def test_instrument_mapping_to_missing_columns(tmp_path, paths):
    raw = tomllib.loads((paths.examples / "minimal.toml").read_text())
    raw["instruments"] = [
        {"instrument": "pacs", "items": {str(i): f"craving_q{i}" for i in range(1, 6)}}
    ]
    with pytest.raises(SpecError, match="craving_q1"):
        run_analysis(validate_spec(raw), tmp_path / "o", progress=False)


def test_cli_validate_describe_instruments(tmp_path, paths):
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(paths.examples / "minimal.toml")])
    assert res.exit_code == 0 and "valid" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\nseed = 1\n[data]\npath = "a.csv"\nextra = 1\n')
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2 and "extra: unknown key" in res.output
    res = runner.invoke(app, ["instruments"])
    assert res.exit_code == 0 and "cesd" in res.output
    csv = tmp_path / "d.csv"
    pd.DataFrame({"q1": [1, 2, 99], "q2": [3, 4, 5]}).to_csv(csv, index=False)
    res = runner.invoke(app, ["describe", str(csv), "--missing-codes", "99"])
    assert res.exit_code == 0 and "q1" in res.output
