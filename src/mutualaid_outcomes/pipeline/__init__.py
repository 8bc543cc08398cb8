"""The analysis pipeline: a validated TOML spec run stage by stage into an output folder.

``spec.py`` reads and validates the spec, ``functions.py`` holds the model functions a
spec can call, ``runner.py`` runs the stages (``sources``, ``variables``,
``participation``, ``fitting``, ``table_steps``, ``figure_steps``) over a
``context.RunContext`` and writes the report (``report.py``) and provenance
(``provenance.py``). See docs/architecture.md.
"""
