"""mutualaid_outcomes: outcomes research on 12-step mutual-aid groups.

The most used functions are available at the top level, e.g.
``mutualaid_outcomes.read_data``, ``.score``, ``.mediate``, ``.fit_cox``,
``.table_one``; each subpackage (``io``, ``instruments``, ``participation``,
``models``, ``tables``, ``plotting``, ``pipeline``, ``datasets``) holds the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach

# The public names are imported on first use (see _lazy.py), so ``import
# mutualaid_outcomes`` and the command line start quickly; the imports below are
# what that first use runs, and what type checkers and editors read.
if TYPE_CHECKING:
    from . import errors
    from .datasets import load_sample, sample_truth, simulate_cohort
    from .instruments import (
        InstrumentSpec,
        list_instruments,
        network_indices,
        reliability,
        score,
    )
    from .io import (
        Codebook,
        describe_data,
        get_codebook,
        read_data,
        read_redcap,
        set_codebook,
        write_data,
    )
    from .models import (
        cace,
        causal_mediation,
        check_proportional_hazards,
        compare_trajectories,
        cross_lagged_panel,
        cumulative_incidence,
        distal_outcome,
        e_value,
        effect_sizes,
        egger_test,
        fit_cox,
        fit_cox_time_varying,
        fit_fine_gray,
        fit_gee,
        fit_imputed,
        fit_iv,
        fit_mixed,
        fit_regression,
        fit_sem,
        fit_trajectories,
        fit_weighted,
        gray_test,
        impute,
        influence_diagnostics,
        johnson_neyman,
        kaplan_meier,
        lagged_mediation,
        lagged_panel,
        latent_growth,
        latent_mediation,
        leave_one_out,
        mediate,
        meta_analysis,
        multilevel_mediation,
        pool,
        pool_mediation,
        power_mediation,
        power_survival,
        propensity_scores,
        replicate_design,
        simple_slopes,
        survey_design,
        survey_glm,
        survey_mean,
        survey_proportion,
        survey_quantile,
        survey_ratio,
        survey_table,
        survey_total,
        to_counting_process,
        trim_and_fill,
    )
    from .parallel import run_replicates
    from .participation import (
        attendance_patterns,
        code_attendance,
        relapse_times,
        summarize_calendar,
    )
    from .plotting import publication_style, save_figure
    from .prep.centering import within_between
    from .results import Summary
    from .tables import (
        Table,
        mediation_table,
        merge_tables,
        meta_table,
        regression_table,
        sem_fit_table,
        sem_table,
        survival_table,
        table_one,
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mutualaid_outcomes")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


__all__ = [
    "__version__",
    "errors",
    "Summary",
    # data
    "read_data",
    "read_redcap",
    "write_data",
    "describe_data",
    "get_codebook",
    "set_codebook",
    "Codebook",
    "load_sample",
    "sample_truth",
    "simulate_cohort",
    # instruments and participation
    "score",
    "list_instruments",
    "InstrumentSpec",
    "network_indices",
    "reliability",
    "code_attendance",
    "summarize_calendar",
    "attendance_patterns",
    "relapse_times",
    # models
    "fit_regression",
    "fit_gee",
    "fit_mixed",
    "lagged_panel",
    "within_between",
    "mediate",
    "multilevel_mediation",
    "lagged_mediation",
    "causal_mediation",
    "kaplan_meier",
    "fit_cox",
    "check_proportional_hazards",
    "to_counting_process",
    "fit_cox_time_varying",
    "cumulative_incidence",
    "gray_test",
    "fit_fine_gray",
    # self-selection, missing data, power
    "propensity_scores",
    "fit_weighted",
    "fit_iv",
    "cace",
    "e_value",
    "impute",
    "pool",
    "fit_imputed",
    "pool_mediation",
    "power_mediation",
    "power_survival",
    "run_replicates",
    # meta-analysis, surveys, structural equation models
    "meta_analysis",
    "effect_sizes",
    "leave_one_out",
    "influence_diagnostics",
    "egger_test",
    "trim_and_fill",
    "survey_design",
    "replicate_design",
    "survey_mean",
    "survey_total",
    "survey_ratio",
    "survey_proportion",
    "survey_quantile",
    "survey_glm",
    "survey_table",
    "fit_sem",
    "cross_lagged_panel",
    "latent_growth",
    "latent_mediation",
    "simple_slopes",
    "johnson_neyman",
    "fit_trajectories",
    "compare_trajectories",
    "distal_outcome",
    # reporting
    "Table",
    "table_one",
    "regression_table",
    "survival_table",
    "merge_tables",
    "mediation_table",
    "meta_table",
    "sem_table",
    "sem_fit_table",
    "publication_style",
    "save_figure",
]

__getattr__, __dir__ = attach(__name__, __file__, __all__, computed={"__version__": _version})
