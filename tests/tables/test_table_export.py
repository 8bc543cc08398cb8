import pandas as pd
import pytest
from docx import Document

from mutualaid_outcomes.errors import ArgumentTypeError, FileFormatError
from mutualaid_outcomes.results import BaseResult, glance_frame, wald_table
from mutualaid_outcomes.tables import (
    Table,
    format_ci,
    format_p,
    mediation_table,
    regression_table,
    table_one,
)


class _Fit(BaseResult):
    def __init__(self, terms, est, se, n, events=None):
        self.names, self.est, self.se, self.n, self.events = terms, est, se, n, events

    def _tidy(self, conf_level):
        return wald_table(self.names, self.est, self.se, conf_level)

    def glance(self):
        vals = {"n": self.n}
        if self.events is not None:
            vals["n_events"] = self.events
        return glance_frame(vals, ["n", "n_events"])


@pytest.fixture
def small_table():
    df = pd.DataFrame({"arm": ["A", "A", "B", "B", "B"], "age": [30.0, 40, 50, 60, 70]})
    return table_one(df, by="arm")


def test_docx_is_a_real_document(tmp_path, small_table):
    path = small_table.save(tmp_path / "t1.docx")
    doc = Document(str(path))
    table = doc.tables[0]
    assert table.cell(0, 1).text == small_table.columns[0]
    assert table.cell(1, 0).text == small_table.body.index[0]
    assert table.cell(1, 1).text == small_table.body.iloc[0, 0]
    assert doc.paragraphs[0].text == small_table.title


def test_latex_structure(small_table):
    tex = small_table.to_latex()
    lines = tex.splitlines()
    assert lines[0] == "\\begin{table}[htbp]"
    assert "\\toprule" in lines and "\\midrule" in lines and "\\bottomrule" in lines
    body = lines[lines.index("\\midrule") + 1 : lines.index("\\bottomrule")]
    assert len(body) == len(small_table.body)
    assert all(row.count(" & ") == len(small_table.columns) for row in body)


def test_other_exports(tmp_path, small_table):
    for ext in (".html", ".md", ".csv", ".tex"):
        p = small_table.save(tmp_path / f"t{ext}")
        assert p.read_text().strip()
    back = pd.read_csv(tmp_path / "t.csv", index_col=0)
    assert back.shape == small_table.body.shape
    with pytest.raises(FileFormatError, match=r"\.xls"):
        small_table.save(tmp_path / "t.xls")
    with pytest.raises(ArgumentTypeError):
        Table(body=[1, 2])


def test_journal_presets():
    assert format_p(0.0004, "apa") == "<.001"
    assert format_p(0.0004, "nejm") == "<0.001"
    assert format_p(0.049, "jama") == ".05"
    assert format_p(0.0049, "jama") == ".005"
    assert format_ci(-0.5, 0.25, "apa", 2) == "[-0.50, 0.25]"
    assert format_ci(-0.5, 0.25, "nejm", 1) == "-0.5 to 0.3"


def test_regression_table_mixes_models():
    glm = _Fit(["Intercept", "x", "C(arm)[T.TSF]"], [0.1, 0.5, -0.2], [0.1, 0.1, 0.1], 200)
    cox = _Fit(["x"], [0.3], [0.15], 180, events=60)
    t = regression_table({"GEE": glm, "Cox": cox}, exponentiate=[False, True])
    assert t.body.loc["x", "GEE"].startswith("0.50 [")
    cox_num = t.numbers[(t.numbers.model == "Cox")]
    assert cox_num["estimate"].iloc[0] == pytest.approx(1.3498588, rel=1e-6)
    assert t.body.loc["arm: TSF", "Cox"] == ""
    assert t.body.loc["N", "GEE"] == "200" and t.body.loc["Events", "Cox"] == "60"
    with pytest.raises(ArgumentTypeError, match="tidy"):
        regression_table([object()])


def test_mediation_table_labels():
    med = _Fit(
        ["a[network]", "b[network]", "indirect[network]", "direct", "total"],
        [0.4, 0.3, 0.12, 0.2, 0.32],
        [0.1, 0.1, 0.04, 0.1, 0.1],
        300,
    )
    t = mediation_table(med)
    assert list(t.body.index) == [
        "a path: exposure → network",
        "b path: network → outcome",
        "Indirect via network",
        "Direct effect",
        "Total effect",
    ]
    assert t.body.loc["Indirect via network", "Estimate"] == "0.120"


def test_mediation_table_options():
    med = _Fit(
        ["indirect[a]", "indirect[b]", "contrast[a-b]", "prop_mediated"],
        [0.1, 0.2, -0.1, 0.4],
        [0.05, 0.05, 0.07, 9.0],
        300,
    )
    full = mediation_table(med)
    assert full.body.loc["Proportion mediated", "SE"] == ""
    assert full.body.loc["Proportion mediated", "Estimate"] == "0.400"
    short = mediation_table(med, contrasts=False)
    assert not any(i.startswith("Contrast") for i in short.body.index)
    assert any(i.startswith("Contrast") for i in full.body.index)
