"""What a planner changes in the studio, as form fields, and the form's values back as the
command line's ``KEY=VALUE`` changes.

A field is one scenario value a planner commonly changes: the run's length and replications,
referrals a week, each track's seats, days, start and session length, each staff pool's
count and roster, each level's places (or places at each site), each region's share of
referrals and growth. Only the values the planner changed become changes,
and every change goes through ``apply_overrides``, so the studio checks and words its messages
exactly as ``--set`` does. Anything else can be changed as ``KEY=VALUE`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulation.config import Scenario, apply_overrides, to_data
from simulation.fit.writer import toml_value

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Field:
    """One input: the scenario ``key`` it sets (as ``--set`` names it), its label, the group
    it is shown in, its kind ("number", "text", "days" or "toml") and its current value as
    the form shows it."""

    key: str
    label: str
    group: str
    kind: str
    value: str


def fields(scenario: Scenario) -> list[Field]:
    """The form of ``scenario``: its run, referrals, tracks, staff pools and levels."""
    data = to_data(scenario)
    out = [
        Field("replications", "Replications", "Run", "number", str(data["replications"])),
        Field("horizon_weeks", "Weeks measured", "Run", "number", str(data["horizon_weeks"])),
        Field("warmup_weeks", "Warm-up weeks", "Run", "number", str(data["warmup_weeks"])),
        Field(
            "referrals.per_week",
            "Referrals a week",
            "Referrals",
            "number",
            _number(data["referrals"]["per_week"]),
        ),
    ]
    for track in data["tracks"]:
        name = track["name"]
        group = f"Track: {name}"
        out += [
            Field(f"tracks.{name}.seats", "Seats", group, "number", str(track["seats"])),
            Field(f"tracks.{name}.days", "Days", group, "days", ",".join(track["days"])),
            Field(f"tracks.{name}.start", "Starts at (HH:MM)", group, "text", track["start"]),
            Field(
                f"tracks.{name}.session_hours",
                "Hours a session",
                group,
                "number",
                _number(track["session_hours"]),
            ),
        ]
    for pool_name, pool in data["staff"].items():
        group = f"Staff: {pool_name}"
        if "count" in pool and pool.get("members") is None:
            out.append(
                Field(f"staff.{pool_name}.count", "Count", group, "number", str(pool["count"]))
            )
        out.append(
            Field(
                f"staff.{pool_name}.roster",
                "Roster (TOML)",
                group,
                "toml",
                toml_value(_plain_roster(pool["roster"])),
            )
        )
    for level in data.get("levels") or []:
        group = f"Level of care: {level['name']}"
        if level.get("places") is not None:
            out.append(
                Field(
                    f"levels.{level['name']}.places",
                    "Places",
                    group,
                    "number",
                    str(level["places"]),
                )
            )
        elif level.get("places_by_site"):
            out.append(
                Field(
                    f"levels.{level['name']}.places_by_site",
                    "Places at each site (TOML)",
                    group,
                    "toml",
                    toml_value(level["places_by_site"]),
                )
            )
    for region in (data.get("network") or {}).get("regions") or []:
        group = f"Region: {region['name']}"
        out += [
            Field(
                f"network.regions.{region['name']}.share",
                "Share of referrals",
                group,
                "number",
                _number(region["share"]),
            ),
            Field(
                f"network.regions.{region['name']}.growth",
                "Growth (x referrals)",
                group,
                "number",
                _number(region["growth"]),
            ),
        ]
    return out


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _plain_roster(roster: list[dict]) -> list[dict]:
    """A roster as a planner writes it: shifts without the defaults (no travel, no site)."""
    keep = []
    for shift in roster:
        shift = {k: v for k, v in shift.items() if v not in (None, 0, 0.0, "")}
        keep.append(shift)
    return keep


def changes(form: list[Field], values: dict[str, str], extra: str = "") -> list[str]:
    """The ``KEY=VALUE`` changes the planner made: each field whose value differs from the
    form's, then every non-empty line of ``extra`` (as ``--set`` takes them)."""
    out = []
    for field in form:
        given = values.get(field.key)
        if given is None:
            continue
        given = str(given).strip()
        if given == field.value:
            continue
        out.append(f"{field.key}={_as_toml(field, given)}")
    out += [line.strip() for line in extra.splitlines() if line.strip()]
    return out


def _as_toml(field: Field, text: str) -> str:
    """The text of a field as a TOML value: days as a list of day names, a time or any other
    text as a string; numbers and TOML as they are (checked when applied)."""
    if field.kind == "days":
        return toml_value([d.strip().lower()[:3] for d in text.split(",") if d.strip()])
    if field.kind == "text":
        return toml_value(text)
    return text


def changed(scenario: Scenario, form: list[Field], values: dict, extra: str = "") -> Scenario:
    """The scenario with the planner's changes, checked as ``--set`` checks them (raises
    ScenarioError naming the field, the value and what is allowed)."""
    return apply_overrides(scenario, changes(form, values, extra))
