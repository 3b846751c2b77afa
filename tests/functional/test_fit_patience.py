"""The IOP waitlist's patience fitted from records: each wait counted to when a place was
offered (the model offers a seat the moment one is free; the client starts at their track's
next session, not at risk in between), a constant hazard, and a clinic with seats to spare
fitted as well as a full one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation import config as scenarios
from simulation.data.extract import read_episodes
from simulation.data.synth import synthesize
from simulation.fit import clinic as fitting
from simulation.fit.patience import PLACED_AT_ONCE, SAME_DAY, days_at_risk


def test_a_clinic_with_seats_to_spare_has_its_patience_fitted_near_the_truth(tmp_path):
    """Six referrals a week: most clients are placed the day they join and start days later
    at their track's next session. Counted to the first day, those days at no risk made the
    patience 1.5 times too long (32-49 days against 25). The mean of four fits is within 25%
    of the truth: each fit rests on about 35 losses (a standard error of about 17%), so four
    of them have about 8.5%, and 25% is three of those."""
    bundled = scenarios.load(scenarios.bundled("baseline"))
    truth = scenarios.apply_overrides(bundled, ["referrals.per_week=6.0"])
    patience = truth.waitlist.iop_patience_days
    assert patience.dist == "exponential"  # (the baseline's: a mean of 25 days)
    means = []
    for seed in (1, 2, 3, 4):
        table, _ = synthesize(truth, 3.0, seed)
        path = tmp_path / f"extract{seed}.csv"
        table.to_csv(path, index=False)
        _, result, _ = fitting.fitted_scenario(read_episodes(path), truth, with_state=False)
        fit = {e.key: e for e in result.evidence}["waitlist.iop_patience_days"]
        assert fit.value["dist"] == "exponential"
        means.append(fit.value["mean"])
    assert abs(np.mean(means) / patience.mean - 1) < 0.25, means


def _rows(rows: list[tuple]) -> pd.DataFrame:
    columns = ["waitlist_date", "waitlist_exit_date", "iop_start_date", "age_group", "track"]
    table = pd.DataFrame(rows, columns=columns)
    for column in columns[:3]:
        table[column] = pd.to_datetime(table[column])
    return table


def test_days_at_risk_end_when_a_place_is_offered():
    """Sessions Monday to Thursday. A client joining with nobody of their age group waiting
    and starting at their track's next session is placed at once (never at risk), though
    that may be days later; one joining behind another, or starting later than that, is at
    risk until the middle of the days from the track's last session before their first day
    (or from joining, if later); one who gave up, to the day they left; one still waiting,
    to the extract's date; a loss within a day counts a third of one."""
    table = _rows(
        [
            ("2029-03-01", None, "2029-03-13", "adult", "morning"),  # Thu, no seat free
            ("2029-03-02", None, "2029-03-19", "adult", "morning"),  # Fri, one ahead
            ("2029-03-02", None, "2029-03-05", "adolescent", "morning"),  # Fri, none ahead
            ("2029-03-22", "2029-03-22", None, "adult", "morning"),  # gave up the same day
            ("2029-03-06", "2029-03-16", None, "adult", "morning"),  # gave up after 10 days
            ("2029-03-20", None, None, "adult", "morning"),  # still waiting
        ]
    )
    gave_up = table["waitlist_exit_date"].notna() & table["iop_start_date"].isna()
    week = {"morning": {0, 1, 2, 3}}
    days = days_at_risk(table, gave_up, pd.Timestamp("2029-03-30"), week)
    # nobody ahead, but not placed by the next session (Mon 5th): no seat was free; the
    # last session day before Tue 13th is Mon 12th, offered at its middle: 11.5 days
    assert days[0] == 11.5
    # behind the client of the 1st (waiting to the 13th): the last session day before Mon
    # 19th is Thu 15th, so offered on Sat 17th: 15 days at risk
    assert days[1] == 15.0
    # Fri 2nd, starting at the next session (Mon 5th): placed at once (the adults ahead wait
    # for other places)
    assert days[2] == PLACED_AT_ONCE
    assert days[3] == SAME_DAY
    assert days[4] == 10.0
    assert days[5] == 10.0
