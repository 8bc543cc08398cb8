"""Codebook (variable labels, value labels, missing codes) of the sample files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._cohort import ARMS, RELATIONSHIPS, SampleCohort
from ._dgp import ATTENDANCE_CLASSES, MECHANISMS
from ._items import (
    INSTRUMENTS,
    SENTINELS,
    item_codes,
    item_columns,
    item_label,
    item_value_labels,
)

__all__ = ["build_codebook", "write_sav"]

_LATENT_LABELS = {
    "network": "True latent recovery-supportive social network",
    "efficacy": "True latent abstinence self-efficacy",
    "motivation": "True latent motivation for change",
    "depression": "True latent depression",
    "craving": "True latent craving",
    "spirituality": "True latent spirituality / religious practice",
    "involvement": "True latent 12-step involvement (drives AAS, AAI)",
    "service": "True latent service to others (drives SOS)",
    "temptation": "True latent temptation to drink (drives AASE temptation)",
    "quality_of_life": "True latent quality of life (drives WHOQOL-BREF)",
    "consequences": "True latent drinking consequences (drives DrInC-2L)",
    "hazardous_drinking": "True latent hazardous drinking (drives AUDIT)",
}


def _var(
    label: str | None,
    measurement: str,
    value_labels: dict[Any, str] | None = None,
    missing_codes: list[Any] | None = None,
    missing_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "label": label,
        "value_labels": {str(k): v for k, v in (value_labels or {}).items()},
        "missing_codes": list(missing_codes or []),
        "missing_ranges": [],
        "measurement": measurement,
        "missing_counts": dict(missing_counts or {}),
    }


def build_codebook(cohort: SampleCohort, raw_waves: pd.DataFrame) -> dict[str, Any]:
    """Codebook of every variable in the sample files (one flat namespace).

    ``missing_counts`` gives, for each item column, how many answers in
    ``waves.csv``/``waves.sav`` carry each sentinel code.
    """
    v: dict[str, dict[str, Any]] = {}
    v["id"] = _var("Participant identifier", "nominal")
    v["trial"] = _var(
        "Trial (outpatient or aftercare)",
        "nominal",
        {"outpatient": "Outpatient", "aftercare": "Aftercare"},
    )
    v["site"] = _var("Clinical site (1-5 outpatient, 6-9 aftercare)", "nominal")
    v["arm"] = _var(
        "Randomised treatment arm",
        "nominal",
        dict(
            zip(
                ARMS,
                (
                    "Twelve-Step Facilitation",
                    "Cognitive-Behavioural Coping Skills",
                    "Motivational Enhancement",
                ),
            )
        ),
    )
    v["sex"] = _var("Sex", "nominal", {0: "Male", 1: "Female"})
    v["age"] = _var("Age at intake (years)", "scale")
    v["index_date"] = _var("Index date (day 0, start of treatment)", "scale")
    v["last_month"] = _var("Month of the last completed interview", "ordinal")
    v["month"] = _var(
        "Assessment wave (months after the index date)",
        "ordinal",
        {0: "Intake", 3: "Month 3", 6: "Month 6", 9: "Month 9", 12: "Month 12", 15: "Month 15"},
    )
    v["assessed"] = _var("Interview completed at this wave", "nominal", {0: "No", 1: "Yes"})
    v["interview_date"] = _var("Interview date", "scale")
    v["pda"] = _var("Proportion of days abstinent, 90 days before the wave (0-1)", "scale")
    v["ddd"] = _var("Drinks per drinking day, 90 days before the wave", "scale")
    v["phdd"] = _var("Proportion of heavy drinking days, 90 days before the wave (0-1)", "scale")
    v["aa_meetings"] = _var("AA meetings attended, 90 days before the wave", "scale")
    v["aa_days_pct"] = _var("Percent of days with an AA meeting, 90 days before the wave", "scale")
    sentinel_labels = {k: v_ for k, v_ in SENTINELS.items()}
    for inst in INSTRUMENTS:
        for j, col in enumerate(item_columns(inst), start=1):
            codes = item_codes(inst, j)
            labels = {**item_value_labels(inst, j), **sentinel_labels}
            counts: dict[str, int] = {}
            values = raw_waves[col]
            for code in SENTINELS:
                found = int((values == code).sum())
                if found:
                    counts[str(code)] = found
            measurement = "nominal" if len(codes) == 2 else "ordinal"
            v[col] = _var(item_label(inst, j), measurement, labels, list(SENTINELS), counts)
    v["date"] = _var("Calendar date", "scale")
    v["day"] = _var("Day relative to the index date (0 = index date)", "scale")
    v["drinks"] = _var("Standard drinks that day", "scale")
    v["meetings"] = _var("AA meetings attended that day", "scale")
    v["controlled"] = _var(
        "Day in a controlled environment (hospital, residential treatment, jail)",
        "nominal",
        {0: "No", 1: "Yes"},
    )
    v["member"] = _var("Network member number within the roster", "nominal")
    v["relationship"] = _var("Relationship of the network member", "nominal", RELATIONSHIPS)
    v["contact_days"] = _var("Days of contact with the member in the past 90 days", "scale")
    v["drinker_type"] = _var(
        "Network member's drinking",
        "nominal",
        {0: "Abstainer", 1: "Light or moderate drinker", 2: "Heavy drinker", 3: "Unknown"},
    )
    v["stance"] = _var(
        "Network member's stance on the respondent's drinking",
        "ordinal",
        {-1: "Opposes abstinence / supports drinking", 0: "Neutral", 1: "Supports abstinence"},
    )
    v["in_aa"] = _var("Network member is in AA", "nominal", {0: "No", 1: "Yes"})
    _latent_variables(v)
    return {"variables": v}


def _latent_variables(v: dict[str, dict[str, Any]]) -> None:
    """Add the variables of ``latent.csv.gz`` (true scores and attendance class) to ``v``."""
    for name in (*MECHANISMS, *_LATENT_LABELS.keys()):
        if name not in v:
            v[name] = _var(_LATENT_LABELS[name], "scale")
    v["attendance_class"] = _var(
        "True latent class of AA attendance over the six waves (latent.csv.gz)",
        "nominal",
        {i + 1: name for i, name in enumerate(ATTENDANCE_CLASSES)},
    )


def write_sav(raw_waves: pd.DataFrame, codebook: dict[str, Any], path: Path) -> None:
    """Write the wave data as a labelled SPSS file with declared user-missing codes."""
    import pyreadstat

    df = raw_waves.copy()
    for c in df.columns:
        if c == "interview_date":
            df[c] = pd.to_datetime(df[c])
        elif isinstance(df[c].dtype, pd.Int64Dtype):
            df[c] = df[c].astype("float64")
    variables = codebook["variables"]
    labels = {c: variables[c]["label"] for c in df.columns}
    value_labels = {
        c: {_code(k): lab for k, lab in variables[c]["value_labels"].items()}
        for c in df.columns
        if variables[c]["value_labels"]
    }
    missing = {
        c: list(variables[c]["missing_codes"]) for c in df.columns if variables[c]["missing_codes"]
    }
    measure = {c: variables[c]["measurement"] for c in df.columns}
    pyreadstat.write_sav(
        df,
        str(path),
        file_label="mutualaid_outcomes sample cohort: wave data",
        column_labels=labels,
        row_compress=True,
        variable_value_labels=value_labels,
        missing_ranges=missing,
        variable_measure=measure,
    )
    _fix_sav_timestamp(path)


#: Creation date and time written into the SPSS header, so the file is reproducible.
SAV_TIMESTAMP = b"01 Jan 97" + b"00:00:00"
_SAV_TIMESTAMP_OFFSET = 92  # rec_type(4) product(60) layout(4) case size(4) compression(4)
# weight index(4) n cases(4) bias(8): creation date (9 bytes) and time (8 bytes) follow


def _fix_sav_timestamp(path: Path) -> None:
    """Overwrite the creation date/time in an SPSS system file header."""
    with open(path, "r+b") as fh:
        head = fh.read(4)
        if head != b"$FL2":  # pragma: no cover - pyreadstat always writes $FL2
            return
        fh.seek(_SAV_TIMESTAMP_OFFSET)
        fh.write(SAV_TIMESTAMP)


def _code(key: str) -> float:
    value = float(key)
    return int(value) if np.isfinite(value) and value == int(value) else value
