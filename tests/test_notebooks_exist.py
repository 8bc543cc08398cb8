"""Structure of the worked-example notebooks (their execution is checked by nbmake)."""

import ast
import json

import pytest

EXPECTED = [
    "01_quickstart.ipynb",
    "02_instruments_and_participation.ipynb",
    "03_mechanisms.ipynb",
    "04_relapse.ipynb",
    "05_publication_outputs.ipynb",
    "06_self_selection_and_missing_data.ipynb",
    "07_meta_analysis.ipynb",
    "08_survey_weights.ipynb",
    "09_sem.ipynb",
]


@pytest.fixture(scope="module")
def load(paths):
    """``load(name)``: a notebook of ``notebooks/`` as parsed JSON."""

    def get(name: str) -> dict:
        return json.loads((paths.notebooks / name).read_text(encoding="utf-8"))

    return get


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_clean(name, load):
    nb = load(name)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    markdown_cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert code_cells and markdown_cells
    # committed without outputs, so diffs show code changes only
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code_cells)
    # the first cell explains the research question
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert "".join(nb["cells"][0]["source"]).startswith("# ")


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_code_parses(name, load):
    for cell in load(name)["cells"]:
        if cell["cell_type"] == "code":
            ast.parse("".join(cell["source"]))


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_writes_only_to_temporary_folders(name, load):
    source = "\n".join(
        "".join(c["source"]) for c in load(name)["cells"] if c["cell_type"] == "code"
    )
    for call in ("save_figure(", ".save(", ".to_docx(", ".to_csv(", "write_data("):
        if call in source:
            assert "tempfile.mkdtemp(" in source
