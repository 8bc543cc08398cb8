"""Word layout of a demo-sized Table 1: portrait, compact rows, notes kept with the table.

The page count itself is checked on the demo's Table 1 with LibreOffice in
tests/pipeline/test_demo_output.py; these checks read the document XML.
"""

import zipfile
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.tables import table_one
from mutualaid_outcomes.tables._docx import MIN_FONT_SIZE, docx_layout

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PORTRAIT_TEXT_WIDTH = (612 - 2 * 72) * 20  # twips: US Letter less 1 in margins


@pytest.fixture(scope="module")
def wide_table_one():
    """Four arms with long names and long labels: about 25 rows, as in the demo."""
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame(
        {
            "arm": rng.choice(["CBT", "MET", "TSF"], n),
            "age": rng.normal(40, 11, n),
            "sex": rng.integers(0, 2, n),
            "site": rng.integers(1, 10, n),
            "pda": rng.uniform(0, 1, n),
            "ddd": rng.gamma(3, 4, n),
            "meetings": rng.poisson(5, n).astype(float),
            "cesd_total": rng.normal(23, 15, n),
            "audit_total": rng.normal(27, 8, n),
            "aase_conf_total": rng.normal(2.1, 1.0, n),
            "employed": rng.integers(0, 2, n),
        }
    )
    df.loc[rng.choice(n, 30, replace=False), "aase_conf_total"] = np.nan
    df.loc[rng.choice(n, 60, replace=False), "audit_total"] = np.nan
    df.loc[rng.choice(n, 9, replace=False), "cesd_total"] = np.nan
    labels = {
        "variables": {
            "arm": "Arm",
            "age": "Age at intake (years)",
            "sex": "Sex",
            "site": "Clinical site (1-5 outpatient, 6-9 aftercare)",
            "pda": "Proportion of days abstinent, 90 days before the wave (0-1)",
            "ddd": "Drinks per drinking day, 90 days before the wave",
            "meetings": "AA meetings attended, 90 days before the wave",
        },
        "values": {
            "arm": {
                "CBT": "Cognitive-Behavioural Coping Skills",
                "MET": "Motivational Enhancement",
                "TSF": "Twelve-Step Facilitation",
            },
            "sex": {0: "Male", 1: "Female"},
        },
    }
    return table_one(
        df, by="arm", labels=labels, categorical=["site"], nonnormal=["ddd", "meetings"]
    )


def _xml(path):
    return ElementTree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))


def _paragraph_props(p):
    return p.find(f"{W}pPr")


def _kept(p):
    """Whether a paragraph has keep-with-next on (``<w:keepNext/>``, not ``w:val="0"``)."""
    props = _paragraph_props(p)
    el = None if props is None else props.find(f"{W}keepNext")
    return el is not None and el.get(f"{W}val") not in ("0", "false")


def test_demo_sized_table_one_is_portrait_and_fits_the_text_width(tmp_path, wide_table_one):
    t = wide_table_one
    assert 20 <= len(t.body) <= 30 and len(t.columns) == 6
    size, widths, landscape, compact = docx_layout(t)
    assert not landscape and compact and MIN_FONT_SIZE <= size <= 10
    root = _xml(t.save(tmp_path / "t1.docx"))
    page = root.find(f".//{W}sectPr/{W}pgSz")
    assert page.get(f"{W}orient") in (None, "portrait")
    assert int(page.get(f"{W}w")) < int(page.get(f"{W}h"))
    grid = [int(c.get(f"{W}w")) for c in root.iter(f"{W}gridCol")]
    assert sum(grid) <= PORTRAIT_TEXT_WIDTH
    # the label column is the widest (labels wrap at words; numbers never do)
    assert grid[0] == max(grid)
    # forcing landscape still works
    wide = _xml(t.to_docx(tmp_path / "wide.docx", landscape=True))
    assert wide.find(f".//{W}sectPr/{W}pgSz").get(f"{W}orient") == "landscape"


def test_rows_and_notes_are_kept_with_the_next_and_spaced_compactly(tmp_path, wide_table_one):
    root = _xml(wide_table_one.save(tmp_path / "t1.docx"))
    body = root.find(f"{W}body")
    table = body.find(f"{W}tbl")
    for row in table.findall(f"{W}tr"):
        for p in row.iter(f"{W}p"):
            props = _paragraph_props(p)
            # every row, the last one too, is kept with what follows (the notes)
            assert _kept(p)
            spacing = props.find(f"{W}spacing")
            assert spacing.get(f"{W}before") == "20" and spacing.get(f"{W}after") == "0"
    after = list(body)[list(body).index(table) + 1 :]
    notes = [p for p in after if p.tag == f"{W}p" and "".join(p.itertext()).strip()]
    assert len(notes) >= 3 and "".join(notes[0].itertext()).startswith("Note.")
    keeps = [_kept(p) for p in notes]
    assert keeps == [True] * (len(notes) - 1) + [False]
    # the title is kept with the table
    title = [p for p in list(body)[: list(body).index(table)] if p.tag == f"{W}p"]
    assert all(_kept(p) for p in title)


def test_font_size_follows_the_journal_preset(tmp_path):
    df = pd.DataFrame({"g": ["a", "b"] * 10, "x": np.arange(20.0)})
    sizes = {}
    for style in ("apa", "jama"):
        root = _xml(table_one(df, by="g", style=style).save(tmp_path / f"{style}.docx"))
        table = root.find(f"{W}body/{W}tbl")
        sizes[style] = {int(s.get(f"{W}val")) for s in table.iter(f"{W}sz") if s.get(f"{W}val")}
    # half-points: APA 10 pt, AMA 9 pt (a narrow table needs no compaction)
    assert sizes == {"apa": {20}, "jama": {18}}
