"""The KPIs of levels of care beside the IOP (each reported as ``<kpi>[level=<name>]``) and of a
continuum of care as a whole."""

from __future__ import annotations

from simulation.kpi import Kpi

LEVEL_CATALOGUE = [
    Kpi(
        "level_census_mean",
        "clients",
        "Mean number of clients holding a place at the level",
        "neither",
        short="In care",
    ),
    Kpi(
        "level_waitlist_mean",
        "clients",
        "Mean number waiting for a place at the level",
        short="Waiting",
    ),
    Kpi(
        "level_waitlist_growth_per_week",
        "per_week",
        "Trend of the level's waitlist over the measured period, clients a week (a yearly cycle taken out): above zero beyond doubt means it does not settle",
        signed=True,
        short="Waitlist trend",
    ),
    Kpi(
        "level_blocked_mean",
        "clients",
        "Mean number at the level ready to go on but waiting for the next place (blocked)",
        short="Blocked",
    ),
    Kpi(
        "level_blocked_days_per_week",
        "per_week",
        "Blocked days at the level a week: place-days of clients ready to go on, waiting for the next place",
        short="Blocked days",
    ),
    Kpi(
        "level_admissions_per_week",
        "per_week",
        "Admissions to the level a week",
        "neither",
        short="Admissions",
    ),
    Kpi(
        "level_wait_days_mean",
        "days",
        "Mean wait for a place at the level (those placed)",
        short="Wait",
    ),
    Kpi(
        "level_referral_wait_days_mean",
        "days",
        "Mean wait for a place at the level of referrals placed (a source's placed there, or intake's): with transfers first, longer than the level's mean wait",
        short="Referrals' wait",
    ),
    Kpi(
        "level_transfer_wait_days_mean",
        "days",
        "Mean wait for a place at the level of transfers placed (from another level or the IOP, or a relapse on the way on)",
        short="Transfers' wait",
    ),
    Kpi(
        "level_stay_days_mean",
        "days",
        "Mean stay at the level, admission to ready to go on (stays ended)",
        "neither",
        short="Stay",
    ),
    Kpi(
        "level_places",
        "clients",
        "Places in use at the level: its places, or fewer when its programme's staffing ratio allows fewer (blank: unlimited)",
        "neither",
        short="Places",
    ),
    Kpi(
        "level_hours_per_client_week_mean",
        "hours_per_week",
        "Programme hours a client attended in a full week at the level (levels with a day programme)",
        "higher",
        short="Hours a week",
    ),
    Kpi(
        "level_client_weeks_meeting_hours_share",
        "share",
        "Share of full client-weeks at the level meeting its programme's hours rule (min_hours_per_week)",
        "higher",
        short="Weeks meeting hours",
    ),
    Kpi(
        "level_completed_share",
        "share",
        "Of stays at the level ended, the share ended as completed (stepping down or home)",
        "higher",
        short="Completed",
    ),
    Kpi(
        "level_dropped_out_share",
        "share",
        "Of stays at the level ended, the share ended by dropping out",
        short="Dropped out",
    ),
    Kpi(
        "level_stepped_up_share",
        "share",
        "Of stays at the level ended, the share ended by a step-up to more intensive care (a route or deterioration during the stay)",
        short="Stepped up",
    ),
    Kpi(
        "level_other_share",
        "share",
        "Of stays at the level ended, the share ended for other reasons",
        "neither",
        short="Other exits",
    ),
    Kpi(
        "level_readmitted_within_30_days_share",
        "share",
        "Of stays at the level ended, the share whose client was admitted to the level again within 30 days of leaving (readmissions)",
        short="Back within 30 days",
    ),
    Kpi(
        "level_gave_up_share",
        "share",
        "Of those who sought a place at the level and whose wait ended (placed, gave up, or relapsed on the way), the share who gave up waiting out of care (levels with patience_days)",
        short="Gave up waiting",
    ),
    Kpi(
        "level_relapses_per_week",
        "per_week",
        "Clients a week who relapsed out of care on their way on from the level (in a gap, or waiting outside for their next place) and went to more intensive care instead",
        short="Relapses",
    ),
    Kpi(
        "level_revenue_per_week",
        "money_per_week",
        "Revenue of the level a week: its per diem for each day a place is held (blocked days if billed)",
        "higher",
        short="Revenue",
    ),
    Kpi(
        "level_cost_per_week",
        "money_per_week",
        "Cost of the level a week: its places (unlimited places: those held) at their weekly cost, and the pay of the staff pools who run its programme",
        short="Cost",
    ),
    Kpi(
        "level_onward_within_7_days_share",
        "share",
        "Of those going on to another level or the IOP, the share who started there within 7 days of being ready (a step-down without a gap)",
        "higher",
        short="On within 7 days",
    ),
    Kpi(
        "level_onward_within_30_days_share",
        "share",
        "Of those going on to another level or the IOP, the share who started there within 30 days of being ready",
        "higher",
        short="On within 30 days",
    ),
]
"""KPIs of each level of care beside the IOP, reported as ``<kpi>[level=<name>]``."""
CONTINUUM_CATALOGUE = [
    Kpi(
        "referral_to_care_days_mean",
        "days",
        "Mean days from referral to the first day of care at any level (a level's admission or the first IOP day), for referrals that reached care",
        short="Referral to care",
    ),
    Kpi(
        "site_revenue_per_week",
        "money_per_week",
        "Revenue a week from the clients seen at a site (IOP days and outpatient sessions, denials taken off; networks of sites)",
        "higher",
        short="Site revenue",
    ),
    Kpi(
        "site_direct_cost_per_week",
        "money_per_week",
        "A site's own costs a week: the pay of the staff pools that work there and its group rooms (shared staff and overheads are the network's)",
        short="Site cost",
    ),
    Kpi(
        "site_contribution_per_week",
        "money_per_week",
        "A site's revenue less its own costs a week: what it contributes to the network's shared costs and margin",
        "higher",
        signed=True,
        short="Site contribution",
    ),
    Kpi(
        "travel_minutes_mean",
        "minutes",
        "Mean travel minutes from a client's region to the site they were seen at (IOP starts, none for those who join by video; networks of sites)",
        short="Travel",
    ),
]
"""KPIs of a continuum of care or a network of sites as a whole."""
