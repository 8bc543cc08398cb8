"""Design-based estimation for complex surveys (weights, strata, clusters, replicate weights).

The functions follow R's ``survey`` package: :func:`survey_design` (``svydesign``),
:func:`replicate_design` (``svrepdesign``), :meth:`SurveyDesign.as_replicate`
(``as.svrepdesign``), :func:`survey_mean`, :func:`survey_total`, :func:`survey_ratio`,
:func:`survey_proportion` (``svyciprop``), :func:`survey_quantile` (``svyquantile``),
each with ``by=`` (``svyby``), :func:`survey_glm` (``svyglm``) and :func:`survey_table`
(``svytable`` with ``svychisq``). See docs/survey.md for a worked example.
"""

from .design import SurveyDesign, survey_design
from .estimators import survey_mean, survey_ratio, survey_total
from .replicate import ReplicateDesign, as_replicate, replicate_design
from .results import SurveyEstimateResult

__all__ = [
    "survey_design",
    "SurveyDesign",
    "replicate_design",
    "ReplicateDesign",
    "as_replicate",
    "survey_mean",
    "survey_total",
    "survey_ratio",
    "SurveyEstimateResult",
]
