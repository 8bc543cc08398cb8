"""Publication tables: Table 1, regression, mediation, meta-analysis, SEM and trajectory tables, exporters."""

from .combine import merge_tables, stack_tables, univariable_table
from .formatting import JOURNAL_STYLES, JournalStyle, format_ci, format_number, format_p
from .meta_table import meta_table
from .model_tables import mediation_table, regression_table, term_label
from .sem_tables import sem_fit_table, sem_table
from .survival_table import survival_table
from .table import Table
from .table_one import smd_categorical, smd_continuous, suppress_cells, table_one
from .trajectory_tables import trajectory_class_table, trajectory_fit_table, trajectory_table

__all__ = [
    "Table",
    "table_one",
    "regression_table",
    "mediation_table",
    "merge_tables",
    "stack_tables",
    "univariable_table",
    "survival_table",
    "sem_table",
    "sem_fit_table",
    "meta_table",
    "trajectory_table",
    "trajectory_fit_table",
    "trajectory_class_table",
    "term_label",
    "format_p",
    "format_ci",
    "format_number",
    "JournalStyle",
    "JOURNAL_STYLES",
    "smd_continuous",
    "smd_categorical",
    "suppress_cells",
]
