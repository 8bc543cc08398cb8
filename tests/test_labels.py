"""The label resolver every table, figure and summary uses (mutualaid_outcomes._labels)."""

import pandas as pd
import pytest

from mutualaid_outcomes._labels import Labels, instrument_label, resolve_labels
from mutualaid_outcomes.datasets import load_sample
from mutualaid_outcomes.errors import ArgumentTypeError
from mutualaid_outcomes.io import Codebook, Variable, set_codebook


@pytest.fixture(scope="module")
def codebook():
    return Codebook(
        [
            Variable(
                "arm", "Treatment arm", value_labels={"CBT": "CBT", "MET": "MET", "TSF": "TSF"}
            ),
            Variable("sex", "Sex", value_labels={0: "Male", 1: "Female"}),
            Variable("cesd_total", "CES-D from the codebook"),
        ]
    )


def test_sources_in_order(codebook):
    lab = Labels(variables={"sex": "Gender"}, codebook=codebook)
    assert lab.variable("sex") == "Gender"  # explicit beats the codebook
    assert lab.variable("arm") == "Treatment arm"  # codebook
    assert lab.variable("cesd_total") == "CES-D from the codebook"  # codebook beats spec
    assert Labels().variable("cesd_total") == "Depressive symptoms (CES-D)"  # instrument spec
    assert instrument_label("cesd_total") == "Depressive symptoms (CES-D)"
    assert Labels().variable("no_such_column") == "no_such_column"
    assert Labels().variable("cesd_total_t9") == "Depressive symptoms (CES-D), time 9"


def test_readable_terms(codebook):
    lab = Labels(codebook=codebook)
    assert lab.term("C(arm, Treatment('CBT'))[T.MET]") == "Treatment arm: MET vs CBT"
    assert lab.term("C(arm)[T.TSF]", reference="CBT") == "Treatment arm: TSF vs CBT"
    assert lab.term("sex") == "Sex: Female vs Male"  # labelled 0/1 shows its contrast
    assert lab.term("C(arm)[T.MET]:sex") == "Treatment arm: MET × Sex: Female vs Male"
    assert lab.term("Intercept") == "(Intercept)"
    assert lab.reference_level("arm", ["MET", "TSF"]) == "CBT"
    assert lab.reference_level("arm", ["MET"]) is None  # ambiguous
    assert lab.binary_levels("sex") == ("Female", "Male")
    assert lab.binary_levels("arm") is None


def test_resolve_labels_forms_and_attached_codebook(codebook):
    df = set_codebook(pd.DataFrame({"arm": ["CBT"], "sex": [1]}), codebook)
    assert resolve_labels(None, None, df).variable("arm") == "Treatment arm"
    spec_form = {"variables": {"arm": "Arm"}, "values": {"sex": {"1": "Woman"}}}
    lab = resolve_labels(spec_form, None, df)
    assert lab.variable("arm") == "Arm" and lab.value("sex", 1) == "Woman"
    flat = resolve_labels({"arm": "Arm", "sex": {0: "M", 1: "F"}})
    assert flat.variable("arm") == "Arm" and flat.value("sex", 0) == "M"
    merged = Labels(variables={"a": "A"}).merged({"b": "B"})
    assert (merged.variable("a"), merged.variable("b")) == ("A", "B")
    with pytest.raises(ArgumentTypeError, match="labels"):
        resolve_labels(["age"])


def test_sample_frames_are_labelled():
    p = load_sample("participants")
    lab = resolve_labels(None, None, p)
    assert lab.variable("arm") == "Randomised treatment arm"
    assert lab.value("sex", 1) == "Female"
    assert "arm" in load_sample("participants").attrs["mutualaid_codebook"]
