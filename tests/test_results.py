import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mutualaid_outcomes._formatting import get_style
from mutualaid_outcomes._summary import _format_frame
from mutualaid_outcomes.errors import ArgumentTypeError, OptionError
from mutualaid_outcomes.results import (
    TIDY_COLUMNS,
    BaseResult,
    Summary,
    exponentiate_tidy,
    glance_frame,
    wald_table,
)


class _Toy(BaseResult):
    def __init__(self):
        self.est = np.array([0.2, -0.1])
        self.se = np.array([0.1, 0.05])

    def _tidy(self, conf_level):
        return wald_table(["a", "b"], self.est, self.se, conf_level)

    def glance(self):
        return glance_frame({"n": 5, "method": "toy"}, ["n", "n_dropped", "method"])


def test_wald_table_matches_scipy():
    t = wald_table(["a"], [1.5], [0.5], conf_level=0.9, df=12)
    q = stats.t(12).ppf(0.95)
    assert t.loc[0, "statistic"] == pytest.approx(3.0)
    assert t.loc[0, "p_value"] == pytest.approx(2 * stats.t(12).sf(3.0))
    assert t.loc[0, "conf_low"] == pytest.approx(1.5 - q * 0.5)
    assert tuple(t.columns) == TIDY_COLUMNS


def test_exponentiate_keeps_se_on_log_scale():
    t = wald_table(["a"], [np.log(2)], [0.1])
    e = exponentiate_tidy(t)
    assert e.loc[0, "estimate"] == pytest.approx(2.0)
    assert e.loc[0, "std_error"] == pytest.approx(0.1)
    assert e.loc[0, "conf_low"] == pytest.approx(np.exp(t.loc[0, "conf_low"]))
    assert t.loc[0, "estimate"] == pytest.approx(np.log(2))  # input untouched


def test_result_contract_renders():
    r = _Toy()
    s = r.summary()
    assert "toy" in s.as_text()
    assert s.as_html().count("<tr>") >= 3
    latex = s.as_latex()
    assert "\\toprule" in latex and "\\bottomrule" in latex
    assert list(r.glance().columns) == ["n", "n_dropped", "method"]
    assert np.isnan(r.glance().loc[0, "n_dropped"])
    assert r._repr_html_().startswith("<div")


def test_tidy_conf_level_changes_interval_only():
    r = _Toy()
    a, b = r.tidy(0.95), r.tidy(0.5)
    pd.testing.assert_series_equal(a["estimate"], b["estimate"])
    assert (a["conf_high"] - a["conf_low"] > b["conf_high"] - b["conf_low"]).all()


def test_cannot_exponentiate_when_not_meaningful():
    class _NoExp(_Toy):
        _can_exponentiate = False

    with pytest.raises(OptionError, match="exponentiate"):
        _NoExp().tidy(exponentiate=True)


def test_glance_frame_rejects_unknown_columns():
    with pytest.raises(KeyError):
        glance_frame({"bogus": 1}, ["n"])


def test_base_result_protocol_defaults_name_the_class():
    r = _Toy()
    for member in ("coef", "vcov"):
        with pytest.raises(NotImplementedError, match="_Toy has no coefficients"):
            getattr(r, member)()
    for member in ("terms", "nobs", "df_resid"):
        with pytest.raises(NotImplementedError, match="_Toy has no coefficients"):
            getattr(r, member)


def test_summary_rounds_with_decimals():
    t = wald_table(["a"], [1.23456], [0.5])
    s = Summary("x", t, glance_frame({"n": 3}, ["n"]), decimals=2)
    assert "1.23 " in s.as_text() and "1.235" not in s.as_text()
    assert "1.235" in Summary("x", t, glance_frame({"n": 3}, ["n"])).as_text()
    with pytest.raises(ArgumentTypeError, match=r"Summary\(\) got the keyword `digits`"):
        Summary("x", t, glance_frame({"n": 3}, ["n"]), digits=2)


def test_summary_shows_ratios_like_summary_coxph():
    from mutualaid_outcomes import fit_cox, fit_regression

    rng = np.random.default_rng(2)
    d = pd.DataFrame({"x": rng.normal(size=200), "g": rng.integers(0, 2, 200)})
    d["t"] = rng.exponential(np.exp(-0.5 * d.x))
    d["e"] = rng.binomial(1, 0.8, 200)
    d["y"] = rng.binomial(1, 1 / (1 + np.exp(-d.x)))
    d["c"] = rng.poisson(np.exp(0.3 * d.x))
    cox = fit_cox(d, "t", "e", ["x", "g"])
    s = cox.summary()
    hr = cox.tidy(exponentiate=True)
    assert s.ratio_name == "HR" and list(s.ratios.columns) == [
        "term", "HR", "1/HR", "lower 95%", "upper 95%"
    ]  # fmt: skip
    np.testing.assert_allclose(s.ratios["HR"], hr["estimate"], rtol=1e-12)
    np.testing.assert_allclose(s.ratios["1/HR"], 1 / hr["estimate"], rtol=1e-12)
    np.testing.assert_allclose(s.ratios["lower 95%"], hr["conf_low"], rtol=1e-12)
    text = s.as_text()
    assert "Hazard ratios (HR)" in text and f"{hr['estimate'][0]:.3f}" in text
    page = s.as_html()
    assert "Hazard ratios" in page and "1/HR" in s.as_latex()
    # coefficients first, then the ratios, then the fit statistics
    assert page.index("class='tidy'") < page.index("Hazard ratios") < page.index("class='glance'")
    assert "text-align:left'>x</td>" in page
    logit = fit_regression(d, "y ~ x + g", family="binomial").summary()
    assert logit.ratio_name == "OR" and logit.ratios["term"].tolist() == ["x", "g"]
    assert fit_regression(d, "c ~ x", family="poisson").summary().ratio_name == "IRR"
    assert fit_regression(d, "x ~ g").summary().ratios is None  # identity link: no ratios
    assert cox.summary(exponentiate=True).ratios is None  # ratios already in the table


def test_summary_uses_one_format_per_column_and_integer_counts():
    t = pd.DataFrame({"term": ["a", "b"], "estimate": [4.152e-04, -0.0012]})
    g = pd.DataFrame({"n_ids": [1516.0], "loglik": [-10.5], "df_resid": [12.0]})
    text = Summary("x", t, g).as_text()
    assert "n_ids" in text and "1516" in text and "1516.000" not in text
    assert "df_resid  12" in text.replace("   ", "  ") or " 12\n" in text
    # one tiny value does not turn the column scientific and is not hidden behind a
    # floor: fixed notation with two significant digits
    assert "0.00042" in text and "-0.001" in text and "e-0" not in text
    fixed = Summary("x", pd.DataFrame({"term": ["a"], "estimate": [0.25]}), g).as_text()
    assert "0.250" in fixed


def test_summary_keeps_fixed_decimals_with_floors_and_formats_p_by_preset():
    t = pd.DataFrame(
        {
            "term": ["a", "b", "c"],
            "estimate": [0.271, -9.456e-05, 1.5],
            "p_value": [0.7589, 0.0312, 2.3e-12],
            "conf_low": [-9.456e-05, 0.0, 1.07],
        }
    )
    g = pd.DataFrame({"lr_p_value": [9.023e-51], "qic": [3.2e7], "alpha": [0.629]})
    plain = Summary("x", t, g)
    rows = _format_frame(t, 3)
    assert rows["estimate"].tolist() == ["0.271", "-0.000095", "1.500"]
    assert rows["conf_low"].tolist() == ["-0.000095", "0.000", "1.070"]
    tiny = _format_frame(pd.DataFrame({"estimate": [3e-9, -4.1e-4]}), 3)
    assert tiny["estimate"].tolist() == ["<0.00000001", "-0.00041"]
    assert rows["p_value"].tolist() == ["0.759", "0.031", "<0.001"]
    assert "lr_p_value  <0.001" in plain.as_text()
    apa = _format_frame(t, 3, get_style("apa"))
    assert apa["p_value"].tolist() == [".759", ".031", "<.001"]
    jama = Summary("x", t, g, style="jama")
    assert _format_frame(t, 3, jama.style)["p_value"].tolist() == [".76", ".03", "<.001"]
    text = jama.as_text()
    assert "lr_p_value  <.001" in text and "alpha       0.629" in text
    assert "3.200e+07" in text  # only values of 1e7 and more are scientific
    html = jama.as_html()
    assert "e-05" not in html and "e-51" not in html


def test_relabelled_summary_is_a_new_object_with_labelled_terms():
    t = pd.DataFrame({"term": ["C(arm)[T.MET]", "x"], "estimate": [1.0, 2.0]})
    ratios = pd.DataFrame({"term": ["C(arm)[T.MET]"], "HR": [2.7]})
    s = Summary("x", t, pd.DataFrame(), ratios=ratios, ratio_name="HR")
    r = s.relabelled({"C(arm)[T.MET]": "Arm: MET vs CBT"}, style="apa")
    assert r.tidy["term"].tolist() == ["Arm: MET vs CBT", "x"]
    assert r.ratios["term"].tolist() == ["Arm: MET vs CBT"]
    assert s.tidy["term"].tolist() == ["C(arm)[T.MET]", "x"] and s.style is None
    assert r.style.name == "apa" and "C(arm)" not in r.as_html()
