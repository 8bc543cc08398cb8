"""Term labels for summaries and the report: one resolver with the tables."""

from types import SimpleNamespace

from mutualaid_outcomes._labels import Labels
from mutualaid_outcomes.tables.term_labels import coefficient_labels, result_term_labels

ARM = Labels(
    variables={"arm": "Arm", "sex": "Sex"},
    values={
        "arm": {"CBT": "CBT", "MET": "MET", "TSF": "TSF"},
        "sex": {0: "Male", 1: "Female"},
    },
)


def test_factor_terms_name_their_reference_from_the_term_or_the_value_labels():
    stated = coefficient_labels(["C(arm, Treatment('CBT'))[T.MET]"], ARM)
    assert stated == {"C(arm, Treatment('CBT'))[T.MET]": "Arm: MET vs CBT"}
    implied = coefficient_labels(["Intercept", "C(arm)[T.MET]", "C(arm)[T.TSF]", "sex"], ARM)
    assert implied == {
        "Intercept": "(Intercept)",
        "C(arm)[T.MET]": "Arm: MET vs CBT",
        "C(arm)[T.TSF]": "Arm: TSF vs CBT",
        "sex": "Sex: Female vs Male",
    }
    # interaction of a factor level with a labelled binary
    assert coefficient_labels(["C(arm)[T.MET]:sex"], ARM)["C(arm)[T.MET]:sex"] == (
        "Arm: MET × Sex: Female vs Male"
    )


def test_result_labels_for_mediation_effects_and_km_medians():
    lab = Labels(variables={"x": "Meetings", "y": "PDA", "m1": "Efficacy", "m2": "Craving"})
    med = SimpleNamespace(exposure="x", outcome="y")
    got = result_term_labels(
        med, ["a[m1]", "b[m2]", "indirect[m1]", "contrast[m1-m2]", "direct", "prop_mediated"], lab
    )
    assert got == {
        "a[m1]": "a path: Meetings → Efficacy",
        "b[m2]": "b path: Craving → PDA",
        "indirect[m1]": "Indirect via Efficacy",
        "contrast[m1-m2]": "Contrast: Efficacy − Craving",
        "direct": "Direct effect",
        "prop_mediated": "Proportion mediated",
    }
    km = SimpleNamespace(by="arm")
    assert result_term_labels(km, ["median[MET]"], ARM) == {"median[MET]": "Median: MET"}
    # a regression result with a coefficient called "total" is not a mediation
    fit = SimpleNamespace()
    assert result_term_labels(fit, ["total", "C(arm)[T.TSF]"], ARM) == {
        "total": "total",
        "C(arm)[T.TSF]": "Arm: TSF",  # CBT or MET: the reference is not known
    }
