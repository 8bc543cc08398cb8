"""Tests of group differences for Table 1, each computed as its R function does.

=================  ===============================================  ============================
name               test                                             R
=================  ===============================================  ============================
``"t_test"``       Welch's t test (2 groups)                        ``t.test()``
``"student_t"``    Student's t test (2 groups)                      ``t.test(var.equal = TRUE)``
``"anova"``        one-way ANOVA                                    ``oneway.test(var.equal = TRUE)``
``"welch_anova"``  Welch's one-way ANOVA                            ``oneway.test()``
``"kruskal"``      Kruskal-Wallis test                              ``kruskal.test()``
``"wilcoxon"``     Wilcoxon rank-sum test (2 groups)                ``wilcox.test()``
``"chisq"``        Pearson's chi-square test (Yates-corrected 2x2)  ``chisq.test()``
``"fisher"``       Fisher's exact test                              ``fisher.test()``
``"none"``         no test
=================  ===============================================  ============================

Default choice (:func:`default_test`): Welch's t test for means of two groups and a
one-way ANOVA for three or more; Kruskal-Wallis for variables summarised by medians;
the chi-square test for categorical variables, switching to Fisher's exact test when an
expected count is below 5 (R's rule for its chi-square warning).

Fisher's exact test is computed exactly for any r x c table (R ``fisher.test``); for
tables too large to enumerate (where R stops with a workspace error) a Monte Carlo
p-value from 9,999 tables simulated with both margins fixed is used instead, as R's
``fisher.test(simulate.p.value = TRUE)``, and the note says so.

Validated against R 4.2 (``tests/reference/table_one.R``): p-values agree to 1e-8.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy import stats

from .._rng import check_rng
from ..models._core.contingency import fisher_exact, fisher_monte_carlo

__all__ = [
    "TestName",
    "CONTINUOUS_TESTS",
    "CATEGORICAL_TESTS",
    "TEST_LABELS",
    "default_test",
    "continuous_test",
    "categorical_test",
    "welch_anova",
    "MONTE_CARLO_TABLES",
]

TestName = Literal[
    "t_test", "student_t", "anova", "welch_anova", "kruskal", "wilcoxon", "chisq", "fisher", "none"
]
CONTINUOUS_TESTS = ("t_test", "student_t", "anova", "welch_anova", "kruskal", "wilcoxon", "none")
CATEGORICAL_TESTS = ("chisq", "fisher", "none")
TWO_GROUP_TESTS = ("t_test", "student_t", "wilcoxon")
MONTE_CARLO_TABLES = 9_999
EXPECTED_MIN = 5.0  # below this expected count the chi-square approximation is poor

#: note text for each test (``chisq_yates`` and ``fisher_mc`` are variants picked at run time)
TEST_LABELS = {
    "t_test": "Welch's t test",
    "student_t": "Student's t test",
    "anova": "One-way analysis of variance",
    "welch_anova": "Welch's one-way analysis of variance",
    "kruskal": "Kruskal\u2013Wallis test",
    "wilcoxon": "Wilcoxon rank-sum test",
    "chisq": "Pearson's chi-square test",
    "chisq_yates": "Pearson's chi-square test with Yates' continuity correction",
    "fisher": "Fisher's exact test",
    "fisher_mc": (
        f"Fisher's exact test, Monte Carlo p-value from {MONTE_CARLO_TABLES:,} tables "
        "simulated with fixed margins"
    ),
}


def expected_counts(table: np.ndarray) -> np.ndarray:
    """Expected counts under independence (rows and columns with zero totals dropped)."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.size == 0:
        return t
    return np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()


def default_test(kind: str, n_groups: int, table: np.ndarray | None = None) -> str:
    """The test Table 1 uses for a variable of ``kind`` compared across ``n_groups``.

    Examples
    --------
    >>> default_test("continuous", 2), default_test("continuous", 3), default_test("nonnormal", 2)
    ('t_test', 'anova', 'kruskal')
    >>> default_test("categorical", 2, np.array([[10, 1], [12, 3]]))
    'fisher'
    """
    if kind == "continuous":
        return "t_test" if n_groups == 2 else "anova"
    if kind == "nonnormal":
        return "kruskal"
    exp = expected_counts(table) if table is not None else np.array([])
    return "fisher" if exp.size and float(exp.min()) < EXPECTED_MIN else "chisq"


def welch_anova(groups: Sequence[np.ndarray]) -> float:
    """p-value of Welch's one-way ANOVA (R ``oneway.test(var.equal = FALSE)``).

    Examples
    --------
    >>> round(welch_anova([np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 6, 9]),
    ...                    np.array([5.0, 6, 8, 9])]), 4)
    0.0267
    """
    n = np.array([len(g) for g in groups], dtype=float)
    m = np.array([np.mean(g) for g in groups])
    v = np.array([np.var(g, ddof=1) for g in groups])
    k = len(groups)
    w = n / v
    mw = np.sum(w * m) / np.sum(w)
    tmp = np.sum((1 - w / np.sum(w)) ** 2 / (n - 1)) / (k**2 - 1)
    f = np.sum(w * (m - mw) ** 2) / ((k - 1) * (1 + 2 * (k - 2) * tmp))
    return float(stats.f.sf(f, k - 1, 1 / (3 * tmp)))


def _wilcoxon(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of the rank-sum test with R ``wilcox.test`` defaults.

    Exact below 50 per group without ties, else the normal approximation with a
    continuity correction.
    """
    ties = len(np.unique(np.r_[a, b])) < len(a) + len(b)
    method = "exact" if (len(a) < 50 and len(b) < 50 and not ties) else "asymptotic"
    return float(stats.mannwhitneyu(a, b, use_continuity=True, method=method).pvalue)


def continuous_test(name: str, groups: Sequence[np.ndarray]) -> tuple[float, str]:
    """p-value and note key of a test comparing a continuous variable across groups.

    Groups with fewer than two values (one for the rank tests) are left out.
    """
    usable = [np.asarray(g, float) for g in groups if len(g) > 0]
    if len(usable) < 2 or sum(len(g) for g in usable) <= len(usable):
        return float("nan"), name
    if name == "t_test":
        return float(stats.ttest_ind(usable[0], usable[1], equal_var=False).pvalue), name
    if name == "student_t":
        return float(stats.ttest_ind(usable[0], usable[1], equal_var=True).pvalue), name
    if name == "anova":
        return float(stats.f_oneway(*usable).pvalue), name
    if name == "welch_anova":
        return welch_anova(usable), name
    if name == "kruskal":
        return float(stats.kruskal(*usable).pvalue), name
    if name == "wilcoxon":
        return _wilcoxon(usable[0], usable[1]), name
    raise ValueError(f"not a continuous test: {name!r}")  # pragma: no cover - validated


def categorical_test(name: str, table: np.ndarray, rng: Any = None) -> tuple[float, str]:
    """p-value and note key of a test of a groups x levels count table.

    ``rng`` (a Generator) is used only for the Monte Carlo fallback of Fisher's test.
    """
    t = np.asarray(table, dtype=np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if min(t.shape) < 2:
        return float("nan"), name
    if name == "chisq":
        res = stats.chi2_contingency(t, correction=True)
        return float(res.pvalue), "chisq_yates" if t.shape == (2, 2) else "chisq"
    if name == "fisher":
        p = fisher_exact(t)
        if p is not None:
            return p, "fisher"
        return fisher_monte_carlo(t, MONTE_CARLO_TABLES, check_rng(rng)), "fisher_mc"
    raise ValueError(f"not a categorical test: {name!r}")  # pragma: no cover - validated
