"""An extract's names read as a scenario's: a referral source, track, level of care, site or
region written with other capitals, spaces, hyphens or underscores ('COMMUNITY ', 'Morning',
'inpatient_step-down') is the scenario's own, so what the scenario says of it (a source's
priority and the level it enters at, a track's timetable) holds for its records.

Read as another name, such a source was a new one: a continuum's inpatient step-downs no
longer went to the PHP (its referrals a third short) and community referrals lost their place
behind step-downs, without a word.

Tracks are read so too where the clinic names them its own way: a track the scenario lacks is
paired with a scenario track of the same age group that no record names ('AM Group' for
'morning'), and one named for fewer than ``TRACK_AT_LEAST`` clients (a typo, a retired name)
is read as no track.
"""

from __future__ import annotations

import re
from dataclasses import replace
from difflib import SequenceMatcher

import pandas as pd

from simulation.config import IOP, Scenario
from simulation.data.extract import Episodes, looks_like_a_code
from simulation.data.extract.files import loose_match


def scenario_names(scenario: Scenario) -> dict[str, list[str]]:
    """The scenario's names for each category column of an episode extract."""
    levels = [IOP, *(level.name for level in scenario.levels)]
    return {
        "source": [s.name for s in scenario.referrals.sources],
        "track": [t.name for t in scenario.tracks],
        "level": levels,
        "discharged_to": levels,
        "site": [s.name for s in scenario.sites],
        "region": [r.name for r in scenario.network.regions],
        "payer": [p.name for p in scenario.payers],
    }


def read_as(values: pd.Series, names: list[str]) -> tuple[pd.Series, dict[str, str]]:
    """``values`` with each one that is one of ``names`` but for capitals, spaces, hyphens or
    underscores written as ``names`` writes it (``loose_match``), and what was read so
    (value -> name). A value that could be two of the names, or none, is left as it is."""
    renames = {}
    for value in pd.unique(values):
        if value != "" and value not in names and (name := loose_match(value, names)):
            renames[value] = name
    if not renames:
        return values, renames
    return values.map(lambda v: renames.get(v, v)), renames


def read_as_note(read: list[str]) -> str:
    """The note that says what was read as the scenario's names (``read_as``)."""
    return (
        "Names in the extract read as the scenario's (they differ only in capitals, spaces, "
        "hyphens or underscores): " + "; ".join(read)
    )


def as_named_in(episodes: Episodes, scenario: Scenario) -> tuple[Episodes, str | None]:
    """``episodes`` with each category value that is one of the scenario's names but for
    capitals, spaces, hyphens or underscores written as the scenario writes it (``read_as``),
    and a note of what was read so (None if nothing was)."""
    table = episodes.table
    changed: dict[str, pd.Series] = {}
    read: list[str] = []
    for column, names in scenario_names(scenario).items():
        if column not in table or not names:
            continue
        changed[column], renames = read_as(table[column], names)
        read += [f"{column} '{v}' as '{n}'" for v, n in renames.items()]
    notes = [read_as_note(read)] if read else []
    if "track" in table:
        few = _too_few(table.assign(**changed), scenario)
        if few:
            changed["track"] = changed["track"].map(lambda v: "" if v in few else v)
            notes.append(
                "Tracks the records name for too few clients to be tracks of their own (under "
                f"{TRACK_AT_LEAST} who started in the IOP), read as no track (each client in "
                "one of their age group): "
                + "; ".join(
                    f"'{name}' ({n})" if looks_like_a_code(name) else f"a name not shown ({n})"
                    for name, n in few.items()
                )
                + ". Map them with [values.track] if they are the scenario's tracks."
            )
        paired = paired_tracks(table.assign(**changed), scenario)
        if paired:
            changed["track"] = changed["track"].map(lambda v: paired.get(v, v))
            notes.append(_paired_note(paired))
    if not notes:
        return episodes, None
    return replace(episodes, table=table.assign(**changed)), " ".join(notes)


def most_common(values: pd.Series) -> str:
    """The most common non-blank value ('' if none; the first in order on a tie)."""
    counts = values[values != ""].value_counts()
    return str(counts.sort_index().idxmax()) if len(counts) else ""


TRACK_AT_LEAST = 10
"""Clients who started in the IOP that a track the scenario lacks needs in the records to be a
track of its own (fewer: a mistyped or retired name, not a group the clinic runs)."""


def _too_few(table: pd.DataFrame, scenario: Scenario) -> dict[str, int]:
    """The records' tracks the scenario lacks with fewer than TRACK_AT_LEAST clients who
    started in the IOP: name -> how many."""
    known = {t.name for t in scenario.tracks}
    started = table.loc[table["iop_start_date"].notna(), "track"]
    counts = started[(started != "") & ~started.isin(known)].value_counts()
    named = set(table["track"]) - known - {""}
    return {
        str(name): int(counts.get(name, 0))
        for name in sorted(named)
        if counts.get(name, 0) < TRACK_AT_LEAST
    }


AM, PM = "am", "pm"
_HALF_OF_DAY = {
    **dict.fromkeys(("morning", "am", "a.m.", "day", "daytime", "days"), AM),
    **dict.fromkeys(("afternoon", "pm", "p.m.", "evening", "evenings", "eve", "night"), PM),
    **dict.fromkeys(("nights", "twilight", "after-work"), PM),
}
"""Words of a track's name that say when it meets: before noon, or after."""


_MODALITY = {
    **dict.fromkeys(("virtual", "telehealth", "online", "video", "remote", "zoom"), "virtual"),
    "hybrid": "hybrid",
}
"""Words of a track's name that say how its clients join: by video, or either way."""


def modality_in_name(name: str) -> str | None:
    """'virtual' or 'hybrid' when a word of a track's name says so ('Virtual evening',
    'Telehealth IOP'), else None."""
    said = {_MODALITY[w] for w in re.split(r"[\s_\-/()]+", name.lower()) if w in _MODALITY}
    return said.pop() if len(said) == 1 else None


def _half_of_day(name: str) -> str | None:
    halves = {_HALF_OF_DAY[w] for w in name.lower().replace("_", " ").split() if w in _HALF_OF_DAY}
    return halves.pop() if len(halves) == 1 else None


def likeness(name: str, track: str, start: str) -> tuple[bool, float]:
    """How like a track named ``track`` starting at ``start`` (HH:MM) a track the records name
    ``name`` is, most like first when sorted in reverse: whether a word of ``name`` says the
    half of the day ``start`` falls in ('PM Group', 17:30), then how near the names are."""
    half = _half_of_day(name)
    starts = AM if int(start.split(":")[0]) < 12 else PM
    return half is not None and half == starts, SequenceMatcher(
        None, name.lower(), track.lower()
    ).ratio()


def paired_tracks(table: pd.DataFrame, scenario: Scenario) -> dict[str, str]:
    """The records' tracks that are none of the scenario's, each paired with a scenario track
    of the same age group that no record names (the same track under the clinic's own name:
    'AM Group' for 'morning'), the closest first: a word saying the half of the day it meets
    in that agrees with the track's start, then the nearest name. Unpaired, a records' track
    was added beside the scenario's silent one, and the fitted clinic had both's places."""
    seen = set(table["track"]) - {""}
    unknown = sorted(seen - {t.name for t in scenario.tracks})
    silent = [t for t in scenario.tracks if t.name not in seen]
    if not unknown or not silent:
        return {}
    ages = table["age_group"].where(table["age_group"] != "", "adult")
    scored = []
    for name in unknown:
        age = most_common(ages[table["track"] == name]) or "adult"
        for track in silent:
            if track.age_group == age:
                scored.append((likeness(name, track.name, track.start), name, track.name))
    pairs: dict[str, str] = {}
    for _, name, track in sorted(scored, key=lambda x: (-x[0][0], -x[0][1], x[1], x[2])):
        if name not in pairs and track not in pairs.values():
            pairs[name] = track
    return pairs


def _paired_note(paired: dict[str, str]) -> str:
    return (
        "Tracks the records name that the scenario does not, read as the scenario's tracks "
        "that no record names (the same track under the clinic's own name, most likely): "
        + "; ".join(f"'{v}' as '{n}'" for v, n in paired.items())
        + ". If one is another track, map the records' names with [values.track]."
    )
