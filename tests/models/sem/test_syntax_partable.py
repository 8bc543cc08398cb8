"""lavaan syntax parsing and the parameter-table defaults of lavaan's sem()."""

from __future__ import annotations

import numpy as np
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, ColumnNotFoundError, OptionError
from mutualaid_outcomes.models.sem import ModelSyntaxError
from mutualaid_outcomes.models.sem.partable import build_partable
from mutualaid_outcomes.models.sem.syntax import parse_model

COLS = [f"x{i}" for i in range(1, 10)] + ["y", "z", "c"]


def rows(pt):
    return {(r.lhs, r.op, r.rhs, r.group): r for r in pt.rows}


def test_statements_modifiers_and_continuation_lines():
    m = parse_model(
        """
        # comment line
        f =~ x1 + a*x2 +   ! lavaan comment
             start(0.5)*x3
        y + z ~ 1 + -0.5*x4 + NA*x5; g =~ x6 + c(1, NA)*x7 + c(l1, l2)*x8
        d := a^2 / 2
        """
    )
    s = m.statements
    assert [t.name for t in s[0].rhs] == ["x1", "x2", "x3"]
    assert s[0].rhs[1].labels == ("a",) and s[0].rhs[2].start == (0.5,)
    assert s[1].lhs == ("y", "z") and s[1].rhs[1].fixed == (-0.5,)
    assert s[1].rhs[2].free_forced == (True,)
    assert s[2].rhs[1].fixed == (1.0, None) and s[2].rhs[2].labels == ("l1", "l2")
    assert s[3].op == ":=" and s[3].expression == "a^2 / 2"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("f =~ x1 + + x2", r"line 1, column 11: a term is missing"),
        ("f =~ x1\nf x2", r"line 2, column 1: 'x1' is followed by 'f' without '\+'"),
        ("f =~ 2x1", r"not a valid variable name"),
        ("f <~ x1 + x2", r"formative indicators"),
        ("y | t1", r"thresholds"),
        ("f =~ x1 + foo(1)*x2", r"not a valid modifier"),
        ("=~ x1", r"nothing on the left"),
        ("a > 0", r"inequality constraints"),
    ],
)
def test_syntax_errors_report_the_position(text, match):
    with pytest.raises(ModelSyntaxError, match=match):
        parse_model(text)


def test_model_must_be_a_string():
    with pytest.raises(ArgumentTypeError, match="`model` must be lavaan model syntax"):
        parse_model(["f =~ x1"])


def test_sem_defaults_cfa():
    pt = build_partable(parse_model("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6"), COLS)
    r = rows(pt)
    assert r[("f", "=~", "x1", 0)].free == 0 and r[("f", "=~", "x1", 0)].value == 1.0
    assert r[("f", "=~", "x2", 0)].free > 0
    assert r[("f", "~~", "g", 0)].free > 0  # exogenous factors covary
    assert all(r[(f"x{i}", "~~", f"x{i}", 0)].free > 0 for i in range(1, 7))
    assert pt.n_free == 13 and not pt.meanstructure


def test_fixed_x_and_final_outcome_covariances():
    pt = build_partable(parse_model("y ~ x1 + x2\nz ~ x1"), COLS)
    r = rows(pt)
    assert pt.ov_x == ("x1", "x2")
    assert r[("x1", "~~", "x2", 0)].exo and r[("x1", "~~", "x2", 0)].free == 0
    assert r[("y", "~~", "z", 0)].free > 0  # auto.cov.y: two final outcomes
    pt2 = build_partable(parse_model("y ~ x1 + x2\nx1 ~~ x2"), COLS)
    assert pt2.ov_x == () and any("treated as random" in n for n in pt2.notes)
    pt3 = build_partable(parse_model("y ~ x1 + x2"), COLS, fixed_x=False)
    assert rows(pt3)[("x1", "~~", "x2", 0)].free > 0


def test_user_modifiers_override_defaults_and_std_lv():
    pt = build_partable(parse_model("f =~ NA*x1 + x2 + x3\nf ~~ 1*f"), COLS)
    r = rows(pt)
    assert r[("f", "=~", "x1", 0)].free > 0 and r[("f", "~~", "f", 0)].value == 1.0
    pt2 = build_partable(parse_model("f =~ x1 + x2 + x3"), COLS, std_lv=True)
    r2 = rows(pt2)
    assert r2[("f", "=~", "x1", 0)].free > 0 and r2[("f", "~~", "f", 0)].free == 0


def test_single_indicator_factor_fixes_residual_variance():
    pt = build_partable(parse_model("f =~ x1\ny ~ f"), COLS)
    assert rows(pt)[("x1", "~~", "x1", 0)].value == 0.0


def test_meanstructure_and_latent_means():
    pt = build_partable(parse_model("f =~ x1 + x2 + x3\nx1 ~ 1"), COLS)
    r = rows(pt)
    assert pt.meanstructure and r[("x2", "~1", "", 0)].free > 0
    assert r[("f", "~1", "", 0)].free == 0 and r[("f", "~1", "", 0)].value == 0.0


def test_labels_constrain_equal_within_and_across_groups():
    text = "f =~ x1 + a*x2 + c(b1, b2)*x3 + c(1, NA)*x4"
    pt = build_partable(parse_model(text), COLS, n_groups=2, meanstructure=True)
    r = rows(pt)
    assert r[("f", "=~", "x2", 0)].free == r[("f", "=~", "x2", 1)].free > 0
    assert r[("f", "=~", "x3", 0)].free != r[("f", "=~", "x3", 1)].free
    assert r[("f", "=~", "x4", 0)].free == 0 and r[("f", "=~", "x4", 1)].free > 0
    eq = build_partable(parse_model("f =~ x1 + a*x2 + b*x3\na == b"), COLS)
    assert rows(eq)[("f", "=~", "x2", 0)].free == rows(eq)[("f", "=~", "x3", 0)].free


def test_group_equal_loadings_intercepts_frees_latent_means_in_later_groups():
    pt = build_partable(
        parse_model("f =~ x1 + x2 + x3"),
        COLS,
        n_groups=2,
        meanstructure=True,
        group_equal=["loadings", "intercepts"],
    )
    r = rows(pt)
    assert r[("f", "=~", "x2", 0)].free == r[("f", "=~", "x2", 1)].free
    assert r[("x1", "~1", "", 0)].free == r[("x1", "~1", "", 1)].free
    assert r[("f", "~1", "", 0)].free == 0 and r[("f", "~1", "", 1)].free > 0
    with pytest.raises(OptionError, match="`group_equal` must contain only"):
        build_partable(
            parse_model("f =~ x1 + x2 + x3"), COLS, n_groups=2, group_equal=["thresholds"]
        )


@pytest.mark.parametrize(
    ("text", "kwargs", "error", "match"),
    [
        ("f =~ x1 + x2 + x33", {}, ColumnNotFoundError, r"'x33' \(line 1\) -- did you mean 'x3'"),
        (
            "f =~ x1 + c(a, b, c)*x2 + x3",
            {"n_groups": 2},
            ModelSyntaxError,
            r"3 values but the model has 2 group",
        ),
        ("x1 =~ x2 + x3 + x4", {}, ModelSyntaxError, r"also columns of `data`"),
        ("f =~ x1 + a*x2 + x3\nq == b", {}, ModelSyntaxError, r"'q' in 'q == b' is not a label"),
        (
            "f =~ x1 + a*x2 + b*x3\na == b^2",
            {},
            ModelSyntaxError,
            r"only constraints between two labels",
        ),
    ],
)
def test_partable_errors(text, kwargs, error, match):
    with pytest.raises(error, match=match):
        build_partable(parse_model(text), COLS, **kwargs)


def test_defined_parameters_are_kept_in_order():
    pt = build_partable(parse_model("y ~ a*x1\nz ~ b*y\nind := a * b\ntot := ind + a"), COLS)
    d = pt.defined
    assert [(r.lhs, r.rhs) for r in d] == [("ind", "a*b"), ("tot", "ind+a")]
    assert np.isnan(d[0].value)
