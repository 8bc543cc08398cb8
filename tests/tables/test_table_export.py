import shutil
import subprocess

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
    df = pd.DataFrame(
        {
            "arm": ["A", "A", "B", "B", "B"],
            "age": [30.0, 40, 50, 60, 70],
            "site": ["north", "south", "north", "north", "south"],
        }
    )
    return table_one(df, by="arm")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_xml(path):
    import zipfile
    from xml.etree import ElementTree

    return ElementTree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))


def test_docx_is_a_real_document(tmp_path, small_table):
    path = small_table.save(tmp_path / "t1.docx")
    doc = Document(str(path))
    table = doc.tables[0]
    # headers wrap between words but never inside "n = 5"; body cells never break
    assert table.cell(0, 1).text == "Overall (n\u00a0=\u00a05)"
    # the statistic of a row label does not break either ("M (SD)")
    assert table.cell(1, 0).text == small_table.body.index[0].replace(" (", "\u00a0(")
    assert table.cell(1, 1).text == small_table.body.iloc[0, 0].replace(" ", "\u00a0")
    # APA: bold table number, then the italic title, then the notes
    number, caption = small_table.number_and_caption
    assert [doc.paragraphs[0].text, doc.paragraphs[1].text] == [number, caption]
    assert doc.paragraphs[0].runs[0].bold and doc.paragraphs[1].runs[0].italic
    assert doc.paragraphs[2].text.startswith("Note. SMD")
    assert any(p.text == "aWelch's t test." for p in doc.paragraphs)


def test_docx_has_journal_rules_and_content_widths(tmp_path, small_table):
    root = _docx_xml(small_table.save(tmp_path / "t1.docx"))
    tbl = root.find(f".//{W}tbl")
    # no table-level grid: every table border is nil
    borders = tbl.find(f"{W}tblPr/{W}tblBorders")
    assert {b.get(f"{W}val") for b in borders} == {"nil"}
    rows = tbl.findall(f"{W}tr")

    def side(row, name):
        out = set()
        for tc in row.findall(f"{W}tc"):
            el = tc.find(f"{W}tcPr/{W}tcBorders/{W}{name}")
            out.add(None if el is None else (el.get(f"{W}val"), el.get(f"{W}sz")))
        return out

    assert side(rows[0], "top") == {("single", "12")}  # heavy rule above the header
    assert side(rows[0], "bottom") == {("single", "6")}  # light rule under it
    assert side(rows[-1], "bottom") == {("single", "12")}  # heavy rule at the bottom
    for row in rows[1:-1]:
        assert side(row, "bottom") <= {None, ("nil", None)}
    for row in rows:  # no vertical lines
        assert side(row, "left") <= {None, ("nil", None)}
        assert side(row, "right") <= {None, ("nil", None)}
    widths = [int(g.get(f"{W}w")) for g in tbl.findall(f"{W}tblGrid/{W}gridCol")]
    assert len(widths) == 1 + len(small_table.columns) and len(set(widths)) > 3
    assert widths[0] == max(widths)  # the label column is the widest here
    # level rows are indented with a paragraph indent, not with spaces
    indents = [el.get(f"{W}left") for el in tbl.iter(f"{W}ind")]
    assert len(indents) == len(small_table.indent) and all(int(i) > 0 for i in indents)
    assert not any(r[0].startswith(" ") for r in small_table.rows())
    # a short table stays on one page: rows do not split and keep with the next row,
    # the header repeats if it ever breaks
    assert all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in rows)
    assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None
    for row in rows[:-1]:
        assert all(p.find(f"{W}pPr/{W}keepNext") is not None for p in row.iter(f"{W}p"))


def test_docx_switches_wide_tables_to_landscape(tmp_path):
    wide = Table(pd.DataFrame({f"Model {i}": ["0.123 [0.012, 0.456]"] for i in range(9)},
                              index=["Attendance"]), title="Table 2. Models")  # fmt: skip
    root = _docx_xml(wide.save(tmp_path / "wide.docx"))
    assert root.find(f".//{W}sectPr/{W}pgSz").get(f"{W}orient") == "landscape"
    root = _docx_xml(Table(wide.body.iloc[:, :2]).save(tmp_path / "narrow.docx"))
    assert root.find(f".//{W}sectPr/{W}pgSz").get(f"{W}orient") in (None, "portrait")


def test_latex_structure(small_table):
    tex = small_table.to_latex()
    lines = tex.splitlines()
    assert lines[1] == "\\begin{table}[htbp]"
    assert "\\begin{threeparttable}" in lines and "\\begin{tablenotes}[flushleft]" in lines
    # the caption carries no "Table 1." prefix: LaTeX numbers the table
    assert "\\caption{Participant characteristics}" in lines
    assert "\\toprule" in lines and "\\midrule" in lines and "\\bottomrule" in lines
    body = lines[lines.index("\\midrule") + 1 : lines.index("\\bottomrule")]
    assert len(body) == len(small_table.body)
    assert all(row.count(" & ") == len(small_table.columns) for row in body)
    assert body[2].startswith("\\hspace*{1.2em}")  # a level row
    assert "\\tnote{a}" in body[0] and "\\item[a] Welch's t test." in lines


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(tmp_path, small_table):
    doc = (
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        "\\usepackage{threeparttable}\n\\begin{document}\n"
        + small_table.to_latex()
        + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc)
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000


def test_html_keeps_labels_left_and_indented(small_table):
    html = small_table.to_html()
    assert "text-align:left" in html.replace(" ", "")
    assert "padding-left" in html  # level rows are visibly indented
    assert html.count("<tr") == 1 + len(small_table.body) + 1  # header, rows, notes


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
    assert t.spanners == [("GEE", 0, 1), ("Cox", 2, 3)]
    assert t.columns == ["Estimate (95% CI)", "p", "Ratio (95% CI)", "p"]
    assert t.body.loc["x", ("GEE", "Estimate (95% CI)")].startswith("0.50 [")
    cox_num = t.numbers[(t.numbers.model == "Cox")]
    assert cox_num["estimate"].iloc[0] == pytest.approx(1.3498588, rel=1e-6)
    assert t.body.loc["TSF", ("Cox", "Ratio (95% CI)")] == ""
    assert t.body.loc["N"].tolist() == ["200", "", "180", ""]
    assert t.body.loc["Events"].tolist() == ["", "", "60", ""]
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


def test_latex_wraps_long_labels_and_headers():
    long = Table(
        pd.DataFrame(
            {"Cognitive-Behavioural Coping Skills (n = 575)": ["1"]},
            index=["Proportion of heavy drinking days, 90 days before the wave"],
        ),
        indent=[0],
    )
    tex = long.to_latex()
    assert "\\begin{tabular}{p{14em}c}" in tex
    row = next(x for x in tex.splitlines() if x.startswith("\\raggedright"))
    assert row.endswith("\\tabularnewline") and "\\hspace*{1.2em}" in row
    assert "Cognitive-Behavioural \\\\ Coping Skills \\\\ (n = 575)" in tex


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdfinfo") is None,
    reason="LibreOffice or poppler is not installed",
)
def test_eight_row_table_one_renders_on_one_page(tmp_path):
    from mutualaid_outcomes.datasets import load_sample

    p = load_sample("participants")
    t = table_one(p, by="arm", variables=["age", "sex", "trial", "last_month"])
    assert len(t.body) >= 6
    path = t.save(tmp_path / "t1.docx")
    run = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    info = subprocess.run(["pdfinfo", str(tmp_path / "t1.pdf")], capture_output=True, text=True)
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert pages == 1
