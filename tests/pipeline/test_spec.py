import pytest
import tomllib

from mutualaid_outcomes.errors import DataFileNotFoundError, SpecError
from mutualaid_outcomes.pipeline.spec import load_spec, validate_spec


def _base(**extra):
    spec = {"title": "t", "seed": 1, "data": {"path": "sample:waves"}}
    spec.update(extra)
    return spec


def test_examples_are_valid(paths):
    for path in sorted((paths.examples).glob("*.toml")):
        spec, raw = load_spec(path)
        assert spec.title and raw["title"] == spec.title


def test_packaged_demo_spec_is_the_example(paths):
    packaged = paths.root / "src" / "mutualaid_outcomes" / "pipeline" / "demo.toml"
    assert packaged.read_text() == (paths.examples / "demo.toml").read_text()


def test_unknown_keys_are_named():
    with pytest.raises(SpecError, match=r"colour: unknown key"):
        validate_spec(_base(colour="red"))
    with pytest.raises(SpecError, match=r"data\.pth: unknown key"):
        validate_spec({"title": "t", "seed": 1, "data": {"pth": "x.csv"}})


def test_wrong_types_are_named():
    with pytest.raises(SpecError, match=r"seed: .*integer.*\(got 'abc'\)"):
        validate_spec({"title": "t", "seed": "abc", "data": {"path": "x.csv"}})
    with pytest.raises(SpecError, match=r"output\.min_cell"):
        validate_spec(_base(output={"min_cell": 1}))
    with pytest.raises(SpecError, match=r"title: required key is missing"):
        validate_spec({"seed": 1, "data": {"path": "x.csv"}})


def test_model_options_checked_against_the_function():
    bad_option = _base(
        models=[{"name": "m", "type": "gee", "formula": "y ~ x", "id": "id", "cov_strct": "ar1"}]
    )
    with pytest.raises(
        SpecError, match=r"unknown option\(s\) \['cov_strct'\].*allowed:.*cov_struct"
    ):
        validate_spec(bad_option)
    bad_value = _base(
        models=[
            {
                "name": "m",
                "type": "gee",
                "formula": "y ~ x",
                "id": "id",
                "cov_struct": "toeplitz",
            }
        ]
    )
    with pytest.raises(SpecError, match=r"cov_struct.*must be one of.*exchangeable"):
        validate_spec(bad_value)
    missing = _base(models=[{"name": "m", "type": "gee", "id": "id"}])
    with pytest.raises(SpecError, match=r"missing required option\(s\) \['formula'\]"):
        validate_spec(missing)


def test_cross_references():
    spec = _base(
        models=[{"name": "m", "type": "gee", "formula": "y ~ x", "id": "id"}],
        tables=[{"name": "t", "type": "regression_table", "models": ["nope"]}],
    )
    with pytest.raises(SpecError, match=r"unknown model 'nope'"):
        validate_spec(spec)
    dup = _base(models=[{"name": "m", "type": "gee", "formula": "y ~ x", "id": "id"}] * 2)
    with pytest.raises(SpecError, match="repeated"):
        validate_spec(dup)
    needs = _base(
        models=[
            {
                "name": "c",
                "type": "kaplan_meier",
                "dataset": "relapse",
                "duration": "duration",
                "event": "event",
            }
        ]
    )
    with pytest.raises(SpecError, match="needs a \\[calendar\\]"):
        validate_spec(needs)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 'x\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)


def test_instrument_mapping_keys_survive_toml(tmp_path, paths):
    text = (paths.examples / "minimal.toml").read_text()
    raw = tomllib.loads(text)
    raw["instruments"] = [{"instrument": "pacs", "items": {"1": "q1", "2": "q2"}}]
    spec = validate_spec(raw)
    assert spec.instruments[0].items == {"1": "q1", "2": "q2"}
