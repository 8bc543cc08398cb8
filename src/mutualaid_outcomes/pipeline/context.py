"""The state an analysis run passes from stage to stage.

Each stage of :func:`~mutualaid_outcomes.pipeline.runner.run_analysis` reads what the
earlier stages left in a :class:`RunContext` and adds its own part: the loaded and
scored data, the derived datasets, fitted models, tables, report sections, seeds and
the input files recorded in the provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

    from ..io import Codebook
    from .report import ReportSection
    from .spec import AnalysisSpec

__all__ = ["RunContext"]


@dataclass
class RunContext:
    """Everything one run has built so far.

    Attributes
    ----------
    spec : AnalysisSpec
        The validated specification.
    base_dir : Path
        Folder relative data paths are resolved against.
    tmp : Path
        The unfinished output folder; renamed into place at the end.
    datasets : dict
        Frames by dataset name (the names a spec step can give as ``dataset``);
        None when the spec does not build that dataset.
    codebook : Codebook or None
        Labels of the data and participant columns.
    design : SurveyDesign or None
        The survey design of the ``[design]`` section, once built.
    models, tables : dict
        Fitted results and :class:`~mutualaid_outcomes.tables.Table` objects by name.
    inputs : list of Path
        Input files, hashed into the provenance.
    seeds : dict
        The spec seed and the seed handed to each model.
    data_notes, score_notes : list of str
        Lines of the report's "Data" section.
    data_warnings : list of str
        Texts of the warnings raised while preparing the data (shown in "Data").
    model_sections, table_sections : list of ReportSection
        Report sections in the order they were made.
    figures : list of Path
        PNG files embedded in the report.
    raw_spec : dict or None
        The spec as written, recorded in the provenance next to the resolved one.
    started : datetime
        When the run started (UTC).
    files : dict
        Output file (relative path) -> SHA-256, set by the last stage.
    provenance : dict
        The provenance record, set by the last stage.
    stage : str
        The label of the stage running (named in the message of an interrupted run).
    """

    spec: AnalysisSpec
    base_dir: Path
    tmp: Path
    datasets: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    codebook: Codebook | None = None
    design: Any = None
    models: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    seeds: dict[str, Any] = field(default_factory=dict)
    data_notes: list[str] = field(default_factory=list)
    score_notes: list[str] = field(default_factory=list)
    data_warnings: list[str] = field(default_factory=list)
    model_sections: list[ReportSection] = field(default_factory=list)
    table_sections: list[ReportSection] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    raw_spec: dict[str, Any] | None = None
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    files: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    stage: str = "start"

    @property
    def data(self) -> pd.DataFrame:
        """The wave data (loaded, merged with participants, scored and derived)."""
        frame = self.datasets.get("data")
        if frame is None:  # pragma: no cover - the load stage always sets it
            raise SpecError("The data set has not been loaded yet.")
        return frame

    def dataset(self, name: str, where: str) -> pd.DataFrame:
        """The frame called ``name``, or a :class:`SpecError` naming the spec step."""
        frame = self.datasets.get(name)
        if frame is None:
            raise SpecError(f"{where}: dataset '{name}' is not available in this spec.")
        return frame

    def model(self, name: str | None, where: str) -> Any:
        """The fitted model called ``name`` (validated to exist when the spec was read)."""
        if name is None or name not in self.models:
            raise SpecError(f"{where}: needs `model`, the name of a model in this spec.")
        return self.models[name]
