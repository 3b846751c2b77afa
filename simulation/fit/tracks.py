"""The clinic's tracks from its records: a track the records name that the template lacks is
added (a copy of the template track most like it, given a room and facilitators where it
cannot meet beside the others), a template track no record names is taken out, and a track
whose clients start together, weeks apart, admits by cohort. Kept as the template's, the
fitted clinic had places the clinic did not, or lacked those it had.
"""

from __future__ import annotations

import copy
import math

import pandas as pd

from simulation.config import problems
from simulation.data.names import TRACK_AT_LEAST, likeness, modality_in_name, most_common
from simulation.fit.evidence import Evidence


def add_tracks(t: pd.DataFrame, data: dict) -> dict[str, str]:
    """Add the tracks the records name that the template lacks, each a copy of the template
    track most like it (the same age group, and site where there are sites; then the nearest
    name), to have its seats, days and start fitted as the template's tracks are: the name
    of each added track -> its model's. Kept out, a track's clients were fitted as referrals
    with a third of the places they had (a wait of 15 days where the clinic's was 6)."""
    known = {track["name"] for track in data["tracks"]}
    started = t.loc[t["iop_start_date"].notna(), "track"].value_counts()
    added = {}
    for name in sorted(set(t["track"]) - {""} - known):
        if started.get(name, 0) < TRACK_AT_LEAST:
            continue  # (too few to be a track: as_named_in reads them as no track)
        rows = t[t["track"] == name]
        model = _most_like(name, rows, data["tracks"])
        track = {**copy.deepcopy(model), "name": name}
        track.pop("room", None)  # (a room of its own, if it needs one: added_track_note)
        age = most_common(rows["age_group"])
        if age:
            track["age_group"] = age
        modality = modality_in_name(name)
        if modality and modality != track.get("modality", "in_person"):
            track["modality"] = modality  # ('Virtual evening': its clients join by video)
        data["tracks"].append(track)
        added[name] = model["name"]
    return added


def _most_like(name: str, rows: pd.DataFrame, tracks: list[dict]) -> dict:
    """The template track a track of the records named ``name`` is most like."""
    age = most_common(rows["age_group"]) or "adult"
    alike = [tr for tr in tracks if tr.get("age_group", "adult") == age] or tracks
    site = most_common(rows["site"]) if "site" in rows else ""
    alike = [tr for tr in alike if tr.get("site") in (None, site)] or alike
    modality = modality_in_name(name) or "in_person"
    return max(
        alike,
        key=lambda tr: (
            tr.get("modality", "in_person") == modality,
            likeness(name, tr["name"], tr["start"]),
            tr["name"],
        ),
    )


def added_track_note(
    name: str, model: str, t: pd.DataFrame, data: dict, waiting: set[str] = frozenset()
) -> str:
    """Give an added track what it needs to run beside the others (a room of its own, and
    facilitators where its pool has none free then: the records show neither), and say so
    (``waiting``: added tracks still to be given theirs, whose problems are theirs)."""
    gave = _give_what_it_needs(name, data, waiting)
    clients = int((t["track"] == name).sum())
    track = next(tr for tr in data["tracks"] if tr["name"] == name)
    how = {"virtual": "by video", "hybrid": "in person or by video"}.get(
        track.get("modality", "in_person")
    )
    return (
        f"Track '{name}' ({clients} referrals in the records) is not in the template: added, "
        f"modelled on track '{model}' (its days, start, hours and facilitators, where the "
        "records do not show them), with the seats the records show"
        + (f"; its clients join {how}, as its name says" if how and modality_in_name(name) else "")
        + (f"; {'; '.join(gave)}" if gave else "")
        + ". Check it against the clinic's timetable."
    )


def _give_what_it_needs(name: str, data: dict, waiting: set[str]) -> list[str]:
    """Rooms and facilitators for track ``name`` where the fitted clinic cannot hold the
    sessions of every track with it (``validate``'s problems: a track timetabled before
    another may take the other's room or facilitator), until it can; what was given. Only
    the problems this track can cause are its own: its sessions', and those of tracks not
    ``waiting`` for their turn that draw on the same facilitators."""
    track = next(tr for tr in data["tracks"] if tr["name"] == name)
    pools = list(track.get("facilitator_pools") or [])
    gave: list[str] = []
    for _ in range(MOST_GIVEN):
        found = problems(data)
        sessions = [
            p
            for p in found
            if p.startswith("tracks.")
            and ": the session" in p
            and p.split(":")[0][len("tracks.") :] not in waiting
        ]
        short = [  # the pools each facilitator shortage names, where this track draws on one
            named
            for p in sessions
            if " facilitator(s) from " in p
            and set(named := p.split(" facilitator(s) from ")[1].split(", but")[0].split(", "))
            & set(pools)
        ]
        if any("cannot get" in p for p in sessions) and "room" not in track:
            gave.append(_room_of_its_own(track, data))
        elif short:
            gave.append(_one_more_facilitator(next(p for p in pools if p in short[0]), data))
        else:
            return gave
    return gave


MOST_GIVEN = 10
"""Facilitators given to an added track at most (a track needing more is left to its
problems, said when the fitted scenario is checked)."""


def _room_of_its_own(track: dict, data: dict) -> str:
    rooms = data.setdefault("rooms", [])
    like = max(rooms, key=lambda r: (r["seats"], r["name"])) if rooms else {}
    taken = {r["name"] for r in rooms}
    room_name = next(
        n
        for i in range(1, 1000)
        if (n := f"{track['name']} room" + (f" {i}" if i > 1 else "")) not in taken
    )
    room = {**copy.deepcopy(like), "name": room_name, "seats": track["seats"]}
    if track.get("site"):
        room["site"] = track["site"]
    rooms.append(room)
    track["room"] = room_name
    return f"a room of its own ('{room_name}', {track['seats']} seats)"


def _one_more_facilitator(pool_name: str, data: dict) -> str:
    pool = data["staff"][pool_name]
    before = (
        len(pool["members"]) if pool.get("members") is not None else int(pool.get("count") or 0)
    )
    if pool.get("members") is not None:
        taken = set(pool["members"])
        pool["members"].append(
            next(n for i in range(before + 1, 2000) if (n := f"{pool_name} {i}") not in taken)
        )
    else:
        pool["count"] = before + 1
    return f"staff.{pool_name} from {before} to {before + 1} to facilitate it"


COHORT_STARTS_AT_LEAST = 12
"""Starts in a track's last year of records below which its admission is not read."""


COHORT_SHARE = 0.8
"""Cohort admission: at least this share of a track's starts fall on days when two or more
clients started (rolling tracks: about a quarter, each client starting at their own next
session), those days whole weeks apart, two or more."""


def fit_admission(t, data, since, ev, notes) -> None:
    """Cohort admission where the records show it (clients starting together, on days a fixed
    number of weeks apart): a track read as rolling admits each client at the next session,
    and its fitted waits were 11 days where the clinic's were 18. The weeks between cohorts
    are the commonest gap, and the first cohort's week is the one the last cohort start in the
    records falls in, counted in the run's weeks (``shift_cohorts`` keeps it when the run's
    start moves)."""
    began = t[t["iop_start_date"].notna() & (t["iop_start_date"] >= since)]
    for track in data["tracks"]:
        starts = began.loc[began["track"] == track["name"], "iop_start_date"].dt.normalize()
        if len(starts) < COHORT_STARTS_AT_LEAST:
            continue
        per_day = starts.value_counts().sort_index()
        together = per_day[per_day >= 2]
        gaps = pd.Series(together.index).diff().dt.days.dropna().astype(int)
        if (
            together.sum() < COHORT_SHARE * len(starts)
            or len(gaps) < 2
            or (gaps % 7 != 0).any()
            or gaps.min() < 14
        ):
            continue
        weeks = int(gaps.mode().min() // 7)
        was = (track.get("admission", "rolling"), track.get("cohort_every_weeks", 4))
        track["admission"], track["cohort_every_weeks"] = "cohort", weeks
        track["cohort_first_week"] = _week_of(together.index[-1], data["start_date"]) % weeks
        ev.append(
            Evidence(
                f"tracks.{track['name']}.cohort_every_weeks",
                weeks,
                math.nan,
                math.nan,
                len(starts),
                f"{int(together.sum())} of the track's {len(starts)} starts in the last year "
                f"fell on {len(together)} days when clients started together, most often "
                f"{weeks} weeks apart (template: {was[0]} admission"
                + (f", every {was[1]} weeks" if was[0] == "cohort" else "")
                + ")",
            )
        )
        if was[0] != "cohort":
            notes.append(
                f"Track {track['name']}: admission read as cohort, every {weeks} weeks (the "
                f"template's is {was[0]}): its clients start together on days {weeks} weeks "
                "apart in the records."
            )


def _week_of(day, start) -> int:
    """The week of ``day`` in a run starting on ``start`` (week 0: the Monday of its week)."""
    day, start = pd.Timestamp(day), pd.Timestamp(start)
    monday = start - pd.Timedelta(days=start.weekday())
    return (day - pd.Timedelta(days=day.weekday()) - monday).days // 7


def shift_cohorts(data: dict, start) -> None:
    """Move ``data``'s run to start on ``start``, its cohort tracks starting their cohorts in
    the same weeks of the calendar as before (a run from a state starts on the state's date)."""
    moved = _week_of(start, data["start_date"])
    for track in data["tracks"]:
        if track.get("admission") == "cohort":
            every = track.get("cohort_every_weeks", 4)
            track["cohort_first_week"] = (track.get("cohort_first_week", 0) - moved) % every
    data["start_date"] = start


NAMED_SHARE = 0.8
"""A template track no record names is taken out only when the records name the track of at
least this share of the clients who started in the IOP."""


def drop_silent_tracks(
    silent: list[str], began: pd.DataFrame, data: dict, notes: list[str]
) -> None:
    """The template's tracks no client who started (``began``) is in: taken out when the
    records name the track of most clients (``_drop_tracks``), else kept and said."""
    if not silent:
        return
    if (began["track"] != "").mean() >= NAMED_SHARE:
        _drop_tracks(silent, data, notes)
    else:
        notes.append(
            f"Seats of track(s) {', '.join(silent)}: the template's (no client of theirs in the "
            "records, which name the track of only some clients)."
        )


def _drop_tracks(names: list[str], data: dict, notes: list[str]) -> None:
    """Take out the template's tracks that no record names while the records name others:
    the clinic does not run them (kept, the baseline's records fitted on a template with a
    third track had a third more seats: a wait of 5 days where the clinic's was 14). A room
    only they named goes with them, and a target or uncertain input that names them."""
    gone = set(names)
    rooms = {tr.get("room") for tr in data["tracks"] if tr["name"] in gone} - {None}
    data["tracks"] = [tr for tr in data["tracks"] if tr["name"] not in gone]
    still = {tr.get("room") for tr in data["tracks"]}
    data["rooms"] = [r for r in data.get("rooms", []) if r["name"] not in rooms - still]
    data["rooms"] = data["rooms"] or [{"name": "Group Room", "seats": 12}]  # (none left)
    named = [f"[track={n}]" for n in names] + [f"tracks.{n}." for n in names]
    for table in ("targets", "uncertainty"):
        if data.get(table):
            data[table] = {k: v for k, v in data[table].items() if not any(x in k for x in named)}
    notes.append(
        f"Track(s) {', '.join(names)} of the template: no record names them (the records name "
        "each client's track), so the fitted clinic does not run them"
        + (f"; nor room(s) {', '.join(sorted(rooms - still))}" if rooms - still else "")
        + ". If the clinic runs them under another name, map it with [values.track]."
    )
