"""Group comparisons of the weighted Table 1: design-based test overrides and weighted SMDs.

``table_one(..., design=, tests={variable: test})`` chooses among the design-based tests
that exist for a survey design:

* ``"wald"``: the Wald F test that the weighted ``by`` means are equal (continuous
  variables; R ``regTermTest(svyglm(variable ~ by), ~by)``), the default;
* ``"rao_scott"``: the second-order Rao-Scott F test (categorical variables; R
  ``svychisq(statistic = "F")``), the default;
* ``"rao_scott_chisq"``: the first-order Rao-Scott adjusted chi-square (R
  ``svychisq(statistic = "Chisq")``);
* ``"none"``: no p-value for the variable.

A design-based rank test (R ``svyranktest``) is not available; asking for a rank or an
unweighted test (``"kruskal"``, ``"t_test"``, ``"chisq"``, ...) raises an OptionError
that lists these names.

Weighted standardized mean differences follow R ``tableone::svyCreateTableOne`` (its
``svyStdDiff`` and ``svyStdDiffMulti``): for a continuous variable
``|m1 - m2| / sqrt((v1 + v2) / 2)`` with weighted means ``m`` (``svymean``) and
weighted variances ``v`` (``svyvar``, the weighted variance times ``n / (n - 1)``;
with missing values R survey counts the group's rows with a missing value in ``n``,
and so does this SMD, while the SD shown in the table counts observed values only);
for a categorical variable the Yang & Dalton (2012) multinomial SMD of the weighted
level proportions within each group (``svytable``). With more than two groups the
table shows the average over all pairs, as tableone prints it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ArgumentTypeError, DataValidationError, OptionError

__all__ = [
    "SurveyTestName",
    "SURVEY_TESTS",
    "check_survey_tests",
    "apply_test_overrides",
    "weighted_smd",
]

SurveyTestName = Literal["wald", "rao_scott", "rao_scott_chisq", "none"]
SURVEY_TESTS = ("wald", "rao_scott", "rao_scott_chisq", "none")
_FOR_TYPE = {
    "continuous": ("wald", "none"),
    "categorical": ("rao_scott", "rao_scott_chisq", "none"),
}
_TEST_KEYS = {"wald": "design-based Wald F", "rao_scott": "Rao-Scott F",
              "rao_scott_chisq": "Rao-Scott chi-square"}  # fmt: skip


def check_survey_tests(tests: Any, variables: Sequence[str]) -> dict[str, str] | None:
    """``tests`` of a weighted Table 1: None (no p-values), {} (defaults) or overrides.

    Raises
    ------
    ArgumentTypeError
        ``tests`` is neither a bool nor a mapping.
    DataValidationError
        A key of ``tests`` is not among ``variables``.
    OptionError
        A test that has no design-based version here (names what is available).
    """
    if isinstance(tests, bool):
        return {} if tests else None
    if not isinstance(tests, Mapping):
        raise ArgumentTypeError(
            "`tests` must be True, False or a mapping {variable: test}; got "
            f"{type(tests).__name__}."
        )
    out: dict[str, str] = {}
    for var, name in tests.items():
        if var not in variables:
            raise DataValidationError(
                f"`tests` names '{var}', which is not among `variables` ({list(variables)})."
            )
        if name not in SURVEY_TESTS:
            raise OptionError(
                f"`tests['{var}']`={name!r} has no design-based version; with `design=` "
                "the tests are 'wald' (Wald F of equal weighted means), 'rao_scott' "
                "(Rao-Scott F), 'rao_scott_chisq' (Rao-Scott adjusted chi-square) and "
                "'none'. A design-based rank test (R svyranktest) is not available."
            )
        out[str(var)] = str(name)
    return out


def apply_test_overrides(
    summary: pd.DataFrame, design: Any, by: str, overrides: Mapping[str, str]
) -> pd.DataFrame:
    """``summary`` with the p-values and test names of ``overrides`` (a new frame)."""
    from ..models.survey import survey_table

    out = summary.copy()
    for var, name in overrides.items():
        at = out["variable"] == var
        kind = str(out.loc[at, "type"].iloc[0])
        if name not in _FOR_TYPE[kind]:
            raise DataValidationError(
                f"`tests['{var}']`='{name}' does not apply to '{var}', which is summarised "
                f"as {kind}; use one of {list(_FOR_TYPE[kind])}."
            )
        if name == "none":
            p, key = np.nan, ""
        elif name == "rao_scott_chisq":
            res = survey_table(design, var, by, statistic="Chisq")
            p, key = float(res.glance()["p_value"].iloc[0]), _TEST_KEYS[name]
        else:  # the default, already in ``summary``
            continue
        out.loc[at, "p_value"] = p
        out.loc[at, "test"] = key
    return out


def _pairwise_continuous(means: np.ndarray, variances: np.ndarray) -> list[float]:
    vals = []
    for i, j in itertools.combinations(range(len(means)), 2):
        diff, pooled = means[i] - means[j], (variances[i] + variances[j]) / 2
        if diff == 0 and pooled == 0:  # one constant in both groups (as tableone)
            vals.append(0.0)
        else:
            vals.append(float(abs(diff) / np.sqrt(pooled)) if pooled > 0 else np.nan)
    return vals


def _multinomial_smd(p1: np.ndarray, p2: np.ndarray) -> float:
    """Yang-Dalton SMD of two proportion vectors over levels 2..K (as tableone)."""
    t, c = p1[1:], p2[1:]

    def cov(p: np.ndarray) -> np.ndarray:
        return np.diag(p) - np.outer(p, p)

    s, d = (cov(t) + cov(c)) / 2, t - c
    if not np.any(s[~np.isnan(s)]):  # a zero pooled covariance: 0 if no difference
        return 0.0 if np.all(d == 0) else float("nan")
    return float(np.sqrt(max(float(d @ np.linalg.pinv(s) @ d), 0.0)))


def weighted_smd(summary: pd.DataFrame, variable: str, groups: Sequence[str]) -> float:
    """Weighted SMD of ``variable`` over ``groups`` (average over pairs), from the summary.

    ``summary`` holds the rows of ``weighted_summary``: weighted means and SDs
    (``sqrt(svyvar)``) of continuous variables, weighted percentages of categorical
    ones. NaN with fewer than two groups or when a group has no observed value.
    """
    rows = summary[(summary["variable"] == variable) & summary["group"].isin(groups)]
    if len(groups) < 2 or rows.empty:
        return float("nan")
    if rows["type"].iloc[0] == "categorical":
        levels = list(dict.fromkeys(rows["level"]))
        if len(levels) < 2:
            return float("nan")
        props = [
            rows[rows["group"] == g].set_index("level")["percent"].reindex(levels)
            .to_numpy(float) / 100
            for g in groups
        ]  # fmt: skip
        vals = [_multinomial_smd(a, b) for a, b in itertools.combinations(props, 2)]
    else:
        by_group = rows.set_index("group").loc[list(groups)]
        n = by_group["n"].to_numpy(float)
        n_all = n + by_group["n_missing"].to_numpy(float)
        # R svyvar(na.rm = TRUE) scales by n / (n - 1) with n counting the group's
        # rows *including* those with a missing value (survey 4.1.1); tableone's SMD
        # uses that variance, so the SD of the table is rescaled to it.
        variances = by_group["sd"].to_numpy(float) ** 2 * (n - 1) / n * n_all / (n_all - 1)
        vals = _pairwise_continuous(by_group["mean"].to_numpy(float), variances)
    return float(np.mean(vals))
