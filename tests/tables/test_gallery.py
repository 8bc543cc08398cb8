"""docs/gallery/tables.py writes every table kind on the sample cohort."""

import importlib.util
import zipfile
from pathlib import Path

import pytest

GALLERY = Path(__file__).parents[2] / "docs" / "gallery" / "tables.py"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.mark.slow
def test_gallery_writes_every_table_and_format(tmp_path):
    from xml.etree import ElementTree

    spec = importlib.util.spec_from_file_location("gallery_tables", GALLERY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(tmp_path)])
    names = ("table1", "regression", "mediation", "survival")
    for name in names:
        for ext in module.FORMATS:
            assert (tmp_path / f"{name}{ext}").stat().st_size > 200, (name, ext)
        root = ElementTree.fromstring(
            zipfile.ZipFile(tmp_path / f"{name}.docx").read("word/document.xml")
        )
        widths = [int(g.get(f"{W}w")) for g in root.iter(f"{W}gridCol")]
        assert len(set(widths)) > 2, name  # content-sized, not equal columns
    md = {n: (tmp_path / f"{n}.md").read_text() for n in names}
    # labels from the sample codebook, never raw names or patsy terms
    assert "Twelve-Step Facilitation (n = 576)" in md["table1"]
    assert "Sex: Female, n (%)" in md["table1"]
    assert "Cognitive-Behavioural Coping Skills (ref.)" in md["regression"]
    assert "Sex: Female vs Male" in md["regression"] and "C(arm" not in md["regression"]
    assert "a path: AA meetings (per 10) → Social network" in md["mediation"]
    assert "Twelve-Step Facilitation" in md["survival"]
    # the tests chosen for Table 1: ANOVA (3 arms), chi-square, Kruskal-Wallis
    assert "One-way analysis of variance." in md["table1"]
    assert "Kruskal–Wallis test." in md["table1"]
