"""meta_table(): rows, numbers, footnotes and exports."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import OptionError
from mutualaid_outcomes.models.meta import effect_sizes, meta_analysis
from mutualaid_outcomes.tables import Table, meta_table

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "meta_bcg.csv")
    raw = raw.assign(n1=raw.tpos + raw.tneg, n2=raw.cpos + raw.cneg)
    return effect_sizes(raw, "RR", events1="tpos", n1="n1", events2="cpos", n2="n2")


def test_study_table(bcg, tmp_path):
    res = meta_analysis(bcg, study="author")
    t = meta_table(res, exponentiate=True, title="BCG vaccine trials")
    assert isinstance(t, Table)
    assert t.columns == ["RR", "95% CI", "Weight, %"]
    assert t.body.index[0] == "Aronson"
    tidy = res.tidy(exponentiate=True).iloc[0]
    overall = t.body.loc["Overall, RE model (k = 13)"]
    assert overall.tolist() == [
        f"{tidy['estimate']:.2f}",
        f"[{tidy['conf_low']:.2f}, {tidy['conf_high']:.2f}]",
        "100.0",
    ]
    pi = t.body.loc["Prediction interval", "95% CI"]
    g = res.glance().iloc[0]
    assert pi == f"[{np.exp(g['pi_low']):.2f}, {np.exp(g['pi_high']):.2f}]"
    assert any("I² = 92.2%" in n and "Q(12) = 152.23" in n for n in t.footnotes)
    pd.testing.assert_frame_equal(t.numbers, res.studies())
    assert "\\tau" in t.to_latex() and "τ²" in t.to_html()
    out = t.save(tmp_path / "meta.docx")
    with zipfile.ZipFile(out) as z:
        assert "Aronson" in z.read("word/document.xml").decode()
    assert "| Aronson | 0.41 |" in t.to_markdown()


def test_subgroup_and_regression_tables(bcg):
    t = meta_table(meta_analysis(bcg, study="author", by="alloc"), exponentiate=True)
    assert "alloc = random" in t.body.index
    assert t.body.loc["Subtotal, random (k = 7)", "RR"] == "0.38"
    assert len(t.indent) == 13 + 3
    assert any(n.startswith("Test for subgroup differences: Q(2) = 1.86") for n in t.footnotes)
    reg = meta_analysis(bcg, moderators=["ablat"], test="knha")
    t = meta_table(reg, style="jama")
    assert t.columns == ["Log RR", "95% CI", "p"] and list(t.body.index) == ["(Intercept)", "ablat"]
    assert any(n.startswith("Test of moderators: F(1, 11) = 12.59") for n in t.footnotes)


def test_meta_table_bad_input(bcg):
    with pytest.raises(OptionError, match="needs the result of meta_analysis"):
        meta_table(bcg)
    smd = pd.DataFrame({"yi": [0.1, 0.3, 0.2], "vi": [0.01, 0.02, 0.03]})
    with pytest.raises(OptionError, match="not meaningful"):
        meta_table(meta_analysis(smd, measure="SMD"), exponentiate=True)
