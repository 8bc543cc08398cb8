"""Regenerate the table gallery on the sample cohort.

Writes Table 1, a merged regression table (univariable and multivariable odds
ratios), a mediation table and a survival table, each as Word, LaTeX, HTML and
Markdown, into the folder given on the command line::

    python docs/gallery/tables.py /tmp/gallery

Render the Word files with ``soffice --headless --convert-to pdf`` and the LaTeX
files with ``pdflatex`` (the script also writes ``gallery.tex``, which includes them)
to look at them.

The CSV files hold the cells as printed; ``flextable_tables.R`` renders the same
cells with R flextable (``theme_booktabs`` and ``autofit``) into
``*_flextable.docx``, for a side-by-side look at the Word layout an R user gets::

    Rscript docs/gallery/flextable_tables.R /tmp/gallery
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mutualaid_outcomes import fit_regression, kaplan_meier
from mutualaid_outcomes.datasets import MEDIATION_COVARIATES, load_sample, mediation_frame
from mutualaid_outcomes.models.mediation.product import mediate
from mutualaid_outcomes.participation import relapse_times
from mutualaid_outcomes.tables import (
    Table,
    mediation_table,
    merge_tables,
    regression_table,
    survival_table,
    table_one,
    univariable_table,
)

FORMATS = (".docx", ".tex", ".html", ".md", ".csv")


def build_tables() -> dict[str, Table]:
    """The gallery tables, built from the sample cohort."""
    participants = load_sample("participants")
    waves = load_sample("waves")
    codebook = load_sample("codebook")
    baseline = waves[waves["month"] == 0][["id", "pda", "phdd", "aa_meetings"]]
    t1_data = participants.merge(baseline, on="id")
    t1 = table_one(
        t1_data, by="arm", variables=["age", "sex", "site", "pda", "phdd", "aa_meetings"],
        nonnormal=["aa_meetings"], codebook=codebook, rng=1,
    )  # fmt: skip

    month12 = waves[waves["month"] == 12].merge(participants, on="id")
    month12["abstinent"] = (month12["pda"] > 0.9).astype(float).where(month12["pda"].notna())
    labels = {"abstinent": "Abstinent on >90% of days"}
    adjusted = fit_regression(
        month12, "abstinent ~ C(arm) + age + sex + aa_days_pct", family="binomial"
    )
    uni = univariable_table(
        month12, "abstinent", ["C(arm)", "age", "sex", "aa_days_pct"], family="binomial",
        exponentiate=True, codebook=codebook, labels=labels,
    )  # fmt: skip
    multi = regression_table(adjusted, exponentiate=True, codebook=codebook)
    merged = merge_tables(
        {"Univariable": uni, "Multivariable": multi},
        title="Table 2. Abstinence at month 12: odds ratios",
    )

    latent = load_sample("latent")
    frame = mediation_frame(latent, waves, participants)
    # report per 10 meetings and in percent of days, so effects are not 0.000
    frame = frame.assign(attendance=frame["attendance"] / 10, pda_15=100 * frame["pda_15"])
    med = mediate(
        frame, exposure="attendance", mediators=["network_9", "efficacy_9"], outcome="pda_15",
        covariates=list(MEDIATION_COVARIATES), n_boot=500, ci="percentile", rng=1,
    )  # fmt: skip
    med_labels = {
        "attendance": "AA meetings (per 10)",
        "network_9": "Social network",
        "efficacy_9": "Self-efficacy",
        "pda_15": "Days abstinent at month 15 (%)",
    }
    mt = mediation_table(
        med, labels=med_labels, exposure="attendance", outcome="pda_15",
        title="Table 3. Mediation of the effect of attendance on abstinence",
    )  # fmt: skip

    calendar = load_sample("calendar")
    times = relapse_times(
        calendar, definition="first_heavy", sex=participants[["id", "sex"]],
        controlled="controlled", index_date=participants[["id", "index_date"]],
    )  # fmt: skip
    times = times.merge(participants[["id", "arm"]], on="id").dropna(subset=["duration"])
    km = kaplan_meier(times, "duration", "event", by="arm")
    st = survival_table(
        km, times=[90, 180, 365], codebook=codebook,
        title="Table 4. Survival without a heavy drinking day",
    )  # fmt: skip
    return {"table1": t1, "regression": merged, "mediation": mt, "survival": st}


def main(argv: list[str] | None = None) -> None:
    """Write every gallery table in every format into the folder named in ``argv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the tables into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    np.seterr(all="ignore")
    tables = build_tables()
    for name, table in tables.items():
        for ext in FORMATS:
            table.save(args.out / f"{name}{ext}")
    inputs = "\n".join(f"\\input{{{name}.tex}}" for name in tables)
    (args.out / "gallery.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        "\\usepackage{threeparttable}\n\\usepackage[margin=2cm]{geometry}\n"
        f"\\begin{{document}}\n{inputs}\n\\end{{document}}\n",
        encoding="utf-8",
    )
    print(f"wrote {len(tables) * len(FORMATS)} files to {args.out}")


if __name__ == "__main__":
    main()
