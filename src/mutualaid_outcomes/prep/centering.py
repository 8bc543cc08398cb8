"""Within/between decomposition of time-varying predictors (person-mean centring).

A daily predictor ``x_ti`` of person ``i`` on day ``t`` is split into its person mean
``x_i.`` (the between-person part) and the deviation ``x_ti - x_i.`` (the within-person
part), so that a mixed model estimates the within-person ("on days a person attends
more than usual ...") and the between-person ("people who attend more ...") effects
separately instead of a blend of the two (Raudenbush & Bryk 2002, ch. 5; Enders &
Tofighi 2007; Curran & Bauer 2011).

Examples
--------
>>> import pandas as pd
>>> days = pd.DataFrame({"id": [1, 1, 1, 2, 2], "meeting": [1, 0, 1, 0, 0],
...                      "drinks": [0, 2, None, 4, 6]})
>>> within_between(days, "meeting", id="id", over=["drinks"])
   id  meeting  drinks  meeting_within  meeting_between
0   1        1     0.0             0.5              0.5
1   1        0     2.0            -0.5              0.5
2   1        1     NaN             NaN              NaN
3   2        0     4.0             0.0              0.0
4   2        0     6.0             0.0              0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validation import as_column_list, check_columns, check_dataframe, check_numeric
from ..errors import ArgumentTypeError, DataValidationError

__all__ = ["within_between", "WITHIN_SUFFIX", "BETWEEN_SUFFIX"]

WITHIN_SUFFIX = "_within"
BETWEEN_SUFFIX = "_between"


def within_between(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    id: str,
    over: str | Sequence[str] | None = None,
    center_between: bool = False,
) -> pd.DataFrame:
    """Split time-varying predictors into within-person and between-person parts.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data (one row per person and occasion). Not modified.
    columns : str or list of str
        Numeric time-varying predictors to decompose.
    id : str
        Person column.
    over : str or list of str, optional
        Further columns a model will use (outcome, covariates). A row enters the person
        means only if it is complete on ``columns`` and ``over``, i.e. the means are
        taken over the rows the model will fit. Default: complete on ``columns``.
    center_between : bool
        Subtract the grand mean of the person means (over persons, each counted once)
        from the between-person parts, so that a model intercept refers to an average
        person. Default False (raw person means).

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with, for each column ``c``, ``c_within`` (``c`` minus the
        person mean) and ``c_between`` (the person mean, or its deviation from the grand
        mean when ``center_between``) appended; both are NaN on rows that do not enter
        the means (incomplete rows).

    Raises
    ------
    ColumnNotFoundError
        A column of ``columns``, ``over`` or ``id`` is not in ``data``.
    DataValidationError
        ``id`` has missing values; a column is not numeric; an output column already
        exists in ``data``.
    ArgumentTypeError
        ``id`` is not a column name, or ``center_between`` is not a bool.

    Notes
    -----
    ``c_within[t, i] = c[t, i] - mean_s c[s, i]`` and ``c_between[t, i] = mean_s c[s, i]``
    (minus ``mean_i mean_s c[s, i]`` when ``center_between``), the means taken over the
    complete rows of person ``i``. Within parts average zero within every person, so they
    are uncorrelated with every person-level variable; that is what separates the
    within- from the between-person coefficient (Enders & Tofighi 2007). The observed
    person mean measures a person's true mean with error, so between-person
    coefficients are attenuated when persons have few days (Lüdtke et al. 2008); latent
    centring (multilevel SEM) avoids this.

    References
    ----------
    Enders, C. K., & Tofighi, D. (2007). Centering predictor variables in cross-sectional
    multilevel models. *Psychological Methods*, 12(2), 121-138.

    Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person and
    between-person effects in longitudinal models of change. *Annual Review of
    Psychology*, 62, 583-619.

    Lüdtke, O., Marsh, H. W., Robitzsch, A., et al. (2008). The multilevel latent
    covariate model. *Psychological Methods*, 13(3), 203-229.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"id": ["a", "a", "b", "b"], "x": [1.0, 3.0, 5.0, 5.0]})
    >>> within_between(d, ["x"], id="id", center_between=True)
      id    x  x_within  x_between
    0  a  1.0      -1.0       -1.5
    1  a  3.0       1.0       -1.5
    2  b  5.0       0.0        1.5
    3  b  5.0       0.0        1.5
    """
    data = check_dataframe(data)
    cols = as_column_list(columns, "columns")
    if not cols:
        raise DataValidationError("`columns` must name at least one predictor; got none.")
    if not isinstance(id, str):
        raise ArgumentTypeError(f"`id` must be a column name; got {id!r}.")
    if not isinstance(center_between, (bool, np.bool_)):
        raise ArgumentTypeError(f"`center_between` must be True or False; got {center_between!r}.")
    check_columns(data, cols, "columns")
    check_columns(data, id, "id")
    extra = check_columns(data, as_column_list(over, "over"), "over")
    check_numeric(data, cols, "columns")
    n_na = int(data[id].isna().sum())
    if n_na:
        raise DataValidationError(
            f"`id` ('{id}') has {n_na} missing value(s); every row needs a person "
            "identifier. Drop or fill those rows first."
        )
    new = [c + s for c in cols for s in (WITHIN_SUFFIX, BETWEEN_SUFFIX)]
    clash = [c for c in new if c in data.columns]
    if clash:
        raise DataValidationError(
            f"`columns`: output column(s) {clash} already exist in `data`; rename or drop "
            "them first."
        )
    complete = data[list(dict.fromkeys([*cols, *extra]))].notna().all(axis=1).to_numpy()
    codes, _ = pd.factorize(data[id])
    out = data.copy()
    for c in cols:
        x = data[c].to_numpy(dtype=float)
        xw = np.where(complete, x, 0.0)
        n = np.bincount(codes, weights=complete.astype(float))
        s = np.bincount(codes, weights=xw)
        with np.errstate(invalid="ignore", divide="ignore"):
            pm = s / n
        mean_row = np.where(complete, pm[codes], np.nan)
        between = mean_row
        if center_between:
            between = mean_row - np.nanmean(pm[n > 0])
        out[c + WITHIN_SUFFIX] = np.where(complete, x - mean_row, np.nan)
        out[c + BETWEEN_SUFFIX] = between
    return out
