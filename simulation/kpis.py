"""The catalogue of key performance indicators (KPIs): names, units and meaning.

The names are a contract with users (scenario targets, summary.csv, dashboards): add to this
list, never rename. Per-pool and per-room utilisations are added as ``utilisation_<name>``.
"""

from __future__ import annotations

from dataclasses import replace

from simulation.kpi import Kpi
from simulation.level_kpis import CONTINUUM_CATALOGUE, LEVEL_CATALOGUE

_CATALOGUE = [
    Kpi("referrals_per_week", "per_week", "Referrals received per week", "neither"),
    Kpi("wait_to_intake_days_mean", "days", "Mean days from referral to the intake assessment"),
    Kpi("wait_to_intake_days_p90", "days", "90th percentile of days from referral to assessment"),
    Kpi(
        "intake_queue_days_mean",
        "days",
        "Mean days of the wait for an assessment beyond the first slot the intake clinicians' "
        "rosters offered (the queue for intake: not the booking lead or the days between clinics)",
    ),
    Kpi(
        "wait_to_iop_days_mean", "days", "Mean days from the end of assessment to the first IOP day"
    ),
    Kpi("wait_to_iop_days_p90", "days", "90th percentile of days from assessment to IOP start"),
    Kpi(
        "referral_to_iop_days_mean",
        "days",
        "Mean days from referral to the first IOP day (the wait as clients live it)",
    ),
    Kpi(
        "referral_to_iop_days_p90",
        "days",
        "90th percentile of days from referral to the first IOP day",
    ),
    Kpi(
        "share_started_within_14_days",
        "share",
        "Share assessed as needing IOP who started within 14 days (HEDIS)",
        "higher",
    ),
    Kpi("iop_waitlist_mean", "clients", "Mean number waiting for an IOP place (time-weighted)"),
    Kpi("iop_waitlist_max", "clients", "Largest IOP waitlist seen"),
    Kpi("intake_waitlist_mean", "clients", "Mean number waiting for an intake assessment"),
    Kpi("op_waitlist_mean", "clients", "Mean number waiting at home for outpatient step-down"),
    Kpi(
        "evaluation_waitlist_mean",
        "clients",
        "Mean number waiting for a prescriber's evaluation required before the first IOP day",
    ),
    *[
        Kpi(
            f"{queue}_growth_per_week",
            "per_week",
            f"Trend of the {name} over the measured period, clients a week (a yearly cycle "
            "taken out): above zero beyond doubt means it does not settle",
            signed=True,
        )
        for queue, name in (
            ("intake_waitlist", "intake waitlist"),
            ("iop_waitlist", "IOP waitlist"),
            ("op_waitlist", "outpatient step-down waitlist"),
        )
    ],
    Kpi("iop_census_mean", "clients", "Mean number of clients in the IOP", "neither"),
    Kpi(
        "op_census_mean",
        "clients",
        "Mean number of clients in step-down outpatient care",
        "neither",
    ),
    Kpi("admissions_per_week", "per_week", "IOP admissions (first IOP day) per week", "higher"),
    Kpi(
        "lost_from_waitlist_share",
        "share",
        "Share of referrals who gave up waiting (for intake, the IOP or a place at a level of care), of those whose fate is known",
    ),
    Kpi(
        "lost_before_assessment_share",
        "share",
        "Share of referrals lost before assessment, of those assessed or gone",
    ),
    Kpi(
        "lost_from_iop_waitlist_share",
        "share",
        "Share of clients placed on the IOP waitlist who gave up before starting, of those who left it",
    ),
    Kpi(
        "turned_away_share",
        "share",
        "Share of referrals turned away because a waitlist was full, of those whose fate is known",
    ),
    Kpi(
        "referrals_waiting_at_end_share",
        "share",
        "Share of the period's referrals still waiting (intake or IOP) when the run ends",
    ),
    Kpi(
        "referrals_never_assessed_share",
        "share",
        "Share of the period's referrals still waiting for an assessment when the run ends",
    ),
    Kpi(
        "completion_share",
        "share",
        "Share of IOP discharges that completed the programme",
        "higher",
    ),
    Kpi("dropout_share", "share", "Share of IOP discharges that dropped out"),
    Kpi("escalation_share", "share", "Share of IOP discharges escalated to a higher level of care"),
    Kpi(
        "authorisation_ended_share",
        "share",
        "Share of IOP discharges that ended because the payer refused an extension",
    ),
    Kpi(
        "iop_length_of_stay_days_mean", "days", "Mean days in IOP (first day to leaving)", "neither"
    ),
    Kpi(
        "therapist_utilisation",
        "share",
        "Therapists' client-facing hours / rostered hours",
        "neither",
    ),
    Kpi(
        "prescriber_utilisation",
        "share",
        "Prescribers' client-facing hours / rostered hours",
        "neither",
    ),
    Kpi(
        "intake_utilisation",
        "share",
        "Intake clinicians' client-facing hours / rostered hours",
        "neither",
    ),
    Kpi(
        "intake_fillable_share",
        "share",
        "Share of the intake clinicians' rostered hours that assessments can fill: their shifts "
        "filled first come, first booked, with assessments of intake.assessment_hours (the most "
        "intake_utilisation can reach; none when intake clinicians also do other work)",
        "neither",
    ),
    Kpi(
        "room_utilisation", "share", "Group-room hours in use / hours the rooms are open", "neither"
    ),
    Kpi(
        "group_turned_away_share",
        "share",
        "Clients who came to a group but were turned away: that day's kind of group was at its maximum size",
        "lower",
    ),
    Kpi(
        "office_utilisation",
        "share",
        "Office hours booked for appointments / hours the offices are open (no offices: blank)",
        "neither",
    ),
    Kpi(
        "therapist_productivity",
        "share",
        "Therapists' client-facing hours / paid hours (the industry's productivity measure)",
        "neither",
    ),
    Kpi(
        "therapist_time_committed",
        "share",
        "Therapists' client-facing + indirect hours (notes, supervision, meetings) / rostered hours",
        "neither",
    ),
    Kpi(
        "clients_per_therapist_fte",
        "clients",
        "Mean IOP clients per therapist FTE (staffing rules: e.g. 24 per counsellor in N.J.)",
        "neither",
    ),
    Kpi(
        "staff_vacancy_weeks_per_year",
        "clients",
        "Post-weeks a year below each pool's establishment (vacancies after leavers)",
    ),
    Kpi(
        "agency_weeks_per_year",
        "clients",
        "Post-weeks a year covered by agency locums (at a higher cost)",
        "neither",
    ),
    Kpi(
        "clients_reassigned_per_year",
        "clients",
        "Clients a year moved to another clinician when theirs left",
        "neither",
    ),
    Kpi(
        "clients_left_without_clinician_per_year",
        "clients",
        "Clients a year left without a primary clinician when theirs left (no colleague had room)",
    ),
    Kpi(
        "documentation_unbooked_hours_per_week",
        "hours_per_week",
        "Hours of notes a week that found no free time the same day (overtime)",
    ),
    Kpi("seat_occupancy", "share", "IOP seats held by clients / seats (time-weighted)", "neither"),
    Kpi("mean_group_size", "clients", "Mean attendees per group session held", "neither"),
    Kpi("sessions_cancelled_share", "share", "Share of timetabled group sessions cancelled"),
    Kpi(
        "sessions_low_attendance_share",
        "share",
        "Share of group sessions merged or cancelled because too few came (track.min_attendance)",
    ),
    Kpi(
        "client_weeks_meeting_hours_share",
        "share",
        "Share of full IOP client-weeks with 9+ hours (6+ adolescents)",
        "higher",
    ),
    Kpi(
        "individual_sessions_unbooked_share",
        "share",
        "Share of due individual sessions that found no free slot with the primary therapist",
    ),
    Kpi(
        "medication_visits_unbooked_share",
        "share",
        "Share of due medication visits (evaluations and reviews) that found no prescriber slot that week",
    ),
    Kpi(
        "medication_visit_days_late_mean",
        "days",
        "Mean days a medication visit took place after it was due",
    ),
    Kpi(
        "evaluated_in_time_share",
        "share",
        "Share of clients needing a psychiatric evaluation who had it within the days allowed after starting (iop.evaluation_within_days)",
        "higher",
    ),
    Kpi(
        "wait_for_evaluation_days_mean",
        "days",
        "Mean days waiting for a prescriber's evaluation required before the first IOP day",
    ),
    Kpi(
        "lost_waiting_for_evaluation_share",
        "share",
        "Share of clients waiting for a prescriber's evaluation required before the first IOP "
        "day who gave up before it, of those whose wait ended",
    ),
    Kpi(
        "blocked_step_down_days_mean",
        "days",
        "Mean days a completer kept an IOP seat waiting for an outpatient slot",
    ),
    Kpi(
        "blocked_in_iop_mean",
        "clients",
        "Mean number of clients holding an IOP seat while waiting to move on (an outpatient "
        "slot, or a place at a higher level of care)",
    ),
    Kpi(
        "admission_blocked_share",
        "share",
        "Share of time someone waited for an IOP place that could not be given",
    ),
    Kpi(
        "admission_blocked_by_seats_share",
        "share",
        "Share of time admissions were held up because no seat was free in a fitting track",
    ),
    Kpi(
        "admission_blocked_by_caseload_share",
        "share",
        "Share of time admissions were held up because every primary therapist was at their caseload cap",
    ),
    Kpi(
        "admission_blocked_by_cohort_share",
        "share",
        "Share of time admissions were held up waiting for a cohort to start",
    ),
    Kpi(
        "caseload_occupancy",
        "share",
        "Primary-therapist IOP caseload places held / caseload places (time-weighted)",
        "neither",
    ),
    Kpi(
        "billable_days_per_week",
        "per_week",
        "IOP client-days that meet the billable-day rule, per week",
        "higher",
    ),
    Kpi("revenue_per_week", "money_per_week", "Revenue per week", "higher"),
    *[
        Kpi(
            f"readmitted_within_{days}_days_share",
            "share",
            f"Clients discharged after an IOP stay who were referred again within {days} days",
            "lower",
        )
        for days in (30, 90, 365)
    ],
    Kpi(
        "denied_revenue_per_week",
        "money_per_week",
        "Claims denied a week (with [[payers]])",
        "lower",
    ),
    Kpi(
        "days_in_accounts_receivable",
        "days",
        "Days from a claim to its payment, weighted by what is billed (with [[payers]])",
        "lower",
    ),
    Kpi(
        "extensions_refused_share",
        "share",
        "Clients whose payer refused an extension at a utilisation review",
        "lower",
    ),
    Kpi("cost_per_week", "money_per_week", "Cost of staff and rooms per week"),
    Kpi("margin_per_week", "money_per_week", "Revenue less cost per week", "higher", signed=True),
]

_SHORT = {
    "referral_to_iop_days_mean": "Referral to IOP, mean",
    "referral_to_iop_days_p90": "Referral to IOP, p90",
    "wait_to_intake_days_mean": "Wait for assessment, mean",
    "wait_to_iop_days_mean": "Assessment to IOP, mean",
    "wait_to_iop_days_p90": "Assessment to IOP, p90",
    "share_started_within_14_days": "Started within 14 d",
    "lost_from_waitlist_share": "Gave up waiting",
    "lost_from_iop_waitlist_share": "Gave up on the IOP list",
    "iop_census_mean": "In IOP",
    "admissions_per_week": "Starts a week",
    "client_weeks_meeting_hours_share": "Weeks with hours met",
    "revenue_per_week": "Revenue",
    "denied_revenue_per_week": "Denied",
}
LEVEL_KPIS = tuple(k.name for k in LEVEL_CATALOGUE)
KPIS: dict[str, Kpi] = {
    k.name: replace(k, short=_SHORT[k.name]) if k.name in _SHORT else k for k in _CATALOGUE
}
KPIS.update({k.name: k for k in [*LEVEL_CATALOGUE, *CONTINUUM_CATALOGUE]})
UTILISATION_PREFIX = "utilisation_"
CASELOAD_PREFIX = "caseload_occupancy_"

GROUP_KINDS = ("track", "age_group", "source", "payer", "site", "region")
"""Who a group KPI is about: clients of one track, one age group, one referral source, one
payer, one site or one region (with sites)."""
SITE_LIMIT_KPIS = (
    "admission_blocked_share",
    "admission_blocked_by_seats_share",
    "admission_blocked_by_caseload_share",
)
"""What holds admissions up at a site: the KPIs of ``model.network.SITE_LIMITS``, in order."""
SITE_KPIS = (
    *SITE_LIMIT_KPIS,
    "therapist_utilisation",
    "prescriber_utilisation",
    "intake_utilisation",
    "site_revenue_per_week",
    "site_direct_cost_per_week",
    "site_contribution_per_week",
)
"""What holds admissions up, staff utilisation and money, also reported per site of a network as
``<kpi>[site=<name>]``."""
TRACK_APPOINTMENT_KPIS = {
    "individual_sessions_unbooked_share": "individual",
    "medication_visits_unbooked_share": "medication",
}
"""Appointments that found no slot, also reported per track as ``<kpi>[track=<name>]`` (by
the kind of appointment each counts)."""
PAYER_KPIS = ("revenue_per_week", "denied_revenue_per_week", "extensions_refused_share")
"""Money and reviews also reported per payer as ``<kpi>[payer=<name>]`` (extensions refused:
for each payer with utilisation reviews)."""
GROUP_KPIS = (
    "referral_to_iop_days_mean",
    "referral_to_iop_days_p90",
    "wait_to_intake_days_mean",
    "wait_to_iop_days_mean",
    "wait_to_iop_days_p90",
    "share_started_within_14_days",
    "lost_from_waitlist_share",
    "lost_from_iop_waitlist_share",
    "iop_census_mean",
    "admissions_per_week",
    "client_weeks_meeting_hours_share",
)
"""KPIs also reported per group as ``<kpi>[<kind>=<name>]``, e.g.
``wait_to_iop_days_p90[age_group=adolescent]``."""


def group_kpi(base: str, kind: str, name: str) -> str:
    """The name of a KPI for one group: ``wait_to_iop_days_p90[track=evening]``."""
    return f"{base}[{kind}={name}]"


def split_group(name: str) -> tuple[str, str | None]:
    """``'wait_to_iop_days_p90[track=evening]'`` -> ``('wait_to_iop_days_p90', 'track=evening')``."""
    if name.endswith("]") and "[" in name:
        base, _, group = name[:-1].partition("[")
        return base, group
    return name, None


def describe(name: str) -> Kpi:
    """The catalogue entry for ``name``, including per-resource ``utilisation_<name>``,
    per-pool ``caseload_occupancy_<pool>`` and per-group ``<kpi>[<kind>=<name>]``."""
    if name in KPIS:
        return KPIS[name]
    base, group = split_group(name)
    if group is not None:
        kind, sep, who = group.partition("=")
        if (
            sep
            and who
            and (
                (base in GROUP_KPIS and kind in GROUP_KINDS)
                or (base in PAYER_KPIS and kind == "payer")
                or (base in TRACK_APPOINTMENT_KPIS and kind == "track")
                or (base in LEVEL_KPIS and kind == "level")
                or (base in SITE_KPIS and kind == "site")
            )
        ):
            k = KPIS[base]
            return Kpi(
                name,
                k.unit,
                f"{k.description} ({kind.replace('_', ' ')} {who})",
                k.better,
                k.signed,
                k.short,
            )
        raise KeyError(name)
    if name.startswith(UTILISATION_PREFIX):
        who = name[len(UTILISATION_PREFIX) :]
        return Kpi(name, "share", f"Utilisation of {who}: busy hours / available hours", "neither")
    if name.startswith(CASELOAD_PREFIX):
        who = name[len(CASELOAD_PREFIX) :]
        return Kpi(name, "share", f"IOP caseload places held in {who} / places", "neither")
    raise KeyError(name)


HEADLINE = (
    "referral_to_iop_days_mean",
    "referral_to_iop_days_p90",
    "lost_from_waitlist_share",
    "wait_to_intake_days_mean",
    "wait_to_iop_days_mean",
    "wait_to_iop_days_p90",
    "share_started_within_14_days",
    "iop_waitlist_mean",
    "iop_census_mean",
    "admissions_per_week",
    "therapist_utilisation",
    "room_utilisation",
    "seat_occupancy",
    "client_weeks_meeting_hours_share",
    "margin_per_week",
)
"""The KPIs printed after a run and shown first on dashboards."""

DECISION = (
    "referral_to_iop_days_mean",
    "wait_to_iop_days_p90",
    "lost_before_assessment_share",
    "admissions_per_week",
    "therapist_utilisation",
    "margin_per_week",
)
"""What a director weighs first: access, losses, throughput, staff, money (sensitivity's
default KPIs and the comparison brief's)."""


def kpi_label(name: str) -> str:
    """A KPI's name for a column heading or a table row: its short label, else its
    description."""
    k = describe(name)
    return k.short or k.description


def in_weeks(value: float, unit: str, weeks: bool = True) -> bool:
    """Whether days are shown as weeks: from 4 weeks on, unless ``weeks`` is False."""
    return unit == "days" and weeks and value == value and abs(value) >= 28


def fmt(value: float, unit: str, weeks: bool = True, as_weeks: bool | None = None) -> str:
    """A value as people read it: days (weeks from 4 weeks on, unless ``weeks`` is False;
    ``as_weeks`` forces the choice, so that a value and its interval share one unit),
    percentages, money (a loss as -$872/wk)."""
    if value is None or value != value:  # NaN
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "days":
        show_weeks = in_weeks(value, unit, weeks) if as_weeks is None else as_weeks
        return f"{value / 7:.1f} wk" if show_weeks else f"{value:.1f} d"
    if unit == "money_per_week":
        return f"{'-' if value < 0 else ''}${abs(value):,.0f}/wk"
    if unit == "hours_per_week":
        return f"{value:.1f} h/wk"
    if unit == "minutes":
        return f"{value:.0f} min"
    if unit == "per_week":
        return f"{value:.2f}/wk"
    return f"{value:.1f}"


def fmt_interval(mean: float, low: float, high: float, unit: str, weeks: bool = True) -> str:
    """'a to b' in the unit the mean is shown in (never '20.4 d to 4.1 wk'); a zero-width
    interval says why; '' without one (a single replication)."""
    if low is None or low != low or high != high:
        return ""
    if low == high:
        return "none: the same in every replication"
    as_weeks = in_weeks(mean, unit, weeks)
    return f"{fmt(low, unit, as_weeks=as_weeks)} to {fmt(high, unit, as_weeks=as_weeks)}"


def fmt_with_ci(mean: float, low: float, high: float, unit: str, weeks: bool = True) -> str:
    """'mean (95% CI a to b)' in one unit; the mean alone without an interval."""
    shown = fmt(mean, unit, weeks)
    interval = fmt_interval(mean, low, high, unit, weeks)
    if not interval:
        return shown
    if interval.startswith("none"):
        return f"{shown} (no spread: the same in every replication)"
    return f"{shown} (95% CI {interval})"


def fmt_signed(value: float, unit: str) -> str:
    """A difference with its sign: +2.1 d, -3.0%."""
    if value is None or value != value:
        return "n/a"
    return ("+" if value >= 0 else "-") + fmt(abs(value), unit)
