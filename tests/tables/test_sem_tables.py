"""SEM parameter and fit tables (tables/sem_tables.py) and their exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from docx import Document

from mutualaid_outcomes.errors import ArgumentTypeError
from mutualaid_outcomes.models.sem import fit_sem, latent_mediation
from mutualaid_outcomes.tables.sem_tables import sem_fit_table, sem_table

DATA = Path(__file__).resolve().parents[1] / "data"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(DATA / "sem_holzinger_swineford.csv")


@pytest.fixture(scope="module")
def cfa(hs):
    return fit_sem(hs, HS)


def test_parameter_table_sections_and_cells(cfa):
    t = sem_table(cfa, labels={"visual": "Visual"})
    idx = t.body.index.tolist()
    assert idx[0] == "Measurement model" and idx[1] == "Visual → x2"
    assert {"Covariances", "Variances"} <= set(idx)
    assert "Visual → x1" not in idx  # fixed marker loading listed only with fixed=True
    assert "Visual → x1" in sem_table(cfa, fixed=True, labels={"visual": "Visual"}).body.index
    row = t.body.loc["Visual → x2"]
    td = cfa.tidy().set_index("term").loc["visual =~ x2"]
    assert row["Estimate"] == f"{td['estimate']:.2f}"
    assert row["Std."] == f"{td['std_all']:.2f}"
    assert row["p"] == "<.001"
    assert t.indent and 0 not in t.indent
    assert "ML estimation; N = 301; model SEs (expected information)." in t.footnotes


def test_multigroup_and_defined_sections(hs):
    res = fit_sem(hs, "visual =~ x1 + a*x2 + x3\nd := a*2", group="school")
    idx = sem_table(res).body.index.tolist()
    assert "Measurement model (Pasteur)" in idx and "Measurement model (Grant-White)" in idx
    assert idx[-2:] == ["Defined effects", "d"]


def test_fit_table_side_by_side_with_scaled_statistics(hs, cfa):
    mlr = fit_sem(hs, HS, estimator="MLR")
    t = sem_fit_table({"ML": cfa, "MLR": mlr})
    assert t.columns == ["ML", "MLR"]
    g, gm = cfa.glance().iloc[0], mlr.glance().iloc[0]
    assert t.body.loc["χ² (df)", "ML"] == f"{g['chisq']:.1f} (24)"
    assert t.body.loc["χ² (df)", "MLR"] == f"{gm['chisq_scaled']:.1f} (24)"
    assert t.body.loc["CFI", "MLR"] == f"{gm['cfi_scaled']:.3f}"
    assert t.body.loc["RMSEA [90% CI]", "ML"].startswith(f"{g['rmsea']:.3f} [")
    assert t.body.loc["N", "ML"] == "301"
    assert any("Yuan-Bentler" in n for n in t.footnotes)


def test_exports(tmp_path, cfa):
    t = sem_table(cfa, title="Table 2. CFA")
    doc = Document(str(t.save(tmp_path / "sem.docx")))
    assert doc.tables[0].cell(1, 0).text == "Measurement model"
    assert "\\toprule" in t.to_latex() and "<table" in t.to_html()
    f = sem_fit_table(cfa)
    assert "| χ² (df) |" in f.to_markdown()


def test_latent_mediation_result_and_bad_input(hs):
    med = pd.read_csv(DATA / "sem_latent_mediation.csv")
    res = latent_mediation(med, "x", ["support"], "y", indicators={"support": ["s1", "s2", "s3"]})
    assert "Defined effects" in sem_table(res).body.index
    assert sem_fit_table([res]).columns == ["Model 1"]
    with pytest.raises(ArgumentTypeError, match="must be a fitted SEM result"):
        sem_table(hs)
