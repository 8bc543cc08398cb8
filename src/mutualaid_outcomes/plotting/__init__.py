"""Publication figures. Each plot takes ``ax=None``, returns the Axes and has a ``*_data()`` companion."""

from .balance import love_plot, love_plot_data
from .calendar import calendar_strip_data, plot_calendar_strips
from .conditional_effect import conditional_effect_data, plot_conditional_effect
from .conditional_indirect import conditional_indirect_data, plot_conditional_indirect
from .forest import forest_data, plot_forest
from .incidence import cumulative_incidence_data, plot_cumulative_incidence
from .meta import funnel_data, meta_forest_data, plot_funnel, plot_meta_forest
from .path_diagram import path_diagram_data, path_effects_data, plot_path_diagram
from .sensitivity import plot_sensitivity, sensitivity_data
from .style import OKABE_ITO, publication_style, save_figure
from .survival import at_risk_table_data, km_median_data, km_plot_data, plot_km
from .trajectories import plot_trajectories, trajectory_data
from .trajectory_classes import plot_trajectory_classes, trajectory_classes_data

__all__ = [
    "OKABE_ITO",
    "publication_style",
    "save_figure",
    "forest_data",
    "plot_forest",
    "meta_forest_data",
    "plot_meta_forest",
    "funnel_data",
    "plot_funnel",
    "km_plot_data",
    "at_risk_table_data",
    "km_median_data",
    "plot_km",
    "cumulative_incidence_data",
    "plot_cumulative_incidence",
    "path_diagram_data",
    "path_effects_data",
    "plot_path_diagram",
    "trajectory_data",
    "plot_trajectories",
    "trajectory_classes_data",
    "plot_trajectory_classes",
    "calendar_strip_data",
    "plot_calendar_strips",
    "sensitivity_data",
    "plot_sensitivity",
    "love_plot_data",
    "love_plot",
    "conditional_effect_data",
    "conditional_indirect_data",
    "plot_conditional_effect",
    "plot_conditional_indirect",
]
