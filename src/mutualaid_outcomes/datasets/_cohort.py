"""The simulated cohort's container and fixed labels (shared by the generator and codebook)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ._dgp import CohortParameters

__all__ = ["ARMS", "RELATIONSHIPS", "SampleCohort"]

#: Treatment arms, in the order of the generator's arm codes 0, 1, 2.
ARMS: tuple[str, ...] = ("TSF", "CBT", "MET")
#: Relationship codes of the important-people roster.
RELATIONSHIPS: dict[int, str] = {
    1: "Spouse or partner",
    2: "Family member",
    3: "Friend",
    4: "Co-worker",
    5: "Fellow 12-step member or sponsor",
    6: "Other",
}


@dataclass(frozen=True, eq=False)
class SampleCohort:
    """A simulated cohort (see :func:`~mutualaid_outcomes.datasets.simulate_cohort`).

    Attributes
    ----------
    participants : pandas.DataFrame
        One row per person: ``id, trial, site, arm, sex, age, index_date, last_month``.
    waves : pandas.DataFrame
        One row per person and wave month: ``id, month, assessed, interview_date``,
        the calendar-derived outcomes ``pda, ddd, phdd, aa_meetings, aa_days_pct`` and
        the item columns.
    calendar : pandas.DataFrame
        One row per person and observed day: ``id, date, day, drinks, meetings,
        controlled``.
    network : pandas.DataFrame
        Important-people roster: one row per person, assessed wave and member.
    latent : pandas.DataFrame
        True latent scores per person and wave month (complete, before attrition).
    truth : pandas.DataFrame
        True effects (``quantity, value, mc_se, kind, description``); see
        :func:`mutualaid_outcomes.datasets.sample_truth`.
    parameters : CohortParameters
        The structural parameters used.
    """

    participants: pd.DataFrame
    waves: pd.DataFrame
    calendar: pd.DataFrame
    network: pd.DataFrame
    latent: pd.DataFrame
    truth: pd.DataFrame
    parameters: CohortParameters
