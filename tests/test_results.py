import numpy as np
import pandas as pd
import pytest
from scipy import stats

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
