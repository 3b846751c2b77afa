"""An extract's names read as a scenario's: a referral source, track, level of care, site or
region written with other capitals, spaces, hyphens or underscores ('COMMUNITY ', 'Morning',
'inpatient_step-down') is the scenario's own, so what the scenario says of it (a source's
priority and the level it enters at, a track's timetable) holds for its records.

Read as another name, such a source was a new one: a continuum's inpatient step-downs no
longer went to the PHP (its referrals a third short) and community referrals lost their place
behind step-downs, without a word.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from simulation.config import IOP, Scenario
from simulation.data.extract import Episodes
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
    if not read:
        return episodes, None
    return replace(episodes, table=table.assign(**changed)), read_as_note(read)
