"""Scenarios in and out: checking data into a Scenario (every problem in one readable list), loading TOML files, the bundled scenarios, warnings, and overrides."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from simulation import clock
from simulation.config.base import ScenarioError, _did_you_mean
from simulation.config.capacity import intake_load_warnings
from simulation.config.overrides import _field_names_at, _set_path
from simulation.config.paths import _parse_value, _split_outside
from simulation.config.scenario import Scenario
from simulation.config.unused import finance_rate_warnings


def _readable_loc(loc: tuple, data: Any) -> str:
    parts = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            label = item.get("name") if isinstance(item, dict) else None
            parts.append(str(label) if isinstance(label, str) else str(part))
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


_UNION_TAGS = {"fixed", "exponential", "lognormal", "gamma", "triangular", "uniform", "empirical"}


def _problems_from(error: ValidationError, data: Any) -> list[str]:
    problems = []
    items = [
        (
            tuple(
                p
                for p in item["loc"]
                if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p))
            ),
            item,
        )
        for item in error.errors(include_url=False)
    ]
    deeper = {loc[:n] for loc, _ in items for n in range(len(loc))}
    for loc, item in items:
        if item["type"] == "literal_error" and loc in deeper:
            continue  # a union's other form ('always'), when the value failed deeper as a list
        where = _readable_loc(loc, data) or "(top level)"
        value = item.get("input")
        kind = item["type"]
        message = item["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _field_names_at(loc[:-1])
            hint = _did_you_mean(key, allowed)
            parent = _readable_loc(loc[:-1], data) or "the top level"
            problems.append(
                f"{parent}: unknown key '{key}'{hint}; allowed here: {', '.join(allowed)}"
            )
        elif kind == "value_error" and not loc:
            problems += message.split("\n")  # cross-field checks, one problem a line
        elif kind == "missing":
            problems.append(f"{where}: required, but missing")
        elif kind in {"model_type", "dict_type"} or kind.startswith("model_attributes"):
            problems.append(f"{where}: expected a table, got {_show(value)}")
        elif kind == "union_tag_invalid":
            tag = value.get("dist") if isinstance(value, dict) else None
            hint = _did_you_mean(str(tag), sorted(_UNION_TAGS)) if tag is not None else ""
            problems.append(
                f"{where}: {_show(value)}: dist must be one of "
                f"{', '.join(sorted(_UNION_TAGS))}{hint}"
            )
        elif (isinstance(value, dict | list) and not kind.endswith(("_type", "_parsing"))) or (
            kind == "value_error" and loc == ()
        ):
            problems.append(f"{where}: {message}")  # (a table's problem: said deeper down)
        else:
            problems.append(f"{where} = {_show(value)}: {message}")
    return problems


def _show(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def problems(data: dict) -> list[str]:
    """What ``validate`` would refuse in ``data``, one line each (none: a valid scenario)."""
    try:
        validate(data)
    except ScenarioError as exc:
        return list(exc.problems)
    return []


def validate(data: dict, source: str = "") -> Scenario:
    """A Scenario from parsed TOML data, or ScenarioError listing every problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from(exc, data), source) from None


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file (TOML)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"no such scenario file: {path}"], str(path)) from None
    except IsADirectoryError:
        raise ScenarioError([f"{path} is a folder, not a scenario file"], str(path)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"not UTF-8 text (byte {exc.start})"], str(path)) from None
    except OSError as exc:
        raise ScenarioError([f"cannot read {path}: {exc.strerror}"], str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"TOML syntax error: {exc}"], str(path)) from None
    return validate(data, str(path))


def warnings(scenario: Scenario) -> list[str]:
    """Things in a valid scenario that are probably not what was meant, one line each."""
    notes = []
    full_time = scenario.finance.full_time_hours
    for name, pool in scenario.staff.items():
        rostered = pool.rostered_hours
        if pool.fte is not None and pool.annual_cost > 0 and rostered < clock.HOURS_PER_WEEK:
            implied = rostered / full_time
            if abs(pool.fte - implied) > 0.1 * max(implied, 0.1):
                notes.append(
                    f"staff.{name}.fte = {pool.fte:g} but the roster is {rostered:g} h a week "
                    f"({implied:.2f} of a {full_time:g}-hour week): the cost follows fte; leave "
                    "fte out to cost the rostered hours"
                )
    notes += timetable_hours_warnings(scenario)
    notes += unserved_age_group_warnings(scenario)
    notes += money_warnings(scenario)
    notes += finance_rate_warnings(scenario)
    notes += intake_load_warnings(scenario)
    notes += patience_warnings(scenario)
    return notes


def patience_warnings(scenario: Scenario) -> list[str]:
    """Waits that cost no one: without a patience nobody gives up waiting for intake or an
    IOP place however long the wait, so a longer queue loses no client and extra capacity
    admits no more (the published losses are a third to a half)."""
    notes = []
    through_intake = scenario.intake.enabled and any(
        source.share > 0 and source.level == "iop" for source in scenario.referrals.sources
    )
    if scenario.intake.patience_days is None and scenario.referrals.per_week > 0 and through_intake:
        lost = scenario.intake.lost_share
        notes.append(
            "intake.patience_days: not set, so nobody gives up waiting for an assessment "
            "however long the wait"
            + (f" (only intake.lost_share = {lost:g} are lost, whatever the wait)" if lost else "")
            + "; published: 45% (30-55%) lost between first call and assessment, more the "
            'longer the wait (set a distribution, e.g. { dist = "exponential", mean = 15 })'
        )
    if scenario.waitlist.iop_patience_days is None and scenario.tracks:
        notes.append(
            "waitlist.iop_patience_days: not set, so nobody gives up waiting for an IOP place "
            "however long the wait; published: 32% (20-40%) of those assessed as needing the "
            "IOP are lost before their first day (set a distribution, e.g. { dist = "
            '"exponential", mean = 25 })'
        )
    return notes


MONEY_KEYS = ("annual_cost", "overhead_per_month", "per_diem", "cost_per_place_per_week")


def money_warnings(scenario: Scenario) -> list[str]:
    """Costs left at 0 beside revenue that is not: rates default to published per diems but
    costs to nothing, so a file that leaves a cost out reports a margin it does not earn.
    Each line starts with the key to set (one of MONEY_KEYS)."""
    notes = []
    unpaid = [
        name for name, pool in scenario.staff.items() if pool.size > 0 and pool.annual_cost == 0
    ]
    if unpaid:
        keys = ", ".join(f"staff.{name}.annual_cost" for name in unpaid)
        people = sum(scenario.staff[name].size for name in unpaid)
        notes.append(
            f"{keys}: not set (0), so the cost leaves out the pay of {people} "
            f"{'person' if people == 1 else 'people'} and the margin is overstated by it (set "
            "each pool's salary plus benefits a year)"
        )
    if not scenario.finance.overhead_per_month:
        notes.append(
            "finance.overhead_per_month: none set, so the cost is staff and rooms only and the "
            "margin is before the programme's fixed costs (management, nursing, front desk, "
            "billing, rent and IT)"
        )
    for level in scenario.levels:
        rates = [level.per_diem] + [
            p.level_per_diems.get(level.name, level.per_diem) for p in scenario.payers
        ]
        if max(rates) > 0 and level.cost_per_place_per_week == 0:
            notes.append(
                f"levels.{level.name}.cost_per_place_per_week: not set (0), so the level earns "
                "its per diem but costs nothing beyond the staff pools it names, and the margin "
                "is overstated by its nursing, psychiatry and rooms"
            )
    return notes


def unserved_age_group_warnings(scenario: Scenario) -> list[str]:
    """Referral sources whose age group no track serves: their clients wait for an IOP place
    none of the tracks can give (adolescents in an adults' programme), until they give up."""
    served = {track.age_group for track in scenario.tracks}
    notes = []
    for source in scenario.referrals.sources:
        if source.share > 0 and source.age_group not in served:
            notes.append(
                f"referrals.sources.{source.name}: its referrals are {source.age_group}s "
                f"({100 * source.share:.0f}% of referrals), but no track serves "
                f"{source.age_group}s: those assessed as needing the IOP wait for a place none "
                "can give until they give up (add a track with "
                f'age_group = "{source.age_group}", or change the source\'s age_group)'
            )
    return notes


def timetable_hours_warnings(scenario: Scenario) -> list[str]:
    """Tracks whose week cannot meet, or has no room to meet, the hours rule of their age
    group: group hours on the timetable plus the individual sessions due each week."""
    notes = []
    individual = scenario.iop.individual_sessions_per_week * scenario.iop.individual_session_hours
    for track in scenario.tracks:
        groups = track.weekly_hours(with_optional=False)
        week = groups + individual
        rule = track.hours_rule
        who = "adults" if track.age_group == "adult" else "adolescents"
        longest = max(
            track.hours_on(o) for o in track.session_offsets() if not track.is_optional(o)
        )
        optional = " (optional sessions not counted)" if track.optional_days else ""
        if week < rule - 1e-9:
            notes.append(
                f"tracks.{track.name}: its week offers {week:.3g} h ({groups:.3g} h of groups "
                f"and {individual:.3g} h of individual sessions){optional}, under the "
                f"{rule:g}-hour rule for {who}: no client of it can meet the rule (programmes "
                "schedule 9-19 h)"
            )
        elif week - longest < rule - 1e-9:
            notes.append(
                f"tracks.{track.name}: its week offers {week:.3g} h{optional} against the "
                f"{rule:g}-hour rule for {who}: one missed {longest:g}-hour session fails the "
                "rule (programmes schedule 9-19 h so that a week survives an absence)"
            )
    return notes


def bundled_dir() -> Path:
    """The folder of scenarios shipped with the package."""
    return Path(str(resources.files("simulation.scenarios")))


def bundled(name: str = "baseline") -> Path:
    """Path of a bundled scenario by name (without .toml)."""
    path = bundled_dir() / f"{name}.toml"
    if not path.is_file():
        names = [p.stem for p in bundled_dir().glob("*.toml")]
        raise ScenarioError(
            [
                f"no bundled scenario '{name}'{_did_you_mean(name, names)}; bundled: {', '.join(sorted(names))}"
            ]
        )
    return path


def resolve(name_or_path: str | None) -> Path:
    """A scenario argument as a path: an existing file, else a bundled scenario's name."""
    if name_or_path is None:
        return bundled("baseline")
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or "/" in name_or_path:
        return path
    return bundled(name_or_path)


def to_data(scenario: Scenario) -> dict:
    """The scenario as plain TOML-like data (dates kept as dates)."""
    return scenario.model_dump(mode="python", exclude_none=True)


def apply_overrides(scenario: Scenario, overrides: list[str] | tuple[str, ...]) -> Scenario:
    """A new scenario with ``KEY=VALUE`` overrides applied, validated again.

    Keys are dotted paths; list items (tracks, rooms, sources) are addressed by name, e.g.
    ``tracks.evening.seats=12``. Values are TOML values (``5``, ``0.8``, ``true``, ``"text"``,
    ``["mon", "wed"]``); a bare word is a string.
    """
    if not overrides:
        return scenario
    data = to_data(scenario)
    for item in overrides:
        pieces = _split_outside(item, "=", first_only=True)
        key, sep, text = pieces[0].strip(), len(pieces) > 1, pieces[-1]
        if not sep or not key:
            raise ScenarioError([f"--set {item!r}: write KEY=VALUE, e.g. staff.therapists.count=5"])
        _set_path(data, key, _parse_value(text.strip()))
    return validate(data, "after --set")
