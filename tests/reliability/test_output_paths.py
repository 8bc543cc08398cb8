"""Output names and ``--out`` cannot reach outside the output folder (issue 14, section 2)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app
from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.pipeline.runner import run_spec_file
from mutualaid_outcomes.pipeline.spec import validate_spec

BAD_NAMES = [
    "/some/path/mydata",
    "../escape",
    "sub/dir",
    "sub\\dir",
    ".hidden",
    "..",
    "a..b",
    "name with space",
    "",
    "C:evil",
]


@pytest.mark.parametrize("bad", BAD_NAMES)
@pytest.mark.parametrize("section", ["tables", "figures", "models"])
def test_output_names_must_be_plain_file_stems(section, bad, pipeline_project):
    raw = pipeline_project.raw()
    if section == "tables":
        raw["tables"][0]["name"] = bad
    elif section == "figures":
        raw["figures"] = [{"name": bad, "type": "forest", "model": "dose_response"}]
    else:
        raw["models"][0]["name"] = bad
        raw["tables"][1]["models"] = [bad]
    with pytest.raises(SpecError, match="is not a plain file name") as info:
        validate_spec(raw)
    assert repr(bad) in str(info.value)


def test_an_absolute_table_name_never_overwrites_a_file(pipeline_project, tmp_path):
    victim = tmp_path / "mydata"
    victim.write_text("precious\n")
    raw = pipeline_project.raw()
    raw["tables"][0]["name"] = str(victim)
    spec = pipeline_project.write(raw)
    res = CliRunner().invoke(app, ["run", str(spec), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "plain file name" in res.output
    assert victim.read_text() == "precious\n"
    assert not list(tmp_path.glob("mydata.*"))


def test_plain_names_with_dots_and_dashes_are_kept(pipeline_project, tmp_path):
    raw = pipeline_project.raw()
    raw["tables"][0]["name"] = "table-1.v2"
    res = run_spec_file(pipeline_project.write(raw), tmp_path / "out", progress=False)
    assert (res.out_dir / "tables" / "table-1.v2.csv").is_file()


def _overwrite(spec, out):
    return run_spec_file(spec, out, overwrite=True, progress=False)


def test_overwrite_refuses_the_folder_of_the_input_data(pipeline_project, folder_snapshot):
    before = folder_snapshot(pipeline_project.root)
    with pytest.raises(SpecError, match="holds the input file"):
        _overwrite(pipeline_project.spec, pipeline_project.root / "data")
    assert folder_snapshot(pipeline_project.root) == before


def test_overwrite_refuses_the_current_folder_holding_the_spec(
    pipeline_project, folder_snapshot, monkeypatch
):
    monkeypatch.chdir(pipeline_project.root)
    before = folder_snapshot(pipeline_project.root)
    res = CliRunner().invoke(app, ["run", "analysis.toml", "--out", ".", "--overwrite"])
    assert res.exit_code == 2
    assert "current folder" in res.output and "analysis.toml" in res.output
    assert folder_snapshot(pipeline_project.root) == before


def test_overwrite_refuses_any_parent_of_an_input(pipeline_project, tmp_path, folder_snapshot):
    before = folder_snapshot(tmp_path)
    with pytest.raises(SpecError, match="holds the input file"):
        _overwrite(pipeline_project.spec, tmp_path)
    assert folder_snapshot(tmp_path) == before


def test_overwrite_refuses_the_home_folder(pipeline_project, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine\n")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(SpecError, match="home folder"):
        _overwrite(pipeline_project.spec, home)
    assert (home / "notes.txt").read_text() == "mine\n"


def test_overwrite_refuses_a_folder_the_package_did_not_write(pipeline_project, tmp_path):
    other = tmp_path / "thesis"
    other.mkdir()
    (other / "chapter1.docx").write_bytes(b"draft")
    with pytest.raises(SpecError, match="no marker file"):
        _overwrite(pipeline_project.spec, other)
    assert (other / "chapter1.docx").read_bytes() == b"draft"


def test_overwrite_refuses_an_output_with_files_added_later(pipeline_project, tmp_path):
    out = tmp_path / "out"
    run_spec_file(pipeline_project.spec, out, progress=False)
    assert (out / ".mutualaid-output.json").is_file()
    (out / "tables" / "my_notes.txt").write_text("added by hand\n")
    with pytest.raises(SpecError, match="did not write: 'tables/my_notes.txt'"):
        _overwrite(pipeline_project.spec, out)
    assert (out / "tables" / "my_notes.txt").read_text() == "added by hand\n"


def test_overwrite_replaces_an_output_a_previous_run_wrote(pipeline_project, tmp_path):
    out = tmp_path / "out"
    run_spec_file(pipeline_project.spec, out, progress=False)
    raw = pipeline_project.raw()
    raw["tables"][0]["name"] = "baseline_table"
    res = _overwrite(pipeline_project.write(raw), out)
    assert (res.out_dir / "tables" / "baseline_table.csv").is_file()
    assert not (res.out_dir / "tables" / "table1.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "proj"]


def test_out_naming_an_existing_file_is_refused(pipeline_project, tmp_path):
    existing = tmp_path / "results.csv"
    existing.write_text("a,b\n")
    for extra in ([], ["--overwrite"]):
        res = CliRunner().invoke(
            app, ["run", str(pipeline_project.spec), "--out", str(existing), *extra]
        )
        assert res.exit_code == 2 and "names an existing file" in res.output
    assert existing.read_text() == "a,b\n"
