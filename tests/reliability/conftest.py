"""Fixtures of the reliability tests.

``pipeline_project``: a small project folder as a researcher has it,

    proj/
        analysis.toml      a spec: one derive line, one regression, Table 1, a table
        data/cohort.csv    60 simulated rows (id, group, age, dose, y)

and a few helpers to rewrite the spec. Runs of this spec take a second or two.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomllib

BASE_SPEC = """\
title = "Reliability project"
seed = 3

[data]
path = "data/cohort.csv"

[derive]
log_dose = "log(dose)"

[[models]]
name = "dose_response"
type = "regression"
formula = "y ~ log_dose + C(group)"

[[tables]]
name = "table1"
type = "table_one"
dataset = "data"
by = "group"
variables = ["age", "y"]

[[tables]]
name = "table2"
type = "regression_table"
models = ["dose_response"]

[output]
table_formats = ["csv"]
figure_formats = ["png"]
"""


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def dump_toml(raw: dict[str, Any]) -> str:
    """A small TOML writer for the spec dictionaries of these tests."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in raw.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in tables:
        lines += ["", f"[{key}]"] + [f'"{k}" = {_toml_value(v)}' for k, v in value.items()]
    for key, items in arrays:
        for item in items:
            lines += ["", f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def pipeline_project(tmp_path: Path) -> SimpleNamespace:
    """A project folder with a spec and its data; ``write(raw)`` rewrites the spec."""
    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    rng = np.random.default_rng(20261205)
    n = 60
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "group": np.where(np.arange(n) % 2 == 0, "AA", "CA"),
            "age": rng.integers(20, 70, n),
            "dose": rng.uniform(1.0, 20.0, n).round(3),
        }
    )
    frame["y"] = (2.0 + 0.5 * np.log(frame["dose"]) + rng.normal(0, 1, n)).round(4)
    data = proj / "data" / "cohort.csv"
    frame.to_csv(data, index=False)
    spec = proj / "analysis.toml"
    spec.write_text(BASE_SPEC, encoding="utf-8")

    def raw() -> dict[str, Any]:
        return tomllib.loads(BASE_SPEC)

    def write(new: dict[str, Any], name: str = "analysis.toml") -> Path:
        path = proj / name
        path.write_text(dump_toml(new), encoding="utf-8")
        return path

    return SimpleNamespace(root=proj, spec=spec, data=data, frame=frame, raw=raw, write=write)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to show a folder did not change)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def folder_snapshot():
    """``folder_snapshot(path)``: every file under a folder with its bytes."""
    return snapshot
