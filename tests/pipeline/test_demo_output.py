"""The output of ``mutualaid demo``: files, labels, captions and the Word Table 1.

The demo runs once for the module (about half a minute on two cores).
"""

import re
import shutil
import subprocess
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

from mutualaid_outcomes.cli import app

RAW_TERM = ("C(", "[T.", "Treatment(")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_cli_demo_writes_full_output(demo):
    out = demo
    tables = {p.name for p in (out / "tables").iterdir()}
    assert {"table1.docx", "table2_models.tex", "table3_mediation.csv"} <= tables
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"figure2_km_first_heavy.pdf", "figure4_path_diagram.png"} <= figures
    med = pd.read_csv(out / "tables" / "model_lagged_mediation_tidy.csv")
    assert {"indirect[aase_conf_total_t9]", "total_indirect", "direct"} <= set(med["term"])
    cox = pd.read_csv(out / "tables" / "model_cox_attendance_tidy.csv").set_index("term")
    # the sample cohort's documented hazard ratio of attendance is 0.6 (src/mutualaid_outcomes/datasets/sample/TRUTH.md)
    lo, hi = cox.loc["attended_30d", ["conf_low", "conf_high"]]
    assert lo < -0.5108 < hi
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 2 and "already exists" in res.output


def _text(path):
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            return z.read("word/document.xml").decode("utf-8")
    return path.read_text(encoding="utf-8")


def test_no_raw_model_terms_in_the_report_or_the_tables(demo):
    report = (demo / "report.html").read_text(encoding="utf-8")
    report = re.sub(r"src='data:image/png;base64,[^']*'", "", report)
    assert not [raw for raw in RAW_TERM if raw in report]
    assert "Randomised treatment arm: Motivational Enhancement vs Cognitive-Behavioural" in report
    assert "Indirect via Abstinence self-efficacy (AASE confidence)" in report
    checked = 0
    for path in sorted((demo / "tables").iterdir()):
        if path.name.startswith("model_") and path.name.endswith("_tidy.csv"):
            # the tidy files keep the coefficient names (to match them with R's) and
            # carry the readable label next to them
            tidy = pd.read_csv(path)
            assert list(tidy.columns[:2]) == ["term", "label"], path.name
            text = tidy["label"].astype(str).str.cat(sep="\n")
        else:
            text = _text(path)
        assert not [raw for raw in RAW_TERM if raw in text], path.name
        checked += 1
    assert checked >= 16
    gee = pd.read_csv(demo / "tables" / "model_gee_pda_tidy.csv").set_index("term")
    assert gee.loc["C(arm, Treatment('CBT'))[T.TSF]", "label"] == (
        "Randomised treatment arm: Twelve-Step Facilitation vs Cognitive-Behavioural Coping Skills"
    )


def test_each_report_table_has_one_numbered_caption(demo):
    report = (demo / "report.html").read_text(encoding="utf-8")
    body = report.split("</nav>", 1)[1]
    titles = {
        1: "Baseline characteristics by treatment arm",
        2: "Percent days abstinent (GEE) and hazard of the first heavy drinking day (Cox)",
        3: "Mechanisms of AA&#x27;s effect on percent days abstinent at month 15",
    }
    for number, title in titles.items():
        assert body.count(title) == 1, title
        assert re.search(rf"<caption[^>]*><b>Table {number}</b><br><i>{re.escape(title)}</i>", body)
    assert not re.search(r"<h2>Table \d", body)
    # the contents still list the tables
    assert "Table 1. Baseline characteristics by treatment arm</a>" in report


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("soffice", "pdfinfo", "pdftotext")),
    reason="LibreOffice or poppler is not installed",
)
def test_word_table_one_fits_one_portrait_page_with_its_notes(demo, tmp_path):
    path = demo / "tables" / "table1.docx"
    run = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    info = subprocess.run(["pdfinfo", str(tmp_path / "table1.pdf")], capture_output=True, text=True)
    fields = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)
    assert int(fields["Pages"]) == 1
    width, height = (float(v) for v in fields["Page size"].split()[0:3:2])
    assert width < height  # portrait
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "table1.pdf"), "-"], capture_output=True, text=True
    ).stdout
    # the notes are on that page, under the last row
    assert text.index("Hazardous and harmful") < text.index("Note.") < text.index("Kruskal")
