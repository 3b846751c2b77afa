"""The weekly timetable: a room and facilitators for every session of every track, found once from the scenario (a track that cannot have them is a scenario problem)."""

from __future__ import annotations

from dataclasses import dataclass

from simulation import clock
from simulation.config.calendar import roster_intervals, site_hours
from simulation.config.care import Track


class TimetableError(ValueError):
    """A track that cannot be given a room or facilitators at its times."""


@dataclass(frozen=True)
class Slot:
    """One weekly session of a track: start and end in hours after Monday 00:00."""

    start: float
    end: float
    room: str
    facilitators: tuple[str, ...]


def _describe(offset: float, hours: float) -> str:
    day = clock.WEEKDAYS[int(offset // 24)].capitalize()
    return f"{day} {clock.format_clock(offset % 24)}-{clock.format_clock(offset % 24 + hours)}"


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _within(interval: tuple[float, float], roster: list[tuple[float, float]]) -> bool:
    return any(s <= interval[0] and interval[1] <= e for s, e in roster)


def plan_timetable(scenario, holiday: bool = False) -> dict[str, list[Slot]]:
    """Rooms and facilitators for every weekly session of every track of ``scenario`` (a
    Scenario, which calls this while it checks itself: hence no import of it here), by track
    name (in a school-holiday week with ``holiday``: each track's holiday timetable, if it has
    one)."""
    room_use: dict[str, list[tuple[float, float]]] = {r.name: [] for r in scenario.rooms}
    room_open = {r.name: roster_intervals(r.available) for r in scenario.rooms}
    person_use: dict[str, list[tuple[float, float]]] = {}
    person_roster: dict[str, list[tuple[float, float]]] = {}
    pool_people: dict[str, list[str]] = {}
    at_sites: dict[str, dict] = {}  # (with sites) a person's hours by the site they are at
    for pool_name, pool in scenario.staff.items():
        pool_people[pool_name] = sorted(pool.names(pool_name))
        hours = site_hours(pool.roster)
        for name in pool_people[pool_name]:
            person_use[name] = []
            person_roster[name] = roster_intervals(pool.roster)
            if set(hours) - {None}:
                at_sites[name] = hours
    timetable: dict[str, list[Slot]] = {}
    problems: list[str] = []  # every session that cannot run, reported at once
    during = " in school holidays" if holiday else ""
    # tracks in name order: the timetable does not depend on the order they are listed in
    for track in sorted(scenario.tracks, key=lambda t: t.name):
        slots = []
        regulars: list[str] = []  # keep the same facilitators across a track's sessions
        for offset in track.session_offsets(holiday):
            hours = track.hours_on(offset)
            interval = (offset, offset + hours)
            virtual = track.modality == "virtual"
            room = "" if virtual else _choose_room(scenario, track, interval, room_use, room_open)
            if room is None:
                where = (
                    f"room '{track.room}'"
                    if track.room
                    else f"any room with {track.room_seats_needed} seats"
                )
                problems.append(
                    f"tracks.{track.name}: the session on "
                    f"{_describe(offset, hours)}{during} cannot get {where}: "
                    + _why_no_room(scenario, track, interval, room_use, room_open)
                )
            candidates = [
                name
                for pool in track.facilitator_pools
                for name in pool_people.get(pool, [])
                if _within(interval, _hours_for(name, track, person_roster, at_sites))
                and not any(_overlaps(interval, used) for used in person_use[name])
            ]
            if len(candidates) < track.facilitators:
                pools = ", ".join(track.facilitator_pools)
                problems.append(
                    f"tracks.{track.name}: the session on {_describe(offset, hours)}{during} "
                    f"needs {track.facilitators} facilitator(s) from {pools}, but only "
                    f"{len(candidates)} are rostered and not in another group then"
                )
                continue
            candidates.sort(
                key=lambda n: (n not in regulars, sum(e - s for s, e in person_use[n]), n)
            )
            chosen = tuple(candidates[: track.facilitators])
            for name in chosen:
                person_use[name].append(interval)
                if name not in regulars:
                    regulars.append(name)
            if room is None:
                continue
            if room:
                room_use[room].append(interval)
            slots.append(Slot(interval[0], interval[1], room, chosen))
        timetable[track.name] = slots
    if problems:
        raise TimetableError("\n".join(problems))
    return timetable


def _hours_for(name: str, track: Track, person_roster, at_sites) -> list[tuple[float, float]]:
    """A facilitator's hours for a track's session: with shifts at sites, those at the
    track's site (or at no site in particular); travel at a shift's start left out."""
    hours = at_sites.get(name)
    if hours is None:
        return person_roster[name]
    if track.site is None:
        return sorted(h for shifts in hours.values() for h in shifts)
    return sorted(hours.get(track.site, []) + hours.get(None, []))


def _why_no_room(scenario, track: Track, interval, room_use, room_open) -> str:
    """Why no room can hold a track's session: each room it may use, too small, closed then
    (with its opening hours and the key that sets them) or taken by another track then."""
    reasons = []
    for r in sorted(_rooms_for(scenario, track), key=lambda r: r.name):
        if r.seats < track.room_seats_needed:
            reasons.append(f"'{r.name}' seats {r.seats}")
        elif not _within(interval, room_open[r.name]):
            reasons.append(
                f"'{r.name}' is closed then (rooms.{r.name}.available: {_hours(r.available)})"
            )
        else:
            reasons.append(f"'{r.name}' is taken by another track then")
    if not reasons:
        return "no room is at its site" if track.site else "there is no room"
    return "; ".join(reasons)


def _hours(roster) -> str:
    """A roster as a person reads it: 'mon, tue 08:00-21:00'."""
    if roster == "always":
        return "always"
    return "; ".join(f"{', '.join(s.days)} {s.start}-{s.end}" for s in roster)


def _rooms_for(scenario, track: Track) -> list:
    """The rooms a track's sessions may use: the one it names, at its site."""
    return [
        r
        for r in scenario.rooms
        if (track.room is None or r.name == track.room)
        and (r.site is None or track.site is None or r.site == track.site)
    ]


def _choose_room(scenario, track: Track, interval, room_use, room_open) -> str | None:
    """The smallest free, open room that seats the track at this time (None if none)."""
    rooms = _rooms_for(scenario, track)
    fitting = [
        r
        for r in sorted(rooms, key=lambda r: (r.seats, r.name))
        if r.seats >= track.room_seats_needed
        and _within(interval, room_open[r.name])
        and not any(_overlaps(interval, used) for used in room_use[r.name])
    ]
    return fitting[0].name if fitting else None
