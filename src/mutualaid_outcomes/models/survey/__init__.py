"""Design-based estimation for complex surveys (weights, strata, clusters, replicate weights).

The functions follow R's ``survey`` package: :func:`survey_design` (``svydesign``),
:func:`replicate_design` (``svrepdesign``), :meth:`SurveyDesign.as_replicate`
(``as.svrepdesign``), :func:`survey_mean`, :func:`survey_total`, :func:`survey_ratio`,
:func:`survey_proportion` (``svyciprop``), :func:`survey_quantile` (``svyquantile``),
each with ``by=`` (``svyby``), :func:`survey_glm` (``svyglm``), :func:`survey_table`
(``svytable`` with ``svychisq``) and :func:`weighted_summary` (the rows of a weighted
Table 1). See docs/survey.md for a worked example.
"""

from .design import SurveyDesign, as_replicate, survey_design
from .estimators import survey_mean, survey_ratio, survey_total
from .glm import SurveyGLMResult, survey_glm
from .proportion import survey_proportion
from .quantile import survey_quantile
from .replicate import ReplicateDesign, replicate_design
from .results import SurveyEstimateResult
from .summary import weighted_summary
from .tables import SurveyTableResult, survey_table

__all__ = [
    "survey_design",
    "SurveyDesign",
    "replicate_design",
    "ReplicateDesign",
    "as_replicate",
    "survey_mean",
    "survey_total",
    "survey_ratio",
    "survey_proportion",
    "survey_quantile",
    "SurveyEstimateResult",
    "survey_glm",
    "SurveyGLMResult",
    "survey_table",
    "SurveyTableResult",
    "weighted_summary",
]
