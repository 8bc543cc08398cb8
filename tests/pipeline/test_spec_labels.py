"""The spec's [labels] section reaches every table of a run."""

import pytest
import tomllib

from mutualaid_outcomes.pipeline.runner import run_analysis
from mutualaid_outcomes.pipeline.spec import validate_spec


def test_labels_section_labels_tables(tmp_path, paths):
    raw = tomllib.loads((paths.examples / "minimal.toml").read_text())
    raw["labels"] = {
        "variables": {"age": "Age, years", "arm": "Treatment"},
        "values": {"sex": {"0": "Man", "1": "Woman"}, "arm": {"CBT": "Coping skills"}},
    }
    raw["output"]["table_formats"] = ["md"]
    res = run_analysis(validate_spec(raw), tmp_path / "o", progress=False)
    t1 = res.tables["table1"]
    assert "Age, years, M (SD)" in t1.body.index
    assert "Sex: Woman, n (%)" in t1.body.index  # value label of the shown level
    assert any(c.startswith("Coping skills (n = ") for c in t1.columns)
    # instrument spec label for the scored column
    assert any(i.startswith("Depressive symptoms (CES-D)") for i in t1.body.index)
    t2 = res.tables["table2"]
    assert "Treatment" in t2.body.index and "Coping skills (ref.)" in t2.body.index
    md = (res.out_dir / "tables" / "table2.md").read_text()
    assert "C(arm)" not in md


def test_labels_section_is_strict():
    raw = {"title": "x", "seed": 1, "data": {"path": "sample:waves"},
           "labels": {"variable": {"age": "Age"}}}  # fmt: skip
    with pytest.raises(Exception, match="variable"):
        validate_spec(raw)
