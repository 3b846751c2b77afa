"""The clinic's capacity, from what its records show: seats per track (the most clients in
care at once), the days each track meets and when its sessions start (from the attendance
extract), intake clinicians (the assessments a week at peak) and primary-therapist caseload
caps (the most clients one therapist held, when the records name therapists; enough to fill
the seats in any case). Where the records are silent the template's value stays, and the fit says so.

A forecast run on a template's capacity instead of the clinic's shows a census collapsing or
admissions stopping for no reason the clinic would recognise: this module is why it does not.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.clock import WEEKDAYS
from simulation.config import Scenario, problems, to_data
from simulation.data.names import most_common
from simulation.distributions import mean_of
from simulation.fit.before_records import census_complete_from
from simulation.fit.evidence import Evidence
from simulation.fit.tracks import add_tracks, added_track_note, drop_silent_tracks, fit_admission

LOOK_BACK_WEEKS = 52
"""Capacity is read from the last year of records: a clinic that grew or shrank before it is
the clinic it was, not the one it is."""
DAY_SHARE = 0.1
"""A weekday holding at least this share of a track's sessions is one of its days."""
PEAK_QUANTILE = 0.9
"""Intake at peak: the 90th percentile of assessments a week (a single record week of catch-up
is not the clinic's capacity)."""


def daily_census(starts: pd.Series, ends: pd.Series, first: pd.Timestamp, last: pd.Timestamp):
    """Clients in care on each day from ``first`` to ``last`` (an end date is the first day
    out of care; a stay with no end is still in care on ``last``)."""
    days = (last - first).days + 1
    start = ((starts - first).dt.days).to_numpy(dtype=float)
    end = ((ends - first).dt.days).to_numpy(dtype=float)
    end = np.where(np.isnan(end), days, end)
    start, end = np.clip(start, 0, days), np.clip(end, 0, days)
    keep = ~np.isnan(start) & (end > start)
    delta = np.zeros(days + 1)
    np.add.at(delta, start[keep].astype(int), 1)
    np.add.at(delta, end[keep].astype(int), -1)
    return np.cumsum(delta)[:days]


def fit_capacity(
    episodes, template: Scenario, data: dict, ev: list[Evidence], notes: list[str]
) -> None:
    """Write the capacity the records show into ``data`` (the fitted scenario's data)."""
    t = episodes.table
    as_of = episodes.as_of.normalize()
    since = max(as_of - pd.Timedelta(weeks=LOOK_BACK_WEEKS), t["referral_date"].min().normalize())
    added = add_tracks(t, data)
    full = census_complete_from(t, data, to_data(template))
    held = since if full is None else max(since, full)  # (the whole census from then on)
    if held > as_of - pd.Timedelta(weeks=MIN_CENSUS_WEEKS):
        _seats_unseen(t, data, full, as_of, notes)
        held = since  # (caseloads: the most the records show, then raised to fill the seats)
    else:
        if held > since:
            notes.append(_ramp_note(t, held))
        _fit_seats(t, data, held, as_of, ev, notes)
    fit_admission(t, data, since, ev, notes)
    attended = episodes.attendance is not None and len(episodes.attendance)
    if attended:
        _fit_days(t, episodes.attendance, data, since, ev, notes)
    waiting = set(added)
    for name, model in added.items():
        waiting.discard(name)
        notes.append(added_track_note(name, model, t, data, waiting))
    if attended:
        _keep_starts_the_clinic_can_hold(template, data, ev, notes)
    else:
        notes.append(
            "Tracks' days: the template's (give --attendance to read them from the sessions)."
        )
    _fit_intake(t, template, data, since, as_of, ev, notes)
    _fit_therapists(t, data, as_of, ev, notes)
    _fit_caseloads(t, data, held, as_of, ev, notes)


MIN_CENSUS_WEEKS = 4
"""Weeks of a complete census the seats are read from, at least."""


def _ramp_note(t: pd.DataFrame, held: pd.Timestamp) -> str:
    first = t["referral_date"].min().normalize()
    return (
        f"Seats and caseloads are read from {held.date()} on: the records begin on "
        f"{first.date()}, and clients in care since before then (in none of their rows) held "
        f"places until about {held.date()} (by then, by the stays fitted or the template's, "
        "whichever leave later, they hold under a tenth of the places they held), so the "
        "census before shows fewer than the clinic had."
    )


def _seats_unseen(t, data, full, as_of, notes) -> None:
    """Records too young to show the seats: the template's seats are kept (or the most the
    records show, where more), said."""
    began = t[t["iop_start_date"].notna()]
    first = t["referral_date"].min().normalize()
    raised = []
    for track in data["tracks"]:
        rows = began[began["track"] == track["name"]]
        census = daily_census(rows["iop_start_date"], rows["iop_end_date"], first, as_of)
        most = int(census.max()) if len(census) else 0
        if most > track["seats"]:
            raised.append(f"{track['name']} {track['seats']} -> {most}")
            track["seats"] = most
    until = f"until about {full.date()}" if full is not None else "for months"
    more = f" (raised where the records show more: {', '.join(raised)})" if raised else ""
    notes.append(
        f"Seats: the template's{more}. "
        f"The records begin on {first.date()}, and clients in care since before then (in none "
        f"of their rows) held places {until}: fewer than {MIN_CENSUS_WEEKS} weeks of the "
        "records show the clinic's whole census, so its seats cannot be read from them. "
        "Forecasts from these records also start without those clients."
    )
    _rooms_for(data, notes)
    named = set(began["track"]) - {""}
    silent = sorted(tr["name"] for tr in data["tracks"] if tr["name"] not in named)
    if named & {tr["name"] for tr in data["tracks"]}:
        drop_silent_tracks(silent, began, data, notes)


def _fit_seats(t, data, since, as_of, ev, notes) -> None:
    began = t[t["iop_start_date"].notna()]
    tracks = {track["name"]: track for track in data["tracks"]}
    by_track = began.groupby(began["track"].replace("", pd.NA).fillna("?"))
    known = [name for name in by_track.groups if name in tracks]
    if not known:  # no track in the records: one census for all, shared as the template's
        census = daily_census(began["iop_start_date"], began["iop_end_date"], since, as_of)
        most = int(census.max()) if len(census) else 0
        total = sum(track["seats"] for track in data["tracks"])
        if most > total:
            for track in data["tracks"]:
                track["seats"] = math.ceil(track["seats"] * most / total)
            notes.append(
                f"Seats: up to {most} clients were in the IOP at once in the last year, more than "
                f"the template's {total} seats; each track's seats were raised in proportion "
                "(the extract has no track column to tell them apart)."
            )
            _rooms_for(data, notes)
        else:
            notes.append(
                f"Seats: the template's {total} (the extract has no track column; up to {most} "
                "clients were in the IOP at once in the last year)."
            )
        return
    for name in known:
        rows = by_track.get_group(name)
        census = daily_census(rows["iop_start_date"], rows["iop_end_date"], since, as_of)
        most = max(int(census.max()) if len(census) else 0, 1)
        template_seats = tracks[name]["seats"]
        tracks[name]["seats"] = most
        ev.append(
            Evidence(
                f"tracks.{name}.seats",
                most,
                math.nan,
                math.nan,
                len(rows),
                f"the most clients in care in the track at once from {since.date()} to "
                f"{as_of.date()} (template: {template_seats}); a clinic whose seats were never "
                "all filled has more: set them yourself",
            )
        )
    _rooms_for(data, notes)
    drop_silent_tracks(sorted(set(tracks) - set(known)), began, data, notes)


def _rooms_for(data, notes) -> None:
    """Rooms that seat the fitted tracks: a clinic whose groups held N had a room for N."""
    rooms = data.get("rooms", [])
    for track in data["tracks"]:
        if track.get("modality") == "virtual" or not rooms:
            continue
        named = [r for r in rooms if r["name"] == track.get("room")]
        room = named[0] if named else max(rooms, key=lambda r: (r["seats"], r["name"]))
        if room["seats"] < track["seats"]:
            notes.append(
                f"Room '{room['name']}': seats raised from {room['seats']} to {track['seats']} "
                f"(track {track['name']} held {track['seats']} at once)."
            )
            room["seats"] = track["seats"]


def _fit_days(t, attendance, data, since, ev, notes) -> None:
    tracks = {track["name"]: track for track in data["tracks"]}
    track_of = t.set_index("episode")["track"]
    sessions = attendance[attendance["date"] >= since]
    sessions = sessions.assign(track=sessions["episode"].map(track_of).fillna(""))
    for name, rows in sessions.groupby("track"):
        if name not in tracks or len(rows) < 20:
            continue
        share = rows["date"].dt.day_of_week.value_counts(normalize=True)
        days = [WEEKDAYS[d] for d in sorted(share.index) if share[d] >= DAY_SHARE]
        if days and days != tracks[name]["days"]:
            extra = {"session_hours_by_day", "optional_days"} & set(tracks[name])
            for key in extra:  # (per-day settings of days the track no longer meets)
                del tracks[name][key]
            ev.append(
                Evidence(
                    f"tracks.{name}.days",
                    days,
                    math.nan,
                    math.nan,
                    len(rows),
                    f"weekdays with {100 * DAY_SHARE:.0f}%+ of the track's sessions in the "
                    f"attendance extract (template: {', '.join(tracks[name]['days'])})",
                )
            )
            tracks[name]["days"] = days
        _fit_start(name, rows, tracks[name], ev)


def _keep_starts_the_clinic_can_hold(template: Scenario, data, ev, notes) -> None:
    """A session start read from the records that the template's rosters or rooms cannot
    hold (no facilitator rostered, the room closed) goes back to the template's, with a note:
    the fitted clinic must be one that runs."""
    moved = [e for e in ev if e.key.startswith("tracks.") and e.key.endswith(".start")]
    if not moved:
        return
    found = problems(data)
    before = {track.name: track.start for track in template.tracks}
    for e in moved:
        name = e.key.split(".")[1]
        if any(p.startswith(f"tracks.{name}:") for p in found):
            track = next(t for t in data["tracks"] if t["name"] == name)
            track["start"] = before.get(name, track["start"])
            ev.remove(e)
            notes.append(
                f"Track {name}: its sessions start at {e.value} in the records, but the "
                f"template's rosters or rooms cannot hold them then; the template's "
                f"{track['start']} is kept (change the rosters, then set "
                f'tracks.{name}.start="{e.value}")'
            )


TIMED_SHARE = 0.5
"""A track's session start is read when at least this share of its attendance rows give a
time of day (an export of dates alone, or of a few timed rows, says nothing of it)."""


def _fit_start(name: str, rows: pd.DataFrame, track: dict, ev: list[Evidence]) -> None:
    """The track's usual session start: the most common start time of its sessions; where no
    time is most of them (check-in times scattered around the start), the most common quarter
    hour, if that is; else the template's."""
    if "start" not in rows:
        return
    timed = rows.loc[rows["start"] != "", "start"]
    if len(timed) < TIMED_SHARE * len(rows) or not len(timed):
        return
    counts = timed.value_counts()
    how = "the most common start of the track's sessions in the attendance extract"
    if counts.iloc[0] < USUAL_SHARE * len(timed):
        minutes = timed.str[:2].astype(int) * 60 + timed.str[3:5].astype(int)
        quarters = (QUARTER * ((minutes + QUARTER / 2) // QUARTER)) % (24 * 60)
        counts = quarters.map(lambda m: f"{int(m) // 60:02d}:{int(m) % 60:02d}").value_counts()
        how = (
            "the most common quarter hour of the track's session times in the attendance "
            "extract (no one time was most of them, as with check-in times)"
        )
        if counts.iloc[0] < USUAL_SHARE * len(timed):
            return  # (times too scattered to tell the timetable's)
    usual = str(counts.index[0])
    if usual != track["start"]:
        ev.append(
            Evidence(
                f"tracks.{name}.start",
                usual,
                math.nan,
                math.nan,
                len(timed),
                f"{how} ({100 * counts.iloc[0] / len(timed):.0f}% of them; template: "
                f"{track['start']}); the facilitators' rosters stay the template's: check they "
                "cover it",
            )
        )
        track["start"] = usual


USUAL_SHARE = 0.5
"""A time is a track's start when at least this share of its timed sessions have it."""
QUARTER = 15  # minutes: timetables start groups on the quarter hour


def _fit_intake(t, template: Scenario, data, since, as_of, ev, notes) -> None:
    pools = [p for p in template.intake.pools if p in template.staff]
    assessed = t.loc[t["assessment_date"] >= since, "assessment_date"]
    weeks = (as_of - since).days // 7
    if not pools or weeks < 8 or not len(assessed):
        notes.append("Intake clinicians: the template's (too few weeks of assessments to read).")
        return
    per_week = (assessed - since).dt.days // 7
    counts = per_week.value_counts().reindex(range(weeks), fill_value=0)
    peak = float(counts.quantile(PEAK_QUANTILE))
    hours = mean_of(template.intake.assessment_hours)
    capacity = sum(
        template.staff[p].size
        * template.staff[p].rostered_hours
        * (1 - template.staff[p].absence_share)
        for p in pools
    ) / max(hours, 1e-9)
    if peak <= capacity:
        notes.append(
            f"Intake clinicians: the template's (their hours hold {capacity:.1f} assessments a "
            f"week; the records' peak week held {peak:.0f})."
        )
        return
    pool = pools[0]
    entry = data["staff"][pool]
    size = template.staff[pool].size
    needed = math.ceil(size * peak / capacity)
    entry.pop("members", None)
    entry["count"] = needed
    ev.append(
        Evidence(
            f"staff.{pool}.count",
            needed,
            math.nan,
            math.nan,
            int(counts.sum()),
            f"assessments a week at peak ({PEAK_QUANTILE:.0%} of weeks: {peak:.0f}) against "
            f"{capacity:.1f} a week the template's intake hours hold",
        )
    )


IN_POST_WEEKS = 2
"""A primary therapist with a client in care in the records' last weeks is in post."""


def _fit_therapists(t, data, as_of, ev, notes) -> None:
    """Primary therapists in post, pool by pool, where the records name each client's
    therapist and no staff extract said who is in post: those with a client in care in the
    records' last ``IN_POST_WEEKS``, each in the therapist pool that facilitates the tracks of
    most of their clients. Kept at the template's, a clinic with a third therapist was fitted
    with two: its therapists 63% busy where they were 41%, and a salary short in its cost."""
    pools = [p for p in data["iop"].get("therapist_pools", []) if p in data["staff"]]
    stays = t[t["iop_start_date"].notna() & (t["iop_start_date"] <= as_of)]
    recent = stays[
        stays["iop_end_date"].isna()
        | (stays["iop_end_date"] >= as_of - pd.Timedelta(weeks=IN_POST_WEEKS))
    ]
    if (
        not pools
        or "therapist" not in t
        or not len(recent)
        or (recent["therapist"] < 0).mean() > 0.5
    ):
        return
    pool_of_track = {
        track["name"]: next((p for p in track.get("facilitator_pools", []) if p in pools), None)
        for track in data["tracks"]
    }
    if len(pools) == 1:
        pool_of_track = dict.fromkeys(pool_of_track, pools[0])
    named = recent[recent["therapist"] >= 0]
    pool = named["track"].map(pool_of_track)
    if pool.isna().mean() > 0.5:
        return
    home = named.assign(pool=pool).dropna(subset=["pool"]).groupby("therapist")["pool"]
    seen = home.agg(most_common).value_counts()
    for name in pools:
        entry = data["staff"][name]
        if f"staff.{name}.count" in {e.key for e in ev} or entry.get("members") is not None:
            continue  # (a staff extract's count stands; named members are the template's)
        before, now = int(entry.get("count") or 0), int(seen.get(name, 0))
        if now == before or now == 0:
            continue
        entry["count"] = now
        if now < before and problems(data):
            entry["count"] = before
            notes.append(
                f"staff.{name}: the records name {now} primary therapist(s) of it with clients "
                f"in care in their last {IN_POST_WEEKS} weeks, but the template's timetable "
                f"needs its {before} to facilitate the groups: {before} kept."
            )
            continue
        ev.append(
            Evidence(
                f"staff.{name}.count",
                now,
                math.nan,
                math.nan,
                int(home.ngroups),
                f"primary therapists named in the records with a client in care in their last "
                f"{IN_POST_WEEKS} weeks, most of whose clients are in tracks this pool "
                f"facilitates (template: {before}); give --staff for who is in post",
            )
        )
        notes.append(
            f"staff.{name}: {now} in post (the template's {before}), as the records' primary "
            f"therapists with clients in care in their last {IN_POST_WEEKS} weeks show."
        )


def _fit_caseloads(t, data, since, as_of, ev, notes) -> None:
    """Primary-therapist caseload caps: from the records when they name each client's
    therapist (the most IOP clients one therapist held at once in the last year), and in any
    case enough places to fill the seats (a clinic with more clients in care than the caps
    allow had more places)."""
    pools = [p for p in data["iop"].get("therapist_pools", []) if p in data["staff"]]
    if not pools:
        return
    named = _caseload_from_records(t, data, pools, since, as_of, ev)
    seats = sum(track["seats"] for track in data["tracks"])

    def places() -> int:
        total = 0
        for p in pools:
            entry = data["staff"][p]
            size = entry.get("count") or len(entry.get("members") or [])
            total += size * entry.get("iop_caseload_cap", 0)
        return total

    have = places()
    if have == 0 or have >= seats:
        return
    factor = seats / have
    for p in pools:
        entry = data["staff"][p]
        if entry.get("iop_caseload_cap"):
            entry["iop_caseload_cap"] = math.ceil(entry["iop_caseload_cap"] * factor)
    why = "the therapists' peaks in the records" if named else "the extract names no therapist"
    notes.append(
        f"Caseload caps raised by {100 * (factor - 1):.0f}% so that the {seats} seats can be "
        f"filled (the caps held {have}; {why})."
    )


def _caseload_from_records(t, data, pools, since, as_of, ev) -> bool:
    """Each capped therapist pool's cap from the most IOP clients one therapist held at once
    (``therapist``: numbered ids, -1 where none is recorded); False when the records are
    silent (no therapist named for at least half the stays of the last year)."""
    stays = t[
        t["iop_start_date"].notna() & ((t["iop_end_date"].isna()) | (t["iop_end_date"] >= since))
    ]
    if "therapist" not in t or not len(stays) or (stays["therapist"] >= 0).mean() < 0.5:
        return False
    stays = stays[stays["therapist"] >= 0]
    peaks = [
        int(daily_census(rows["iop_start_date"], rows["iop_end_date"], since, as_of).max())
        for _, rows in stays.groupby("therapist")
    ]
    most = max(max(peaks), 1)
    for p in pools:
        entry = data["staff"][p]
        if not (entry.get("iop_caseload_cap") or entry.get("iop_caseload_per_fte")):
            continue  # (an uncapped pool stays uncapped)
        template_cap = entry.pop("iop_caseload_per_fte", None) or entry.get("iop_caseload_cap")
        entry["iop_caseload_cap"] = most
        ev.append(
            Evidence(
                f"staff.{p}.iop_caseload_cap",
                most,
                math.nan,
                math.nan,
                len(peaks),
                f"the most IOP clients one primary therapist held at once from {since.date()} "
                f"to {as_of.date()}, over {len(peaks)} therapists (template: {template_cap}); "
                "therapists never at their cap allow more: set it yourself",
            )
        )
    return True
