"""A scenario of the clinic from its episode extract: every value the data can inform is
estimated with its evidence; the rest keep the template's value and stay marked [E]."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from simulation.config import EXIT_REASONS, IOP, Scenario, to_data
from simulation.data.extract import Episodes, at_iop
from simulation.data.state import direct_sources, referral_rows
from simulation.fit.before_records import state_note
from simulation.fit.capacity import fit_capacity
from simulation.fit.evidence import Evidence
from simulation.fit.levels import fit_levels, unrouted_levels
from simulation.fit.network import at_template_sites, fit_network
from simulation.fit.patience import days_at_risk, fit_patience, session_weekdays
from simulation.fit.payers import fit_payers
from simulation.fit.survival import Z95, best_fit, fit_competing, kaplan_meier, wilson
from simulation.fit.tracks import shift_cohorts

MIN_STAY_EVENTS = 5  # fewer stays ended for a reason: its stay distribution is not fitted


@dataclass
class FitResult:
    """The fitted scenario data, the evidence for each fitted value, notes, and what the
    report draws (observed against fitted)."""

    data: dict
    evidence: list[Evidence]
    notes: list[str] = field(default_factory=list)
    curves: dict = field(default_factory=dict)


def _days(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.total_seconds() / 86400.0).to_numpy(dtype=float)


def fit_clinic(
    episodes: Episodes, template: Scenario, staff: pd.DataFrame | None = None
) -> FitResult:
    """Estimate the scenario values the extract informs (see docs/data.md for each method)."""
    as_of = episodes.as_of
    data = to_data(template)
    # the rows of other levels of care (a level column) are fitted as levels; the rest is the IOP
    everyone = episodes.table
    iop = at_iop(everyone)
    at_levels = everyone[~iop]
    if len(at_levels):
        episodes = replace(episodes, table=episodes.table[iop].reset_index(drop=True))
    t = episodes.table
    ev: list[Evidence] = []
    notes: list[str] = []
    curves: dict = {}

    # --- referrals: rate, weekday shares, seasonality, trend ---------------------------------
    # A source the template sends straight to a level of care (a PHP's inpatient step-downs)
    # refers there: its referrals are that level's rows, and its rows at the IOP are clients
    # who came on from the level (not new referrals). Every other source refers to intake and
    # the IOP: its rows at a level came there from intake or the IOP.
    direct = direct_sources(template)
    direct.update(_direct_in_records(everyone, template, notes))
    referred = referral_rows(everyone, direct) if direct else t
    arrived, extra = _referral_dates(referred, episodes.dropped_referrals, direct)
    first = arrived.min().normalize()
    monday = first + pd.Timedelta(days=(7 - first.weekday()) % 7)
    last_monday = as_of.normalize() - pd.Timedelta(days=as_of.weekday())
    stopped = _referrals_stopped(arrived, monday, as_of)
    if stopped is not None:
        last_monday, note = stopped
        notes.append(note)
    weeks = max(int((last_monday - monday).days // 7), 0)
    window = arrived[(arrived >= monday) & (arrived < last_monday)]
    also = int(((extra >= monday) & (extra < last_monday)).sum())
    if weeks >= 4:
        n = len(window)
        rate = n / weeks
        half = Z95 * math.sqrt(max(n, 1)) / weeks
        data["referrals"]["per_week"] = round(rate, 3)
        ev.append(
            Evidence(
                "referrals.per_week",
                round(rate, 3),
                rate - half,
                rate + half,
                n,
                f"referrals / {weeks} full weeks (Poisson CI)"
                + (
                    f"; {also} of them in rows left out for a later problem, counted here"
                    if also
                    else ""
                ),
            )
        )
        by_day = window.dt.day_of_week.value_counts().reindex(range(7), fill_value=0)
        shares = (by_day / max(n, 1)).round(4)
        shares.iloc[0] += round(1.0 - shares.sum(), 4)  # sum exactly to 1
        data["referrals"]["weekday_shares"] = [float(x) for x in shares]
        ev.append(
            Evidence(
                "referrals.weekday_shares",
                [float(x) for x in shares],
                math.nan,
                math.nan,
                n,
                "share of referrals by weekday",
            )
        )
        counts = window.groupby((window - monday).dt.days // 7).size()
        counts = counts.reindex(range(weeks), fill_value=0)
        curves["weekly_referrals"] = counts
        slope, se = _trend(counts.to_numpy(dtype=float))
        if np.isfinite(slope) and rate > 0:
            per_year = 52 * slope / rate
            low, high = 52 * (slope - Z95 * se) / rate, 52 * (slope + Z95 * se) / rate
            notes.append(
                f"Trend in referrals: {100 * per_year:+.0f}% a year (95% CI {100 * low:+.0f}% to "
                f"{100 * high:+.0f}%); not applied: add referrals.step_changes if it should be."
            )
        if weeks >= 104:
            days = window
            per_month = days.dt.month.value_counts().reindex(range(1, 13), fill_value=0)
            exposure = pd.Series(pd.date_range(monday, last_monday - pd.Timedelta(days=1)).month)
            exposure = exposure.value_counts().reindex(range(1, 13), fill_value=0)
            daily = per_month / exposure.replace(0, np.nan)
            raw = (daily / daily.mean()).fillna(1.0)
            # Shrink toward 1 by how much of the month-to-month spread is Poisson noise
            # (James-Stein): with two years of a small clinic most of it is.
            noise = float((raw**2 / per_month.clip(lower=1)).mean())
            spread = float(((raw - 1) ** 2).mean())
            keep = max(0.0, 1.0 - noise / spread) if spread > 0 else 0.0
            multipliers = (1 + keep * (raw - 1)).round(3)
            data["referrals"]["seasonality"] = [float(x) for x in multipliers]
            ev.append(
                Evidence(
                    "referrals.seasonality",
                    [float(x) for x in multipliers],
                    math.nan,
                    math.nan,
                    n,
                    f"referrals per day in each month / the mean, shrunk {100 * (1 - keep):.0f}% "
                    "toward 1 (the share of the monthly spread that is chance)",
                )
            )
            if keep == 0:
                notes.append(
                    "Seasonality: the months differ no more than chance would make them; "
                    "no seasonal pattern is applied (all months 1.0)."
                )
        else:
            notes.append(
                f"Seasonality: {weeks} weeks of referrals is too short to tell a season from "
                "chance (2 years needed); the template's monthly multipliers are kept [E]."
            )
    else:
        notes.append(
            "Fewer than 4 full weeks of referrals: the referral rate is the template's [E]."
        )

    # --- sources -------------------------------------------------------------------------------
    names = referred["source"].value_counts()
    template_sources = {s["name"]: s for s in data["referrals"]["sources"]}
    sources = []
    for name, count in names.items():
        p, low, high = wilson(int(count), len(referred))
        age = referred.loc[referred["source"] == name, "age_group"].mode().iat[0]
        base = template_sources.get(name)
        if base is None:
            if name not in direct:
                notes.append(_new_source_note(str(name), p, template_sources))
            base = {"priority": 1, "level": direct.get(name, IOP)}
        sources.append(
            {
                "name": str(name),
                "share": round(p, 4),
                "priority": base.get("priority", 1),
                "age_group": str(age),
                **({"level": base["level"]} if base.get("level", IOP) != IOP else {}),
                **({"seasonality": base["seasonality"]} if base.get("seasonality") else {}),
            }
        )
        ev.append(
            Evidence(
                f"referrals.sources.{name}.share",
                round(p, 4),
                low,
                high,
                len(referred),
                "share of referrals (Wilson CI)",
            )
        )
    total = sum(s["share"] for s in sources)
    sources[0]["share"] = round(sources[0]["share"] + 1.0 - total, 4)
    data["referrals"]["sources"] = sources
    fit_payers(referred, data, ev, notes)

    # --- intake: loss before assessment, outcomes ------------------------------------------------
    decided = t[t["assessment_outcome"] != ""]
    lost = int((decided["assessment_outcome"] == "lost").sum())
    if len(decided) >= 10 and template.intake.enabled:
        p, low, high = wilson(lost, len(decided))
        method = "lost before assessment / referrals with a known fate (Wilson CI)"
        if template.intake.patience_days is not None:  # part of the loss is the wait's
            waited = _days(t["assessment_date"], t["referral_date"])
            patience = _patience_loss(template.intake.patience_days, waited[np.isfinite(waited)])
            p, low, high = (max(1 - (1 - x) / (1 - patience), 0.0) for x in (p, low, high))
            method += (
                f"; less the {100 * patience:.0f}% the template's patience [E] loses at this "
                "clinic's waits to assessment (total loss = the records')"
            )
        data["intake"]["lost_share"] = round(p, 4)
        ev.append(Evidence("intake.lost_share", round(p, 4), low, high, len(decided), method))
        from simulation.data.state import lost_chance

        chance = lost_chance(t, as_of)
        after = {d: chance(d) for d in (3, 7, 10)}
        told = "; ".join(f"{d} days: {100 * p:.0f}%" for d, p in after.items() if p is not None)
        notes.append(
            "Loss before assessment is fitted as a share: the extract has no date for a loss, "
            "so when in the wait it happens cannot be told from it. "
            + (
                f"Share lost among referrals still waiting so long after referral: {told} "
                "(a run from a state uses this, by weekday of referral, for those waiting on "
                "its date)."
                if told
                else ""
            )
        )
    assessed = decided[decided["assessment_outcome"] != "lost"]
    if len(assessed) >= 10 and template.intake.enabled:
        outcome = {}
        for key in ("iop", "higher_care", "outpatient"):
            p, low, high = wilson(int((assessed["assessment_outcome"] == key).sum()), len(assessed))
            outcome[key] = round(p, 4)
            ev.append(
                Evidence(
                    f"intake.outcomes.{key}",
                    round(p, 4),
                    low,
                    high,
                    len(assessed),
                    "share of assessment decisions (Wilson CI)",
                )
            )
        outcome["iop"] = round(outcome["iop"] + 1.0 - sum(outcome.values()), 4)
        data["intake"]["outcomes"] = outcome

    # --- IOP waitlist patience (censored by the offer of a place and by the extract date) -----
    waited = t[t["waitlist_date"].notna()]
    if len(waited):
        gave_up = waited["waitlist_exit_date"].notna() & waited["iop_start_date"].isna()
        if gave_up.sum() >= 5:
            at_risk = days_at_risk(waited, gave_up, as_of, session_weekdays(data["tracks"]))
            fit = fit_patience(at_risk, gave_up.to_numpy())
            data["waitlist"]["iop_patience_days"] = fit.spec()
            ev.append(
                Evidence(
                    "waitlist.iop_patience_days",
                    fit.spec(),
                    fit.mean_ci[0],
                    fit.mean_ci[1],
                    len(waited),
                    f"exponential by censored maximum likelihood ({fit.events} gave up, "
                    f"{fit.censored} censored by the offer of a place or the extract date: "
                    "offered at once with nobody waiting ahead, else between the track's "
                    "last session day before the first day and it)",
                )
            )
        else:
            notes.append(
                "Fewer than 5 clients left the IOP waitlist without starting: patience is the template's [E]."
            )

    # --- attendance: the rate, clients' spread, dropouts after a missed session -----------------
    after_missed = _fit_attendance(episodes, template, data, ev, notes)

    # --- exit reasons and length of stay: competing risks, censored -----------------------------
    began = t[t["iop_start_date"].notna()]
    if len(began) >= 20:
        stay = np.maximum(_days(began["iop_end_date"].fillna(as_of), began["iop_start_date"]), 0.5)
        reasons = began["discharge_reason"].to_numpy(dtype=object)
        if after_missed is not None:  # a competing cause: censors the planned exit
            reasons = np.where(after_missed[t["iop_start_date"].notna().to_numpy()], "", reasons)
        joint = fit_competing(stay, reasons, list(EXIT_REASONS))
        shares = {r: round(joint.shares[r], 4) for r in EXIT_REASONS}
        shares["completed"] = round(shares["completed"] + 1.0 - sum(shares.values()), 4)
        data["iop"]["exit_shares"] = shares
        for r in EXIT_REASONS:
            low, high = joint.share_ci[r]
            ev.append(
                Evidence(
                    f"iop.exit_shares.{r}",
                    shares[r],
                    low,
                    high,
                    len(began),
                    f"joint censored maximum likelihood with the stays ({joint.censored} still in care)",
                )
            )
            fit = joint.stays[r]
            if fit.events < MIN_STAY_EVENTS:  # a shape from a handful of stays is noise
                notes.append(
                    f"Only {fit.events} stay(s) ended as {r}: its length of stay is the "
                    f"template's [E] ({MIN_STAY_EVENTS}+ needed to fit one)."
                )
                continue
            spec = {**fit.spec(), "max": 365}
            data["iop"]["length_of_stay_days"][r] = spec
            ev.append(
                Evidence(
                    f"iop.length_of_stay_days.{r}",
                    spec,
                    fit.mean_ci[0],
                    fit.mean_ci[1],
                    fit.events,
                    f"{joint.family} (AIC "
                    + ", ".join(f"{f} {a:.0f}" for f, a in joint.aic.items())
                    + f"); largest gap to the Aalen-Johansen incidence {joint.max_gap[r]:.3f}",
                )
            )
        curves["stay"] = (stay, reasons, joint)

    # --- step-down ------------------------------------------------------------------------------
    done = t[(t["discharge_reason"] == "completed")]
    if len(done) >= 10:
        stepped = int(done["step_down_start_date"].notna().sum())
        p, low, high = wilson(stepped, len(done))
        data["step_down"]["share"] = round(p, 4)
        ev.append(
            Evidence(
                "step_down.share",
                round(p, 4),
                low,
                high,
                len(done),
                "completers who stepped down (Wilson CI)",
            )
        )
        op = t[t["step_down_start_date"].notna()]
        if len(op) >= 10:
            weeks_in = np.maximum(
                _days(op["step_down_end_date"].fillna(as_of), op["step_down_start_date"]) / 7, 0.1
            )
            fit, _ = best_fit(
                weeks_in, op["step_down_end_date"].notna().to_numpy(), ("lognormal", "gamma")
            )
            if fit is not None:
                data["step_down"]["duration_weeks"] = fit.spec()
                ev.append(
                    Evidence(
                        "step_down.duration_weeks",
                        fit.spec(),
                        fit.mean_ci[0],
                        fit.mean_ci[1],
                        len(op),
                        f"{fit.family} by censored maximum likelihood",
                    )
                )

    if staff is not None and len(staff):
        _fit_staff(staff, as_of, data, ev, notes, template)
    fit_capacity(episodes, template, data, ev, notes)
    if len(at_levels):
        fit_levels(at_levels, as_of, data, ev, notes)
        notes += unrouted_levels(data)
    fit_network(t, data, ev, notes)

    data["name"] = f"{template.name} fitted"
    return FitResult(data, ev, notes, curves)


def _referral_dates(
    referred: pd.DataFrame, dropped: pd.DataFrame | None, direct: dict
) -> tuple[pd.Series, pd.Series]:
    """The dates of every new referral: the rows read and the rows left out (--drop-bad-rows)
    for a problem after a sound referral date, which were referrals all the same (left out
    of the rate, 42 rows of 501 bent it 8% low); and the left-out rows' dates alone."""
    dates = referred["referral_date"].reset_index(drop=True)
    if dropped is None or dropped.empty:
        return dates, dates.iloc[:0]
    extra = referral_rows(dropped, direct) if direct else dropped[at_iop(dropped)]
    extra_dates = extra["referral_date"].reset_index(drop=True)
    return pd.concat([dates, extra_dates], ignore_index=True), extra_dates


STOPPED_DUE = 7.0
"""Referrals a gap at the end of an extract would hold at the rate before it, beyond which no
referral in it is not chance (a chance of 1 in 1,000): the referrals stopped being recorded."""


def _referrals_stopped(referred: pd.Series, monday: pd.Timestamp, as_of: pd.Timestamp):
    """Where the records' referrals stop well before their other dates do (an extract of the
    referrals up to a date, followed on; or referrals no longer recorded): the Monday after
    the last referral's week, to measure the rate up to, and the note that says so; None
    where the gap is chance or a closure (fewer than ``STOPPED_DUE`` due in it, or under four
    weeks)."""
    last = referred.max().normalize()
    end = last - pd.Timedelta(days=last.weekday()) + pd.Timedelta(weeks=1)
    weeks_before = (end - monday).days / 7
    gap_weeks = (as_of - last).days / 7
    if weeks_before < 1 or gap_weeks < 4:
        return None
    before = len(referred[(referred >= monday) & (referred < end)])
    due = before / weeks_before * gap_weeks
    # (the chance that all ``before`` referrals of a steady rate fall before the gap: a few
    # weeks of referrals estimate the rate too roughly for ``due`` alone to tell)
    if due < STOPPED_DUE or before * math.log1p(gap_weeks / weeks_before) < STOPPED_DUE:
        return None
    return end, (
        f"No referral after {last.date()} though the records run to {as_of.date()} "
        f"({gap_weeks:.0f} weeks later, when about {due:.0f} were due): the extract looks like "
        "the referrals up to then, followed on (or referrals stopped being recorded). The "
        f"referral rate is measured up to {end.date()}; a state on a later date misses everyone "
        "referred since: fit with --as-of on or before it, or from an extract of every referral."
    )


DIRECT_SHARE = 0.5
"""A source the template does not name refers straight to a level of care when at least this
share of its rows are stays there (and MIN_STAYS or more): its other rows, at the IOP, are
clients who came on from the level."""


def _direct_in_records(
    everyone: pd.DataFrame, template: Scenario, notes: list[str]
) -> dict[str, str]:
    """Sources the template does not name whose records are mostly stays at one level of care
    (a PHP's inpatient step-downs): source -> level, each said. Read as referrals through
    intake, a continuum fitted on an IOP's template lost them (a fitted PHP nobody was sent
    to, and the IOP without the clients stepping down from it: its wait halved)."""
    from simulation.fit.levels import MIN_STAYS

    known = {s.name for s in template.referrals.sources}
    at_level = ~at_iop(everyone) & everyone["iop_start_date"].notna()
    found = {}
    for name, rows in everyone[~everyone["source"].isin(known)].groupby("source"):
        stays = rows.loc[at_level[rows.index], "level"].value_counts()
        if not len(stays):
            continue
        level, count = str(stays.index[0]), int(stays.iloc[0])
        if count >= MIN_STAYS and count >= DIRECT_SHARE * len(rows):
            found[str(name)] = level
            notes.append(
                f"Referral source '{name}' is not one of the template's: {count} of its "
                f"{len(rows)} rows are stays at {level}, so it is read as referring straight "
                f"there (its rows at the IOP as clients coming on from {level}), with priority "
                "1; set its level and priority in the fitted scenario if not."
            )
    return found


def _new_source_note(name: str, share: float, template_sources: dict) -> str:
    """What the fit makes of a referral source the template does not name."""
    return (
        f"Referral source '{name}' ({100 * share:.0f}% of referrals) is not one of the "
        f"template's ({', '.join(template_sources)}): it is fitted as a source of its own, "
        "referred through intake with priority 1 (admitted first). If it is one of the "
        "template's under another name, map it with [values.source]; otherwise set its "
        "priority (and level) in the fitted scenario."
    )


def _patience_loss(spec, waits: np.ndarray) -> float:
    """The share a patience distribution loses at a clinic's waits to assessment: the mean of
    P(patience < wait), weighting each assessed client by 1 / P(patience >= wait) for the
    clients with that wait who were lost (so long waits count as often as they happened)."""
    from simulation.distributions import sampler

    if not len(waits):
        return 0.0
    draws = np.sort(sampler(spec)(np.random.default_rng(20261127), 20_000))
    gone = np.searchsorted(draws, waits, side="right") / len(draws)
    stayed = np.maximum(1.0 - gone, 1e-3)
    return float(np.sum(gone / stayed) / np.sum(1.0 / stayed))


def _fit_attendance(
    episodes: Episodes, template: Scenario, data: dict, ev: list, notes: list
) -> np.ndarray | None:
    """Group attendance, how much clients differ in it, and how often a missed session ends a
    stay. Returns, per episode row, whether its stay ended as a dropout on a day it missed a
    session (those exits are the missed session's, not the planned exit's), or None."""
    from simulation.fit.attendance import (
        attendance_rate,
        attendance_spread,
        dropout_after_missed,
        group_sessions,
    )

    iop = data["iop"]
    if episodes.attendance is None or not len(episodes.attendance):
        if template.iop.dropout_per_missed_session or template.iop.attendance_sd is not None:
            iop.pop("dropout_per_missed_session", None)
            iop.pop("attendance_sd", None)
            notes.append(
                "No attendance extract: every exit is drawn at the start of a stay with the "
                "records' mix, and clients share one attendance chance (the template's "
                "dropout after a missed session and spread of attendance are switched off; "
                "give --attendance to fit them)."
            )
        return None
    groups = episodes.attendance[episodes.attendance["kind"].str.contains("group")]
    if len(groups) >= 20:
        p, low, high = attendance_rate(groups)
        iop["attendance"] = round(p, 4)
        ev.append(
            Evidence(
                "iop.attendance",
                round(p, 4),
                low,
                high,
                int(groups["episode"].nunique()),
                f"mean of clients' shares of {len(groups)} group sessions attended (95% CI "
                "across clients)",
            )
        )
    sessions = group_sessions(episodes.attendance, episodes.table)
    spread = attendance_spread(sessions)
    if spread is None:
        iop.pop("attendance_sd", None)
    else:
        sd = round(spread.sd, 4)
        mean = iop["attendance"]
        usable = 0.01 <= sd < 0.5 and sd**2 < 0.9 * mean * (1 - mean)
        if usable:
            iop["attendance_sd"] = sd
        else:
            iop.pop("attendance_sd", None)
        ev.append(
            Evidence(
                "iop.attendance_sd",
                sd if usable else 0.0,
                math.nan,
                math.nan,
                spread.clients,
                "between-client sd of attended shares (beta-binomial moments, clients with "
                "5+ sessions)" + ("" if usable else ": too small to matter, one chance for all"),
            )
        )
    found = dropout_after_missed(sessions, episodes.table)
    if found is None:
        iop.pop("dropout_per_missed_session", None)
        notes.append(
            "Fewer than 50 missed group sessions: a missed session does not end stays in the "
            "fitted clinic (exits are drawn at the start with the records' mix)."
        )
        return None
    iop["dropout_per_missed_session"] = round(found.share, 4)
    ev.append(
        Evidence(
            "iop.dropout_per_missed_session",
            round(found.share, 4),
            found.low,
            found.high,
            found.missed,
            "missed group sessions after which the stay ended that day as a dropout (Wilson "
            "CI); those dropouts are censored in the planned exit mix and stays",
        )
    )
    notes.append(
        f"Dropout after a missed group session: {100 * found.share:.1f}% of missed sessions "
        f"were followed by a dropout that day, against {100 * found.after_attended:.1f}% of "
        "attended ones (the planned exits that happen to fall on such a day are counted as "
        "the missed session's: the difference is the part missing causes)."
    )
    return found.ended_that_day


FTE_APART = 0.15
"""How far the FTE of those in post may lie from their pool's roster (its hours / a full
week's) before the fit says that the model works them the roster's hours, not theirs."""


def _fit_staff(
    staff: pd.DataFrame,
    as_of: pd.Timestamp,
    data: dict,
    ev: list,
    notes: list,
    template: Scenario,
) -> None:
    """Who is in post on the extract's date, pool by pool: the count and mean FTE. Pools the
    template does not have are reported, not added (their rosters and roles are unknown).

    Each member works the pool's roster in the model. Where the extract gives everyone's FTE
    and they average well under the roster's (part-timers sharing a full-time roster), the
    count is the roster's worth of them (their FTE in all over the roster's, to the nearest
    whole, at least one): counting people would give the pool the hours of that many full
    rosters. FTE above the roster's (the roster may be part of their job) and people in two
    pools at once are said, not changed."""
    from simulation.data.names import read_as, read_as_note

    active = staff[
        (staff["from_date"] <= as_of) & (staff["to_date"].isna() | (staff["to_date"] > as_of))
    ]
    pools, renames = read_as(active["pool"], list(data["staff"]))
    if renames:
        active = active.assign(pool=pools)
        notes.append(read_as_note([f"staff pool '{v}' as '{n}'" for v, n in renames.items()]))
    known = active[active["pool"].isin(data["staff"])]
    shared = known.groupby("person")["pool"].nunique()
    if (shared > 1).any():
        both = known[known["person"].isin(shared.index[shared > 1])]
        pairs = both.groupby("person")["pool"].agg(lambda p: " and ".join(sorted(set(p))))
        said = "; ".join(f"{n} in {pools}" for pools, n in pairs.value_counts().items())
        many = int((shared > 1).sum())
        notes.append(
            f"{many} {'person is' if many == 1 else 'people are'} in post in more than one pool on "
            f"{as_of.date()} ({said}): each counts as a whole member of every pool they are "
            "in, with that pool's roster, so their hours are counted once per pool. Set those "
            "pools' counts or rosters to the hours they give each."
        )
    for pool, rows in active.groupby("pool"):
        if pool not in data["staff"]:
            notes.append(
                f"Staff pool '{pool}' in the staff extract is not in the template: not added."
            )
            continue
        people = rows["person"].nunique()
        each = rows.assign(fte=rows["fte"].fillna(1.0)).groupby("person")["fte"].sum()
        fte = round(float(each.mean()), 3)
        worked = template.staff[pool].rostered_hours / template.finance.full_time_hours
        entry = data["staff"][pool]
        entry.pop("members", None)
        count, paid, why = people, fte, f"people in post on {as_of.date()}"
        total = float(each.sum())
        rosters = total / worked if worked > 0 else math.inf
        if (
            rows["fte"].notna().all()
            and 0 < fte < worked - FTE_APART
            and max(math.floor(rosters + 0.5), 1) < people
        ):
            count = max(int(math.floor(rosters + 0.5)), 1)
            paid = min(round(total / count, 3), 2.0)  # (the pool paid what the records pay)
            why = (
                f"the rosters filled by the {people} in post on {as_of.date()} ({total:g} FTE "
                f"over a roster of {worked:.2f})"
            )
            notes.append(
                f"Staff pool '{pool}': the {people} in post average {fte:.2f} FTE, its roster "
                f"{worked:.2f} ({template.staff[pool].rostered_hours:g} hours a week): "
                f"{total:g} FTE in all is {rosters:.2f} rosters, so the pool has {count} "
                f"member{'s' if count != 1 else ''} working the roster, each paid {paid:g} "
                f"FTE (as {people}, its hours would be {worked / fte:.1f} times those the "
                "records pay for). Set its roster to the hours they work for a closer fit."
            )
        elif fte == 0:
            notes.append(f"Staff pool '{pool}': those in post are paid 0 FTE.")
        elif abs(fte - worked) > FTE_APART:
            notes.append(
                f"Staff pool '{pool}': those in post average {fte:.2f} FTE, its roster "
                f"{worked:.2f} ({template.staff[pool].rostered_hours:g} hours a week): in the "
                f"model each of the {int(people)} works the roster (their FTE sets their "
                f"pay), so the pool's hours are {worked / fte:.1f} times those the records "
                "pay for"
                + (
                    " (the FTE column is blank or missing for some: read as full time)"
                    if rows["fte"].isna().any()
                    else ""
                )
                + ". Set its roster (or count) to the hours they work."
            )
        entry["count"] = int(count)
        entry["fte"] = paid
        ev.append(Evidence(f"staff.{pool}.count", int(count), math.nan, math.nan, people, why))
        ev.append(
            Evidence(
                f"staff.{pool}.fte",
                paid,
                math.nan,
                math.nan,
                int(people),
                "mean FTE of those in post (cost; the roster stays the template's)"
                if count == people
                else "their FTE in all over the members (cost; each works the roster)",
            )
        )
    left = sorted(set(data["staff"]) - set(active["pool"]))
    if left:
        notes.append(
            f"No one in post on {as_of.date()} in pool(s) {', '.join(left)} per the staff extract: the template's staffing is kept for them."
        )


def _trend(counts: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of weekly counts and its standard error."""
    n = len(counts)
    if n < 8:
        return math.nan, math.nan
    x = np.arange(n, dtype=float)
    x -= x.mean()
    slope = float((x * (counts - counts.mean())).sum() / (x * x).sum())
    resid = counts - counts.mean() - slope * x
    se = math.sqrt(float((resid**2).sum()) / (n - 2) / float((x * x).sum()))
    return slope, se


def kaplan_meier_curve(durations, observed):
    """Re-exported for the report."""
    return kaplan_meier(durations, observed)


def fitted_scenario(
    episodes: Episodes,
    template: Scenario,
    with_state: bool,
    horizon_weeks: int | None = None,
    staff: pd.DataFrame | None = None,
) -> tuple[Scenario, FitResult, str]:
    """The fitted scenario (with the clinic's state on the extract's date when asked), its
    fit, and its TOML text with the evidence for every value."""
    import tomllib

    from simulation.config import ScenarioError, validate
    from simulation.data.names import as_named_in
    from simulation.data.state import state_on
    from simulation.fit.writer import toml_text

    episodes, named = as_named_in(episodes, template)
    episodes, elsewhere = at_template_sites(episodes, [s.name for s in template.sites])
    result = fit_clinic(episodes, template, staff)
    for note in (elsewhere, named):
        if note:
            result.notes.insert(0, note)
    data = result.data
    if with_state:
        data["state"] = state_on(episodes)
        result.notes += state_note(episodes, data, to_data(template))
        shift_cohorts(data, episodes.as_of.date())
        data["warmup_weeks"] = 0
        in_care = sum(1 for c in data["state"]["clients"] if c["stage"] == "iop")
        seats = sum(track["seats"] for track in data["tracks"])
        if in_care > seats:
            raise ScenarioError(
                [
                    f"the state on {episodes.as_of.date()} has {in_care} clients in the IOP but "
                    f"the fitted clinic has {seats} seats: its census cannot be held (fit the "
                    "seats from records with a track column, or raise tracks.<name>.seats in "
                    "the template)"
                ],
                "fitted scenario",
            )
    if horizon_weeks is not None:
        data["horizon_weeks"] = horizon_weeks
    comments = {e.key: e.comment() for e in result.evidence}
    fitted_keys = {
        e.key.split(".")[0] + "." + e.key.split(".")[1] for e in result.evidence if "." in e.key
    }
    for section in ("referrals", "intake", "iop", "step_down", "waitlist"):
        for key in data.get(section, {}):
            dotted = f"{section}.{key}"
            if dotted not in comments and dotted not in fitted_keys:
                comments[dotted] = "[E] the template's value: the extract does not inform it"
    header = [
        f"{data['name']}: fitted by iopsim fit from an episode extract of {len(episodes.table)} referrals",
        f"up to {episodes.as_of.date()} (template: {template.name}).",
        "Each fitted value says its estimate, 95% CI, sample size and method; values marked [E]",
        "are the template's estimates. No identifier from the extract is in this file.",
        *[f"Note: {n}" for n in result.notes],
    ]
    text = toml_text(data, comments, header)
    return validate(tomllib.loads(text), "fitted scenario"), result, text
