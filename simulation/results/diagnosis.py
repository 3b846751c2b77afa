"""What limits admissions, and the notes on queues that grow: the reading of a run a director needs first."""

from __future__ import annotations

import math

import pandas as pd

from simulation.config import Scenario
from simulation.kpis import fmt
from simulation.results.queues import LEVEL_QUEUE, LOSSES_ABSORB, queue_verdicts

ADMISSION_LIMITS = {
    "admission_blocked_by_caseload_share": "every primary therapist at their caseload cap",
    "admission_blocked_by_seats_share": "no free seat in a track for the client's age group",
    "admission_blocked_by_cohort_share": "free seats only in cohort tracks between cohort starts",
}


INTAKE_QUEUE_DAYS = 7.0
"""Days of the wait for an assessment beyond the first slot the intake rosters offer (the
booking lead and the days between clinics are not a queue) from which intake binds: a week's
queue, which with the baseline's patience (a mean of 15 days) loses over a third of those
who would have waited for an empty diary's slot."""
PLACES_BIND = 0.5
"""A share of the time admissions are held up for want of a place from which more intake
hours alone would lengthen the IOP waitlist rather than admit more."""


def intake_binds(summary: pd.DataFrame) -> bool:
    """Whether intake assessments are a bottleneck: clients wait a week or more beyond the
    first slot the intake clinicians' rosters offer, or the intake waitlist grows beyond doubt
    (by a client every 20 weeks or more) while they wait a day or more beyond it. (A summary
    from before that KPI: 5% or more of the period's referrals still waiting for an
    assessment at the end.) Referrals of the last days of a period are always still waiting,
    whatever the capacity, so that share alone does not say intake binds."""
    mean = summary.set_index("kpi")["mean"]
    if "intake_queue_days_mean" not in mean:
        never = float(mean.get("referrals_never_assessed_share", math.nan))
        return _intake_grows(summary) or never >= 0.05
    queue = float(mean["intake_queue_days_mean"])
    # (a waitlist filling from an empty start over a short run grows with no one queueing)
    return queue >= INTAKE_QUEUE_DAYS or (_intake_grows(summary) and queue >= 1.0)


def _intake_grows(summary: pd.DataFrame) -> bool:
    """The intake waitlist grows beyond doubt, by at least a client every 20 weeks."""
    by = summary.set_index("kpi")
    key = "intake_waitlist_growth_per_week"
    low = by["ci_low"].get(key, math.nan) if "ci_low" in by else math.nan
    return bool(low > 0 and float(by["mean"].get(key, math.nan)) >= 0.05)


def _intake_sentence(value, blocked: float, growing: bool) -> str:
    """Intake as a bottleneck, with its figures; whether more intake hours would admit more
    depends on whether places (seats, caseloads) hold admissions up too."""
    growth = value("intake_waitlist_growth_per_week")
    queue = value("intake_queue_days_mean")
    lost = value("lost_before_assessment_share")
    figures = [
        f"the intake waitlist grows by about {growth:.2f} a week" if growing else "",
        f"clients wait {value('wait_to_intake_days_mean'):.1f} days for an assessment on "
        "average"
        + (
            f", {queue:.1f} of them beyond the first slot the intake rosters offer"
            if math.isfinite(queue)
            else ""
        ),
        f"{100 * lost:.0f}% of referrals are lost before one" if math.isfinite(lost) else "",
        f"{100 * value('referrals_never_assessed_share'):.0f}% of the period's referrals were "
        "still waiting for one at the end",
        f"intake clinicians are {100 * value('intake_utilisation'):.0f}% busy"
        + _as_busy_as_shifts_allow(value),
    ]
    return _before_the_iop("Intake assessments", figures, blocked, "intake hours", "")


SHIFTS_FULL = 0.9
"""Intake clinicians' utilisation, as a share of what their shifts can hold
(``intake_fillable_share``), from which they are said to be as busy as their shifts allow."""


def _as_busy_as_shifts_allow(value) -> str:
    """What follows "intake clinicians are N% busy" when N is near the most assessments can
    fill of their shifts: "71% busy" alone reads as room to spare while every slot is taken
    (a 4-hour clinic holds two 1.5-hour assessments: 75%)."""
    busy, most = value("intake_utilisation"), value("intake_fillable_share")
    if not (math.isfinite(busy) and math.isfinite(most) and most > 0):
        return ""
    if busy < SHIFTS_FULL * most:
        return ""
    return (
        f", as busy as their shifts allow: assessments can fill about {100 * most:.0f}% of "
        "their rostered hours, the end of a shift being too short for another (longer "
        "shifts hold more in the same hours)"
    )


EVALUATION_WAIT_DAYS = 7.0
"""Mean days waited for an evaluation required before the first IOP day (with half a client
or more waiting on average) from which prescribers' time limits admissions."""


def _evaluation_sentence(value, blocked: float) -> str:
    """Prescribers' evaluations as a bottleneck before the IOP, with their figures; whether
    more prescriber hours would admit more depends on places, as for intake."""
    lost = value("lost_waiting_for_evaluation_share")
    figures = [
        f"{value('evaluation_waitlist_mean'):.1f} clients on average waited for an evaluation "
        f"required before their first IOP day, those seen after "
        f"{value('wait_for_evaluation_days_mean'):.1f} days",
        f"{100 * lost:.0f}% of those waiting gave up before it" if math.isfinite(lost) else "",
        f"{100 * value('medication_visits_unbooked_share'):.0f}% of due medication visits "
        "found no slot",
    ]
    return _before_the_iop(
        "Prescribers' evaluations",
        figures,
        blocked,
        "prescriber hours",
        " (or evaluations not required before the first day)",
    )


def _before_the_iop(what: str, figures: list[str], blocked: float, more: str, or_: str) -> str:
    """A step before the IOP (intake, a required evaluation) as a bottleneck, with its
    figures: it limits admissions, unless places hold them up PLACES_BIND of the time or
    more, when more of it alone would only lengthen the IOP waitlist."""
    said = "; ".join(f for f in figures if f)
    if math.isfinite(blocked) and blocked >= PLACES_BIND:
        return (
            f"{what} are a bottleneck too: {said}. But admissions are held up "
            f"{100 * blocked:.0f}% of the time for want of a place (below), so more {more} "
            "alone would lengthen the IOP waitlist rather than admit more."
        )
    return (
        f"{what} limit admissions: {said}. More {more}{or_} admit more before any seat or "
        "therapist does."
    )


HELD_WAITING_SHARE = 0.15
"""A share of the IOP's occupied seats held by clients ready to move on (with no outpatient
slot or higher-care place yet) from which the next service, not the IOP's seats
or therapists, is named as what fills them."""


def _seats_held_waiting(value) -> str:
    """Seats held by clients waiting to move on, when they are HELD_WAITING_SHARE or more of
    the census: the service after the IOP fills its seats (Pierotti et al. 2024: capacity
    added to one service moves the pressure to the next)."""
    waiting, census = value("blocked_in_iop_mean"), value("iop_census_mean")
    if not (math.isfinite(waiting) and census > 0 and waiting / census >= HELD_WAITING_SHARE):
        return ""
    days = value("blocked_step_down_days_mean")
    return (
        f"Of the seats held, {100 * waiting / census:.0f}% ({waiting:.1f} on average) are held "
        "by clients ready to move on who wait for the care after the IOP"
        + (
            f" (completers waited {days:.0f} days on average for an outpatient slot)"
            if days >= 1
            else ""
        )
        + ": the care after the IOP fills its seats, so more places there (outpatient: "
        "step_down.pools, op_caseload_cap) free seats before more seats or therapists would."
    )


def limiting_factors(summary: pd.DataFrame) -> list[str]:
    """What held admissions up, in plain sentences from a summary: the share of time someone
    waited for a place that could not be given and why, the caseload occupancy, and the other
    constraints (facilitators, intake clinicians, prescribers) with their figures."""
    by = summary.set_index("kpi")["mean"]

    def value(name: str) -> float:
        return float(by.get(name, math.nan))

    lines = []
    intake = value("intake_utilisation")
    blocked = value("admission_blocked_share")
    binds = intake_binds(summary)
    if binds:
        lines.append(_intake_sentence(value, blocked, _intake_grows(summary)))
    evaluations_bind = value("wait_for_evaluation_days_mean") >= EVALUATION_WAIT_DAYS and (
        value("evaluation_waitlist_mean") >= 0.5
    )
    if evaluations_bind:
        lines.append(_evaluation_sentence(value, blocked))
    if math.isfinite(blocked):
        reasons = sorted(
            ((value(k), text) for k, text in ADMISSION_LIMITS.items() if value(k) > 0.005),
            reverse=True,
        )
        if blocked < 0.005 or not reasons:
            lines.append(
                "Admissions: nobody waited for an IOP place that could not be given "
                "(seats and caseloads had room whenever someone was waiting)."
            )
        else:
            binding = [text for share, text in reasons if share >= 0.9 * reasons[0][0]]
            lines.append(
                f"Admissions were held up {100 * blocked:.0f}% of the time by: "
                + "; ".join(f"{text} ({100 * share:.0f}% of the time)" for share, text in reasons)
                + "."
            )
            held = _seats_held_waiting(value)
            if held:
                lines.append(held)
            elif len(binding) > 1:
                lines.append(
                    "These bind together: adding only one of them will admit few more clients."
                )
    occupancy = value("caseload_occupancy")
    if math.isfinite(occupancy):
        lines.append(
            f"Primary-therapist caseload places held: {100 * occupancy:.0f}% on average; "
            f"seats held: {100 * value('seat_occupancy'):.0f}%."
        )
    evaluation = value("wait_for_evaluation_days_mean")
    unbooked = value("medication_visits_unbooked_share")
    waiting = value("evaluation_waitlist_mean")
    if (
        (math.isfinite(evaluation) and evaluation >= 2)
        or (math.isfinite(unbooked) and unbooked >= 0.25)
        or (math.isfinite(waiting) and waiting >= 0.5)
    ):
        in_time = value("evaluated_in_time_share")
        said = [
            f"{100 * unbooked:.0f}% of due medication visits found no slot"
            if math.isfinite(unbooked)
            else "",
            f"{100 * in_time:.0f}% of those needing an evaluation had it within the days "
            "allowed after their first IOP day (iop.evaluation_within_days)"
            if math.isfinite(in_time)
            else "",
        ]
        lines.append(
            "Prescribers: "
            + (", ".join(x for x in said if x) or "no medication visit was due in the period")
            + (
                f"; {waiting:.1f} clients on average waited for an evaluation required before "
                f"their first IOP day (those seen waited {evaluation:.1f} days)"
                if math.isfinite(evaluation) and not evaluations_bind
                else ""
            )
            + "."
        )
    cancelled = value("sessions_cancelled_share")
    if math.isfinite(cancelled) and cancelled > 0.005:
        lines.append(f"Group sessions cancelled for want of a facilitator: {100 * cancelled:.1f}%.")
    if math.isfinite(intake) and not binds:
        queue, wait = value("intake_queue_days_mean"), value("wait_to_intake_days_mean")
        lines.append(
            f"Intake clinicians are {100 * intake:.0f}% busy"
            + _as_busy_as_shifts_allow(value)
            + (
                f"; the mean wait for an assessment is {wait:.1f} days"
                if math.isfinite(wait)
                else "; no one was assessed in the period"
            )
            + (
                f", {queue:.1f} of them beyond the first slot the intake rosters offer"
                if math.isfinite(queue) and math.isfinite(wait)
                else ""
            )
            + "."
        )
    lines += _level_lines(value, [str(k) for k in by.index])
    lines += _site_lines(value, [str(k) for k in by.index])
    return lines


def _site_lines(value, kpis: list[str]) -> list[str]:
    """Each site of a network: how much of the time admissions there were held up, and by
    what (the binding constraint per site)."""
    lines = []
    prefix = "admission_blocked_share[site="
    for site in sorted(k[len(prefix) : -1] for k in kpis if k.startswith(prefix)):
        of = f"[site={site}]"
        held = value("admission_blocked_share" + of)
        if not math.isfinite(held) or held < 0.005:
            continue
        seats = value("admission_blocked_by_seats_share" + of)
        caseload = value("admission_blocked_by_caseload_share" + of)
        reasons = [
            f"{text} {100 * share:.0f}% of the time"
            for text, share in (
                ("no free seat", seats),
                ("no therapist of the site with caseload room", caseload),
            )
            if math.isfinite(share) and share >= 0.005
        ]
        lines.append(
            f"Site {site}: admissions held up {100 * held:.0f}% of the time"
            + (f" ({'; '.join(reasons)})" if reasons else "")
            + "."
        )
    return lines


def level_sentences(summary: pd.DataFrame) -> list[str]:
    """The brief's lines on the levels of care: each level's places, queue, blocked days, hours
    rule and relapses, how many go on without a gap and its money; then the continuum's access
    (referral to the first day of care). Empty without levels."""
    by = summary.set_index("kpi")["mean"]

    def value(name: str) -> float:
        return float(by.get(name, math.nan))

    lines = _level_lines(value, [str(k) for k in by.index])
    prefix = "level_census_mean[level="
    for name in sorted(k[len(prefix) : -1] for k in map(str, by.index) if k.startswith(prefix)):
        of = f"[level={name}]"
        within7, within30 = (value(f"level_onward_within_{d}_days_share" + of) for d in (7, 30))
        if math.isfinite(within7):
            lines.append(
                f"Level {name}: of those going on to more care, {100 * within7:.0f}% started "
                f"within 7 days of being ready and {100 * within30:.0f}% within 30; revenue "
                f"{fmt(value('level_revenue_per_week' + of), 'money_per_week')}, cost "
                f"{fmt(value('level_cost_per_week' + of), 'money_per_week')}."
            )
    care = value("referral_to_care_days_mean")
    if lines and math.isfinite(care):
        lines.append(
            f"Referral to the first day of care at any level (the IOP included): {care:.1f} "
            "days on average."
        )
    return lines


def _referrals_and_transfers(value, of: str) -> str:
    """The level's wait for referrals and for transfers, where both were placed."""
    referrals = value("level_referral_wait_days_mean" + of)
    transfers = value("level_transfer_wait_days_mean" + of)
    if not (math.isfinite(referrals) and math.isfinite(transfers)):
        return ""
    return f": referrals {referrals:.1f}, transfers {transfers:.1f}"


def _level_lines(value, kpis: list[str]) -> list[str]:
    """Each level of care's places, queue and blocked days, in a sentence: where the pressure
    between levels shows (Pierotti et al. 2024: capacity added to one service moves it)."""
    lines = []
    prefix = "level_census_mean[level="
    for name in sorted(k[len(prefix) : -1] for k in kpis if k.startswith(prefix)):
        of = f"[level={name}]"
        blocked = value("level_blocked_days_per_week" + of)
        waiting = value("level_waitlist_mean" + of)
        places = value("level_places" + of)
        wait = value("level_wait_days_mean" + of)
        text = (
            f"Level {name}: {value('level_census_mean' + of):.1f} places held on average"
            + (f" of {places:.0f}" if math.isfinite(places) else "")
            + f", {waiting:.1f} waiting for one"
            + (
                f" (mean wait {wait:.1f} days" + _referrals_and_transfers(value, of) + ")"
                if math.isfinite(wait)
                else " (no one placed in the period)"
            )
        )
        gave_up = value("level_gave_up_share" + of)
        if math.isfinite(gave_up):
            text += f"; {100 * gave_up:.0f}% of those seeking a place gave up waiting"
        if math.isfinite(blocked) and blocked >= 0.5:
            text += (
                f"; {blocked:.1f} blocked days a week: clients ready to go on hold their place "
                "while the next level (or the IOP) has none for them"
            )
        met = value("level_client_weeks_meeting_hours_share" + of)
        if math.isfinite(met):
            text += f"; {100 * met:.0f}% of full client-weeks met its programme's hours rule"
        relapses = value("level_relapses_per_week" + of)
        if math.isfinite(relapses) and relapses > 0:
            text += (
                f"; {relapses:.2f} a week relapsed out of care on their way on (a gap or a "
                "wait outside)"
            )
        lines.append(text + ".")
    return lines


def overload_notes(scenario: Scenario, weekly: pd.DataFrame, kpis: pd.DataFrame) -> list[str]:
    """Plain-language warnings when demand exceeds capacity.

    Each queue (intake, IOP or step-down waitlist, or a level of care's) is judged by
    ``queue_verdicts`` on its replications' trends over the reporting period (``queue_growth``:
    a yearly cycle taken out when the period spans a year): OVERLOADED when it climbs beyond
    doubt and still climbs in the period's second half, whatever level it reached during the
    warm-up; GROWING, with a caveat, when it may be the season (under a year of seasonal
    referrals, grown by less than its mean length) or a queue still filling after a short
    warm-up (it levels off in the second half). Plans, sweeps, comparisons and robust plans
    judge what they run by the same rule (``overloaded_queues``).
    """
    notes = []
    steps = step_in_period(scenario)
    verdicts = queue_verdicts(scenario, weekly)
    for verdict in verdicts.values():
        if verdict.verdict is None:
            continue
        trend = (
            f"the {verdict.name} grows by about {verdict.mean:.2f} clients a week "
            f"(95% CI {verdict.low:.2f} to {verdict.high:.2f}; about {verdict.first:.0f} "
            f"waiting at the start of the measured period, {verdict.last:.0f} at its end)"
        )
        if verdict.why == "season":
            notes.append(
                f"GROWING: {trend}. Referrals vary by season and under a year is measured, so "
                "this may be the season rather than overload: measure a year or more to tell."
            )
        elif verdict.why == "filling" and steps:
            notes.append(
                f"GROWING: {trend}, but it levels off in the second half of the period: "
                f"{steps}, and it may be settling at a new level rather than overloaded. "
                "Measure a period that begins after the change to tell."
            )
        elif verdict.why == "filling":
            notes.append(
                f"GROWING: {trend}, but it levels off in the second half of the period: it may "
                "still be filling after too short a warm-up rather than overloaded. Lengthen "
                "the warm-up (see iopsim warmup) or measure longer to tell."
            )
        else:
            notes.append(
                f"OVERLOADED: {trend} and does not settle: demand exceeds capacity, so its mean "
                "and the waits depend on how long the run is and mean little"
                + (f" ({steps})" if steps else "")
                + ". Add capacity or reduce referrals."
            )
    lost = (
        kpis["lost_from_iop_waitlist_share"].mean() if "lost_from_iop_waitlist_share" in kpis else 0
    )
    blocked = kpis["admission_blocked_share"].mean() if "admission_blocked_share" in kpis else 0
    if lost >= LOSSES_ABSORB and blocked >= 0.5:
        worst = max(ADMISSION_LIMITS, key=lambda k: kpis[k].mean() if k in kpis else -1.0)
        notes.append(
            f"DEMAND ABSORBED BY LOSSES: {100 * lost:.0f}% of clients waiting for an IOP place "
            f"gave up, and admissions were held up {100 * blocked:.0f}% of the time, mostly by "
            f"{ADMISSION_LIMITS[worst]} ({100 * kpis[worst].mean():.0f}%). The waitlist stays "
            "level because people leave it, not because capacity is enough: more referrals "
            "would mostly mean more people giving up."
        )
    notes += _intake_absorbed(kpis, verdicts.get("intake_waitlist"))
    notes += _levels_absorbed(kpis, verdicts)
    if "turned_away_share" in kpis and kpis["turned_away_share"].mean() > 0.05:
        notes.append(
            f"{100 * kpis['turned_away_share'].mean():.0f}% of referrals were turned away "
            "because a waitlist was full."
        )
    return notes


def _intake_absorbed(kpis: pd.DataFrame, verdict) -> list[str]:
    """Intake's demand absorbed by losses: clients queue a week or more beyond the first slot
    the intake rosters offer and so many give up that the intake waitlist stays level (one
    that climbs is OVERLOADED instead). Without this, an intake far short of its referrals
    whose waitlist levels off at hundreds read as a queue that settles."""
    if "intake_queue_days_mean" not in kpis or (
        verdict is not None and verdict.verdict == "overloaded"
    ):
        return []
    queue = kpis["intake_queue_days_mean"].mean()
    lost = kpis["lost_before_assessment_share"].mean()
    if not (queue >= INTAKE_QUEUE_DAYS and lost >= LOSSES_ABSORB):
        return []
    return [
        f"DEMAND ABSORBED BY LOSSES AT INTAKE: those assessed waited "
        f"{kpis['wait_to_intake_days_mean'].mean():.1f} days for it on average, {queue:.1f} of "
        f"them beyond the first slot the intake rosters offered, and {100 * lost:.0f}% of "
        "referrals gave up before one. The intake waitlist stays level because people leave "
        "it, not because intake hours are enough: more referrals would mostly mean more people "
        "giving up."
    ]


def _levels_absorbed(kpis: pd.DataFrame, verdicts: dict) -> list[str]:
    """A level whose waitlist stays level because those waiting out of care give up
    (``patience_days``; a client waits only when every place is taken): without this its
    waitlist, flat, read as places that are enough (one that climbs is OVERLOADED instead)."""
    notes = []
    prefix = "level_gave_up_share[level="
    for column in sorted(c for c in kpis.columns if c.startswith(prefix)):
        name = column[len(prefix) : -1]
        of = f"[level={name}]"
        gave_up = kpis[column].mean()
        verdict = verdicts.get(f"{LEVEL_QUEUE}{name}]")
        if not gave_up >= LOSSES_ABSORB or (
            verdict is not None and verdict.verdict == "overloaded"
        ):
            continue
        held = kpis["level_census_mean" + of].mean() / kpis["level_places" + of].mean()
        notes.append(
            f"DEMAND ABSORBED BY LOSSES AT LEVEL {name}: {100 * gave_up:.0f}% of those seeking "
            "a place gave up waiting out of care for want of one"
            + (f" ({100 * held:.0f}% of its places held on average)" if math.isfinite(held) else "")
            + ". Its waitlist stays level because people leave it, not because its places are "
            "enough: more referrals would mostly mean more people giving up."
        )
    return notes


def step_in_period(scenario: Scenario) -> str:
    """The changes in referrals (``referrals.step_changes``) inside the measured period, in
    words ('referrals change x1.6 from week 56, inside the measured period'), or '': a queue
    that grows or settles after one is the clinic meeting new demand, which neither a longer
    warm-up nor the warm-up check can tell from a clinic still filling."""
    changes = [
        c
        for c in sorted(scenario.referrals.step_changes, key=lambda c: c.from_week)
        if scenario.measured_from_week < c.from_week < scenario.total_weeks
    ]
    if not changes:
        return ""
    said = ", ".join(f"x{c.multiplier:g} from week {c.from_week}" for c in changes)
    return f"referrals change {said}, inside the measured period"
