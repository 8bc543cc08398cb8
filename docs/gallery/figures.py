"""Regenerate the gallery of figures on the sample cohort.

Usage::

    python docs/gallery/figures.py OUTPUT_FOLDER

Writes PNGs of a Kaplan-Meier figure (with number-at-risk table, median lines and the
log-rank p), one of six groups (legend beside the plot), a cumulative-incidence figure (relapse with dropout as competing risk),
forest plots of a Cox and a logistic model, and path diagrams with 1, 3 and 6 parallel
mediators and a serial chain, all labelled from the sample cohort's codebook.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mutualaid_outcomes import plotting  # noqa: E402
from mutualaid_outcomes.datasets import load_sample  # noqa: E402


def relapse_frame() -> pd.DataFrame:
    """Days to the first heavy drinking day per participant, with arm and sex."""
    from mutualaid_outcomes.participation import relapse_times

    people = load_sample("participants")
    pidx = people.set_index("id")
    relapse = relapse_times(
        load_sample("calendar"),
        id="id",
        definition="first_heavy",
        sex=pidx["sex"].map({0: "male", 1: "female"}),
        index_date=pidx["index_date"],
    )
    relapse = relapse[relapse["duration"].notna() & (relapse["duration"] > 0)]
    return relapse.merge(people[["id", "arm", "sex", "age"]], on="id")


def save(ax, folder: Path, name: str) -> None:
    """Write the figure of ``ax`` to ``folder/name.png`` and close it."""
    path = folder / f"{name}.png"
    ax.figure.savefig(path, dpi=150)
    plt.close(ax.figure)
    print(path)


def survival_figures(folder: Path, codebook) -> None:
    """Kaplan-Meier (days and months) and cumulative-incidence figures."""
    from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence
    from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier

    data = relapse_frame()
    km = kaplan_meier(data, "duration", "event", by="arm")
    labels = {"duration": "Days to first heavy drinking day"}
    ax = plotting.plot_km(
        km, codebook=codebook, labels=labels, time_unit="days", pval=True, median_lines=True
    )
    save(ax, folder, "km_arm_days")
    ax = plotting.plot_km(km, codebook=codebook, time_unit="days", display_unit="months", pval=True)
    save(ax, folder, "km_arm_months")
    # six groups (arm by sex): the legend moves beside the plot so it covers no curve
    arm_names = codebook.value_labels("arm")
    arm_sex = data.assign(
        group=data["arm"].map(arm_names).fillna(data["arm"])
        + np.where(data["sex"] == 1, ", female", ", male")
    )
    km6 = kaplan_meier(arm_sex, "duration", "event", by="group")
    ax = plotting.plot_km(
        km6, labels={**labels, "group": "Arm and sex"}, time_unit="days", show_ci=False
    )
    save(ax, folder, "km_arm_sex")
    # competing risks: the first heavy day, with leaving follow-up early (censored before
    # day 300) as a competing event, for illustration
    cr = data.assign(status=np.where(data["event"] == 1, 1, np.where(data["duration"] < 300, 2, 0)))
    ci = cumulative_incidence(cr, "duration", "status", by="sex")
    ax = plotting.plot_cumulative_incidence(
        ci,
        codebook=codebook,
        labels={"status": {1: "First heavy drinking day", 2: "Left follow-up"}},
        time_unit="days",
        display_unit="months",
        at_risk=True,
        pval=True,
    )
    save(ax, folder, "cumulative_incidence_sex")


def forest_figures(folder: Path, codebook) -> None:
    """Forest plots of a Cox model (time to relapse) and a logistic model (abstinence)."""
    from mutualaid_outcomes import fit_regression
    from mutualaid_outcomes.models.survival.cox import fit_cox

    data = relapse_frame()
    cox = fit_cox(data, "duration", "event", formula="C(arm, Treatment('CBT')) + sex + age")
    ax = plotting.plot_forest(cox, exponentiate=True, codebook=codebook)
    save(ax, folder, "forest_cox")
    waves = load_sample("waves")
    people = load_sample("participants")[["id", "arm", "sex", "age"]]
    m15 = waves[waves["month"] == 15].merge(people, on="id")
    m15 = m15.assign(abstinent=(m15["pda"] >= 1).astype(float))
    logit = fit_regression(
        m15, "abstinent ~ C(arm, Treatment('CBT')) + sex + age + aa_meetings", family="binomial"
    )
    ax = plotting.plot_forest(logit, exponentiate=True, codebook=codebook)
    save(ax, folder, "forest_logistic")
    # subgroup forest: hazard ratio of TSF vs CBT overall and by sex, with N and events
    rows = []
    for name, sub in [("All participants", data), ("Male", data[data["sex"] == 0])] + [
        ("Female", data[data["sex"] == 1])
    ]:
        fit = fit_cox(sub, "duration", "event", formula="C(arm, Treatment('CBT'))")
        row = fit.tidy(exponentiate=True).iloc[[-1]].assign(label=name)
        rows.append(row.assign(n=fit.glance()["n"].iloc[0], n_events=fit.n_events))
    ax = plotting.plot_forest(
        pd.concat(rows, ignore_index=True),
        exponentiate=True,
        columns=["n", "n_events"],
        xlabel="Hazard ratio, TSF vs CBT (95% CI)",
    )
    save(ax, folder, "forest_subgroups")


MECHANISM_LABELS = {
    "attendance": "AA meetings, months 0-3",
    "pda_15": "Percent days abstinent, month 15",
    "network_9": "Pro-abstinence social network",
    "efficacy_9": "Abstinence self-efficacy",
    "motivation_9": "Motivation for abstinence",
    "depression_9": "Depressive symptoms",
    "craving_9": "Craving",
    "spirituality_9": "Spirituality and religiosity",
}


def path_figures(folder: Path, codebook) -> None:
    """Path diagrams with 1, 3 and 6 parallel mediators and a serial chain of three."""
    from mutualaid_outcomes.datasets import mediation_frame
    from mutualaid_outcomes.models.mediation.product import mediate

    frame = mediation_frame(
        load_sample("latent"), load_sample("waves"), load_sample("participants")
    ).dropna()
    mechanisms = [m for m in MECHANISM_LABELS if m.endswith("_9")]
    runs = {
        "path_1_mediator": (mechanisms[:1], "parallel"),
        "path_3_mediators": (mechanisms[:3], "parallel"),
        "path_6_mediators": (mechanisms, "parallel"),
        "path_serial_3": (["network_9", "efficacy_9", "depression_9"], "serial"),
    }
    for name, (mediators, model) in runs.items():
        fit = mediate(
            frame,
            "attendance",
            mediators,
            "pda_15",
            ["pda_0", "sex", "age"],
            model=model,
            ci="percentile",
            n_boot=1000,
            rng=1,
        )
        ax = plotting.plot_path_diagram(fit, labels=MECHANISM_LABELS, codebook=codebook)
        save(ax, folder, name)


def main(argv: list[str]) -> int:
    """Write every gallery figure into the folder named by ``argv[0]``."""
    if len(argv) != 1:
        print(__doc__)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    codebook = load_sample("codebook")
    survival_figures(folder, codebook)
    forest_figures(folder, codebook)
    path_figures(folder, codebook)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
