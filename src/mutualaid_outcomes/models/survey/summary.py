"""Weighted descriptive statistics for a Table 1 (R ``gtsummary::tbl_svysummary``).

:func:`weighted_summary` returns one row per variable, level and group (``'Overall'``
and each level of ``by``) with unweighted and weighted counts, weighted percentages,
means, SDs, medians and quartiles, and a design-based p-value per variable:

* categorical variables: the Rao-Scott F test of ``variable x by``
  (:func:`~mutualaid_outcomes.models.survey.tables.survey_table`, R ``svychisq``);
* continuous variables: the design-based Wald F test that the ``by`` means are equal,
  from ``survey_glm(variable ~ C(by))`` (R ``regTermTest(svyglm(...), ~by)``).

The weighted SD is ``sqrt`` of R ``svyvar`` (weighted variance times ``n / (n - 1)``);
medians and quartiles use R survey's ``qrule = "math"``. ``table_one(..., design=)``
formats these rows; this module does no rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..._validation import as_column_list, check_columns
from ._engine import check_design, domains, is_categorical, levels_of, srs_variance
from .glm import survey_glm
from .quantile import weighted_quantile_math
from .tables import survey_table

__all__ = ["weighted_summary", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = (
    "variable",
    "type",
    "level",
    "group",
    "n",
    "n_missing",
    "n_weighted",
    "percent",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "p_value",
    "test",
)


def _groups(design: Any, by: str | None) -> list[tuple[str, np.ndarray]]:
    out = [("Overall", design.in_domain)]
    if by is not None:
        dom = domains(design, by)
        out += [(lab, m) for lab, m in zip(dom.labels, dom.masks)]
    return out


def _continuous_test(design: Any, var: str, by: str) -> tuple[float, str]:
    res = survey_glm(design, f"Q('{var}') ~ C(Q('{by}'))")
    terms = [t for t in res.terms if t != "Intercept"]
    return res.wald_test(terms)["p_value"], "design-based Wald F"


def weighted_summary(
    design: Any,
    variables: str | list[str],
    *,
    by: str | None = None,
    categorical: list[str] | None = None,
    test: bool = True,
) -> pd.DataFrame:
    """Per-variable weighted summaries and design-based tests for a Table 1.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design (possibly a subset).
    variables : str or list of str
        Columns to describe.
    by : str, optional
        Column defining the table's groups (columns of Table 1).
    categorical : list of str, optional
        Numeric columns to treat as categorical (non-numeric columns always are).
    test : bool
        Add design-based p-values (needs ``by``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`; ``type`` is ``'categorical'`` (one row per
        level and group; ``percent`` is the weighted % within the group) or
        ``'continuous'`` (one row per group, ``level`` empty); ``n`` counts rows with
        non-zero weight and a value, ``n_weighted`` is the estimated population count;
        ``p_value``/``test`` repeat on every row of a variable (NaN without ``by``).

    Raises
    ------
    ColumnNotFoundError
        A column is not in the data.

    Notes
    -----
    See the module docstring. Checked against R survey 4.1.1 (``svymean``, ``svyvar``,
    ``svyquantile``, ``svychisq``, ``regTermTest``) through the estimators' reference
    tests.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.survey import survey_design
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"psu": np.repeat(np.arange(20), 5), "w": rng.uniform(1, 3, 100),
    ...                    "sex": rng.choice(["F", "M"], 100), "age": rng.normal(40, 9, 100),
    ...                    "aa": rng.choice(["yes", "no"], 100)})
    >>> d = survey_design(df, weights="w", cluster="psu")
    >>> out = weighted_summary(d, ["age", "sex"], by="aa")
    >>> out[["variable", "level", "group"]].head(3)
      variable level    group
    0      age        Overall
    1      age             no
    2      age            yes
    """
    design = check_design(design)
    cols = check_columns(design.data, variables, "variables")
    cat_extra = set(as_column_list(categorical, "categorical"))
    if by is not None:
        check_columns(design.data, by, "by")
    groups = _groups(design, by)
    w = design.analysis_weights
    rows: list[dict[str, Any]] = []
    for var in cols:
        col = design.data[var]
        cat = is_categorical(col) or var in cat_extra
        observed = col.notna().to_numpy()
        p_value, test_name = np.nan, ""
        if test and by is not None and var != by:
            if cat:
                g = survey_table(design, var, by).glance().iloc[0]
                p_value, test_name = float(g["p_value"]), "Rao-Scott F"
            else:
                p_value, test_name = _continuous_test(design, var, by)
        for label, mask in groups:
            m = mask & observed & (w > 0)
            base = {
                "variable": var,
                "group": label,
                "n_missing": int(np.sum(mask & ~observed)),
                "p_value": p_value,
                "test": test_name,
            }
            if cat:
                total = w[m].sum()
                for level in levels_of(col):
                    hit = m & col.eq(level).fillna(False).to_numpy(bool)
                    rows.append(
                        {
                            **base,
                            "type": "categorical",
                            "level": level,
                            "n": int(hit.sum()),
                            "n_weighted": float(w[hit].sum()),
                            "percent": 100 * float(w[hit].sum()) / total if total else np.nan,
                        }
                    )
            else:
                x = col.to_numpy(dtype=float, na_value=np.nan)
                xm, wm = x[m], w[m]
                mean = float(wm @ xm / wm.sum()) if len(xm) else np.nan
                rows.append(
                    {
                        **base,
                        "type": "continuous",
                        "level": "",
                        "n": int(m.sum()),
                        "n_weighted": float(wm.sum()),
                        "mean": mean,
                        "sd": float(np.sqrt(srs_variance(xm, wm))) if len(xm) > 1 else np.nan,
                        "median": weighted_quantile_math(xm, wm, 0.5) if len(xm) else np.nan,
                        "q1": weighted_quantile_math(xm, wm, 0.25) if len(xm) else np.nan,
                        "q3": weighted_quantile_math(xm, wm, 0.75) if len(xm) else np.nan,
                    }
                )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
