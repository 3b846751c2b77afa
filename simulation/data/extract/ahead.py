"""Dates written ahead: an export that fills the end of a stay still running with its planned
discharge date has no stay open, and ends that run on weeks past its own date. Read as they
stand, every client in care on the export's date is a discharge on a day that has not come,
with the reason the record carries (mostly "completed", without the step-down that has not
happened either): the exit shares, the stays, the step-down share and the census all bent,
without a word. Read here as what they are: the extract as seen on the day after its last
referral, assessment or admission, those clients still in care (their stays censored).

The export's date shows where its referrals, assessments and admissions stop together; a
cohort followed on (the referrals of a period, what became of them later) admits for weeks
after its last referral and steps its completers down for months, and keeps clients in care
on its own date: it is read as written. Only an extract with no stay open, its beginnings
stopping within days of its last referral and ends more than a week after them is read as
written ahead; one that is in fact a programme followed to its close loses precision, not
truth, by the censoring."""

from __future__ import annotations

import pandas as pd

INTAKE_AND_ADMISSION = ("referral_date", "assessment_date", "waitlist_date", "iop_start_date")
"""Dates of a referral, an assessment, a place on the waitlist and an admission: written when
they happen, never ahead; in an export of a running clinic the last of each falls within days
of the export's date."""

AFTER = ("iop_end_date", "step_down_start_date", "step_down_end_date", "waitlist_exit_date")
"""Dates an export may write ahead: a planned discharge, step-down or end of a step-down."""

AHEAD_AFTER_DAYS = 7
"""Days past the last referral, assessment or admission beyond which an end reads as written
ahead; and the most the last of those may fall after the last referral for them to stop
together (a clinic taking a few referrals a week refers, assesses and admits within days of
any export's date; a week's grace keeps a quiet last week from reading otherwise)."""


def written_ahead(table: pd.DataFrame) -> tuple[pd.Timestamp, str] | None:
    """Where the extract's ends run ahead of its date: (the date to read it as of, the day
    after its last referral, assessment or admission; the note that says so), or None."""
    started = table["iop_start_date"].notna()
    if not started.any() or (started & table["iop_end_date"].isna()).any():
        return None  # a stay open: the extract's date is at or after its last end
    grace = pd.Timedelta(days=AHEAD_AFTER_DAYS)
    began = max(table[c].max() for c in INTAKE_AND_ADMISSION if table[c].notna().any())
    if began > table["referral_date"].max() + grace:
        return None  # admitting on after the referrals stop: a cohort followed on
    after = [c for c in AFTER if table[c].notna().any()]
    if not after or max(table[c].max() for c in after) <= began + grace:
        return None
    cut = (began + pd.Timedelta(days=1)).normalize()
    counts = {c: int((table[c] >= cut).sum()) for c in after}
    last = max(table[c].max() for c in after)
    said = ", ".join(f"{n} in {c}" for c, n in counts.items() if n)
    return cut, (
        f"no stay is open, yet {sum(counts.values())} dates ({said}) fall after the last "
        f"referral, assessment or admission ({began.date()}), as late as {last.date()}: an "
        "export of a running clinic has clients in care on its date, so these read as "
        "planned dates written ahead (a stay still running given its planned discharge). "
        f"The extract is read as of {cut.date()}: later dates are blank, those clients still "
        "in care, their stays running (censored). If the dates are real (a programme that "
        "closed, followed to its end), the stays lose only precision by it"
    )
