"""A whole clinic and how long to simulate it: the Scenario, which joins demand, care, resources, calendar, money and state, and checks that they agree."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simulation import clock
from simulation.config.base import Name, _a, _did_you_mean, _Model
from simulation.config.calendar import Calendar, longest_shift, roster_intervals
from simulation.config.care import Iop, Readmission, StepDown, Track, Waitlist
from simulation.config.demand import Intake, Referrals
from simulation.config.levels import CareLevel, level_problems, programme_pools
from simulation.config.money import Finance, Payer, _payer_group_problems
from simulation.config.network import Network, Site, network_problems
from simulation.config.ranges import range_problem
from simulation.config.resources import Office, Room, StaffChange, StaffPool
from simulation.config.state import State
from simulation.config.timetable import TimetableError, plan_timetable
from simulation.distributions import Distribution, largest_of
from simulation.kpis import (
    CASELOAD_PREFIX,
    GROUP_KINDS,
    KPIS,
    UTILISATION_PREFIX,
    describe,
    split_group,
)

_TARGET = re.compile(r"^\s*(<=|>=)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


def parse_target(text: str) -> tuple[str, float]:
    """'<= 14' -> ('<=', 14.0)."""
    match = _TARGET.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a target; write '<= NUMBER' or '>= NUMBER'")
    return match.group(1), float(match.group(2))


class Scenario(_Model):
    """A whole clinic and how long to simulate it."""

    name: Name
    description: Annotated[str, Field(max_length=5000)] = ""
    # a date, or its ISO text (as a run folder's manifest.json stores it); bounded so that any
    # horizon (up to 20 years) ends on a real date
    start_date: Annotated[
        dt.date, Field(strict=False, ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31))
    ] = dt.date(2027, 1, 4)
    horizon_weeks: int = Field(default=52, ge=1, le=1040)
    warmup_weeks: int = Field(default=12, ge=0, le=520)
    replications: int = Field(default=10, ge=1, le=10000)
    seed: int = Field(default=12345, ge=0, le=2**63 - 1)
    referrals: Referrals
    intake: Intake = Intake()
    tracks: list[Track] = Field(min_length=1)
    rooms: list[Room] = Field(min_length=1)
    offices: list[Office] = []  # rooms for appointments (none: appointments need no room)
    payers: list[Payer] = []  # none: one payer by the finance table's rates and rule
    iop: Iop
    step_down: StepDown = StepDown(share=0.0)
    waitlist: Waitlist = Waitlist()
    readmission: Readmission = Readmission()
    staff: dict[Name, StaffPool] = {}
    finance: Finance = Finance()
    targets: dict[str, str] = {}
    calendar: Calendar = Calendar()
    staff_changes: list[StaffChange] = []
    state: State | None = None
    # levels of care beside the IOP (PHP above it, outpatient below, ...): places, stays and
    # routes between them; none: the IOP alone (see config/levels.py)
    levels: list[CareLevel] = []
    # a provider's sites and how referrals find one (none: one site; see config/network.py)
    sites: list[Site] = []
    network: Network = Network()
    # how far each uncertain input may be off: dotted key -> [low, high], "+-20%" or a
    # distribution (iopsim sensitivity, plan --robust); nothing here changes a run
    uncertainty: dict[str, list[float] | str | Distribution] = {}

    @field_validator("uncertainty", mode="before")
    @classmethod
    def _flatten_uncertainty(cls, value):
        """``[uncertainty] referrals.per_week = [6, 9]`` (a nested table in TOML) or
        ``"referrals.per_week" = [6, 9]``: both become the dotted key."""
        if not isinstance(value, dict):
            return value
        flat: dict = {}

        def walk(node: dict, prefix: str) -> None:
            for key, item in node.items():
                dotted = f"{prefix}{key}"
                if isinstance(item, dict) and "dist" not in item:
                    walk(item, dotted + ".")
                else:
                    flat[dotted] = item

        walk(value, "")
        return flat

    def _uncertainty_problems(self) -> list[str]:
        if not self.uncertainty:
            return []
        data = self.model_dump(mode="python", exclude_none=True)
        found = [range_problem(key, spec, data) for key, spec in self.uncertainty.items()]
        return [p for p in found if p]

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: dict[str, str]) -> dict[str, str]:
        for kpi, text in targets.items():
            try:
                describe(kpi)
            except KeyError:
                base, group = split_group(kpi)
                if group is not None:
                    raise ValueError(
                        f"'{kpi}' is not a KPI: a group KPI is KPI[KIND=NAME] with KIND one of "
                        f"{', '.join(GROUP_KINDS)}, e.g. wait_to_iop_days_p90[age_group=adolescent]"
                    ) from None
                hint = _did_you_mean(kpi, list(KPIS))
                raise ValueError(f"'{kpi}' is not a KPI{hint}") from None
            parse_target(text)
        return targets

    @model_validator(mode="after")
    def _consistent(self):
        problems = self._name_problems() + self._uncertainty_problems()
        problems += network_problems(self)
        problems += level_problems(
            self.levels,
            self.referrals.sources,
            self.intake.higher_care_to,
            self.iop.escalate_to,
            self.staff,
            self.intake.outpatient_to,
        )
        names = [level.name for level in self.levels]
        for payer in self.payers:
            for name in payer.level_per_diems:
                if name not in names:
                    problems.append(
                        f"payers.{payer.name}.level_per_diems: '{name}' is not a level "
                        f"(levels: {', '.join(names) or 'none'})"
                    )
        pools = list(self.staff)
        for field, names in [
            ("intake.pools", self.intake.pools),
            ("iop.therapist_pools", self.iop.therapist_pools),
            ("iop.prescriber_pools", self.iop.prescriber_pools),
            ("step_down.pools", self.step_down.pools),
            *[(f"tracks.{t.name}.facilitator_pools", t.facilitator_pools) for t in self.tracks],
        ]:
            for name in names:
                if name not in self.staff:
                    problems.append(
                        f"{field}: '{name}' is not a staff pool{_did_you_mean(name, pools)}"
                        f" (pools: {', '.join(pools) or 'none'})"
                    )
        rooms = {r.name: r for r in self.rooms}
        for track in self.tracks:
            if track.modality == "virtual":
                if track.room is not None:
                    problems.append(
                        f"tracks.{track.name}.room: a virtual track meets by video and takes no "
                        "room; leave room out"
                    )
                continue
            if track.room is not None:
                if track.room not in rooms:
                    problems.append(
                        f"tracks.{track.name}.room: '{track.room}' is not a room"
                        f"{_did_you_mean(track.room, list(rooms))}"
                    )
                elif rooms[track.room].seats < track.room_seats_needed:
                    in_person = " in person" if track.modality == "hybrid" else ""
                    problems.append(
                        f"tracks.{track.name}.seats: {track.room_seats_needed} seats{in_person} "
                        f"do not fit room '{track.room}' with {rooms[track.room].seats} seats"
                    )
            elif max(r.seats for r in self.rooms) < track.room_seats_needed:
                problems.append(
                    f"tracks.{track.name}.seats: no room has {track.room_seats_needed} seats "
                    f"(largest: {max(r.seats for r in self.rooms)})"
                )
            if track.facilitators > 0 and not track.facilitator_pools:
                problems.append(
                    f"tracks.{track.name}.facilitator_pools: the track needs "
                    f"{track.facilitators} facilitator(s) but names no pool to take them from"
                )
        iop = self.iop
        if iop.attendance_sd is not None and not (
            0 < iop.attendance < 1 and iop.attendance_sd**2 < iop.attendance * (1 - iop.attendance)
        ):
            if 0 < iop.attendance < 1:
                bound = math.sqrt(iop.attendance * (1 - iop.attendance))
                allowed = f"the sd between clients must be under {bound:.3f}"
            else:  # (everyone always, or never, comes: clients cannot differ)
                allowed = "every client comes alike: set iop.attendance_sd = 0"
            problems.append(
                f"iop.attendance_sd = {iop.attendance_sd}: with attendance {iop.attendance:g} "
                f"{allowed}"
            )
        source = self.readmission.source
        if source is not None and source not in {s.name for s in self.referrals.sources}:
            names = [s.name for s in self.referrals.sources]
            problems.append(
                f"readmission.source: '{source}' is not a referral source"
                f"{_did_you_mean(source, names)}"
            )
        if self.payers:
            total = sum(p.share for p in self.payers)
            if abs(total - 1.0) > 1e-6:
                problems.append(
                    f"payers: the shares add up to {total:.4g}; they must add up to 1 "
                    f"({', '.join(f'{p.name} {p.share:g}' for p in self.payers)})"
                )
            problems += _payer_group_problems(self.payers, self.referrals.sources)
            names = [p.name for p in self.payers]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                problems.append(f"payer names must be different; repeated: {', '.join(repeated)}")
        if not self.calendar.school_holidays:
            for track in self.tracks:
                if track.has_holiday_timetable:
                    problems.append(
                        f"tracks.{track.name}.holiday_days/holiday_start: a holiday timetable "
                        "needs calendar.school_holidays (the dates schools are out)"
                    )
            if self.referrals.school_holiday_multiplier is not None:
                problems.append(
                    "referrals.school_holiday_multiplier: needs calendar.school_holidays "
                    "(the dates schools are out)"
                )
        problems += self._unused_pool_problems()
        problems += self._state_problems()
        problems += self._staff_change_problems()
        problems += self._target_group_problems()
        if self.referrals.per_week > 0:
            problems += self._capacity_problems()
        if not any(p.startswith("tracks.") for p in problems):
            # Imported here: the timetable planner is model code that reads a scenario.
            try:
                problems += self._programme_clashes(plan_timetable(self))
            except TimetableError as exc:
                problems += str(exc).split("\n")  # every session that cannot run, at once
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _programme_clashes(self, timetable) -> list[str]:
        """A level's programme and a group both need the same person at once."""
        pool_of = {name: pool for name, pool, _, _ in self.people()}
        problems = []
        for level in self.levels:
            if level.programme is None:
                continue
            hours = roster_intervals([level.programme])
            for track, slots in sorted(timetable.items()):
                for slot in slots:
                    clash = sorted(
                        name
                        for name in slot.facilitators
                        if pool_of.get(name) in level.programme.staff_pools
                        and any(a < slot.end and slot.start < b for a, b in hours)
                    )
                    if clash:
                        problems.append(
                            f"levels.{level.name}.programme.staff_pools: {', '.join(clash)} "
                            f"would run the programme and facilitate track {track} at once; "
                            "give the programme or the track other staff, or other hours"
                        )
        return list(dict.fromkeys(problems))

    def _name_problems(self) -> list[str]:
        """Names must be unique within and across kinds: tracks, rooms, staff pools and staff
        members share one namespace in the tables (a pool named like a room would mix hours)."""
        problems = []
        kinds = [
            ("track", [t.name for t in self.tracks]),
            ("room", [r.name for r in self.rooms]),
            ("office", [o.name for o in self.offices]),
            ("staff pool", list(self.staff)),
            ("staff member", [n for p, pool in self.staff.items() for n in pool.names(p)]),
        ]
        for what, names in kinds:
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                problems.append(f"{what} names must be different; repeated: {', '.join(repeated)}")
        owner: dict[str, str] = {}
        pool_of = {n: p for p, pool in self.staff.items() for n in pool.names(p)}
        for what, names in kinds:
            for name in dict.fromkeys(names):
                # a one-person pool may share its member's name
                own_pool = what == "staff member" and pool_of.get(name) == name
                if name in owner and owner[name] != what and not own_pool:
                    problems.append(
                        f"the name '{name}' is used by {_a(owner[name])} and {_a(what)}; "
                        "tracks, rooms, offices, staff pools and staff members need different names"
                    )
                owner.setdefault(name, what)
        return problems

    def _staff_change_problems(self) -> list[str]:
        """Changes name pools that exist, and never take a pool below nobody."""
        problems = []
        pools = list(self.staff)
        present = {p: pool.size for p, pool in self.staff.items()}
        for i, change in enumerate(sorted(self.staff_changes, key=lambda c: c.week)):
            where = f"staff_changes.{i}"
            if change.pool not in self.staff:
                problems.append(
                    f"{where}.pool: '{change.pool}' is not a staff pool{_did_you_mean(change.pool, pools)}"
                )
                continue
            present[change.pool] += change.count if change.change == "join" else -change.count
            if present[change.pool] < 0:
                problems.append(
                    f"{where}: {change.count} cannot leave {change.pool} in week {change.week}; "
                    "fewer are in post then"
                )
        return problems

    def _state_problems(self) -> list[str]:
        """A state must fall in the first week simulated and name what exists."""
        if self.state is None:
            return []
        problems = []
        monday = clock.week_zero_monday(self.start_date)
        if not monday <= self.state.as_of < monday + dt.timedelta(days=7):
            problems.append(
                f"state.as_of = {self.state.as_of}: must be in the first week simulated "
                f"(start_date {self.start_date}); set start_date to the state's date"
            )
        if self.warmup_weeks:
            problems.append(
                f"warmup_weeks = {self.warmup_weeks}: a run from a state starts where the clinic "
                "stands and needs no warm-up; set warmup_weeks = 0"
            )
        tracks = [t.name for t in self.tracks]
        sources = [s.name for s in self.referrals.sources]
        people = [n for p, pool in self.staff.items() for n in pool.names(p)]
        unknown: dict[tuple[str, str], list[int]] = {}  # (field, value) -> clients
        stages = ["intake_waitlist", "authorisation", "iop_waitlist", "iop", "op"]
        levels = [level.name for level in self.levels]
        waiting = [f"{name}_waitlist" for name in levels]
        for i, c in enumerate(self.state.clients):
            where = f"state.clients.{i}"
            if c.stage not in stages + levels + waiting:
                problems.append(
                    f"{where}.stage: '{c.stage}' is not a stage ({', '.join(stages)}, or a "
                    f"level of care: {', '.join(levels) or 'none in this scenario'}, or its "
                    "waitlist: <level>_waitlist)"
                )
            if c.since > self.state.as_of:
                problems.append(f"{where}.since = {c.since}: after state.as_of {self.state.as_of}")
            if c.track is not None and c.track not in tracks:
                unknown.setdefault(("track", c.track), []).append(i)
            if c.source is not None and c.source not in sources:
                unknown.setdefault(("source", c.source), []).append(i)
            if c.therapist is not None and c.therapist not in people:
                problems.append(f"{where}.therapist: '{c.therapist}' is not a member of staff")
        # one line per unknown name, however many clients carry it
        for (field, value), clients in unknown.items():
            names, what = (tracks, "track") if field == "track" else (sources, "referral source")
            problems.append(
                f"state.clients ({len(clients)} client(s), e.g. state.clients.{clients[0]}).{field}: "
                f"'{value}' is not a {what}{_did_you_mean(value, names)} ({what}s: "
                f"{', '.join(names)}); map the extract's names with [values.{field}]"
            )
        return problems

    def pools_named(self, intake: bool = True) -> set[str]:
        """The staff pools the scenario's lists name: tracks' facilitators, therapists,
        prescribers, step-down, levels' programmes and (with ``intake``) intake."""
        used = set(self.iop.therapist_pools + self.iop.prescriber_pools + self.step_down.pools)
        for track in self.tracks:
            used |= set(track.facilitator_pools)
        used |= programme_pools(self.levels)
        return used | set(self.intake.pools) if intake else used

    def _unused_pool_problems(self) -> list[str]:
        """A pool that nothing refers to is almost always a misspelt name (a phantom pool)."""
        used = self.pools_named()
        problems = []
        for name in self.staff:
            if name not in used:
                hint = _did_you_mean(name, sorted(used))
                problems.append(
                    f"staff.{name}: no track, intake, therapist, prescriber, step-down or level "
                    f"programme list names this pool{hint}; name it in one (e.g. "
                    "iop.therapist_pools) or remove it"
                )
        return problems

    def _target_group_problems(self) -> list[str]:
        """Targets about a group or a resource must name one that exists."""
        names = {
            "track": [t.name for t in self.tracks],
            "source": [s.name for s in self.referrals.sources],
            "age_group": ["adult", "adolescent"],
            "payer": [p.name for p in self.payers],
            "level": [level.name for level in self.levels],
            "site": [site.name for site in self.sites],
            "region": [r.name for r in self.network.regions],
        }
        problems = []
        for kpi in self.targets:
            base, group = split_group(kpi)
            if group is not None:
                kind, _, who = group.partition("=")
                if who not in names.get(kind, []):
                    problems.append(
                        f"targets.{kpi}: no {kind.replace('_', ' ')} '{who}'"
                        f"{_did_you_mean(who, names.get(kind, []))} "
                        f"({', '.join(names.get(kind, [])) or 'none'})"
                    )
            for prefix, options in (
                (UTILISATION_PREFIX, [*self.staff, *(r.name for r in self.rooms)]),
                (CASELOAD_PREFIX, list(self.iop.therapist_pools)),
            ):
                if kpi.startswith(prefix) and kpi[len(prefix) :] not in options:
                    who = kpi[len(prefix) :]
                    problems.append(
                        f"targets.{kpi}: '{who}' is not one of {', '.join(options)}"
                        f"{_did_you_mean(who, options)}"
                    )
        return problems

    def _capacity_problems(self) -> list[str]:
        problems = []
        if self.intake.enabled and not any(
            self.staff[p].size > 0 for p in self.intake.pools if p in self.staff
        ):
            problems.append(
                "intake.pools: referrals arrive but no one can do intake assessments "
                "(name a staff pool with members, or set intake.enabled = false)"
            )
        if self.iop.therapist_pools and not any(
            self.staff[p].caseload_caps(self.finance.full_time_hours)[0] * self.staff[p].size > 0
            for p in self.iop.therapist_pools
            if p in self.staff
        ):
            problems.append(
                "iop.therapist_pools: referrals arrive but no therapist has IOP caseload room "
                "(iop_caseload_cap is 0 or the pools are empty)"
            )
        if self.step_down.share > 0 and not any(
            self.staff[p].caseload_caps(self.finance.full_time_hours)[1] * self.staff[p].size > 0
            for p in self.step_down.pools
            if p in self.staff
        ):
            problems.append(
                "step_down.pools: completers step down but no one has outpatient caseload room "
                "(set op_caseload_cap on a pool listed in step_down.pools, or step_down.share = 0)"
            )
        has_prescriber = any(
            self.staff[p].size > 0 for p in self.iop.prescriber_pools if p in self.staff
        )
        if self.iop.medication_share > 0 and self.iop.prescriber_pools and not has_prescriber:
            problems.append("iop.prescriber_pools: medication is needed but the pools are empty")
        if self.iop.medication_share > 0 and not self.iop.prescriber_pools:
            problems.append(
                f"iop.prescriber_pools: none named, but iop.medication_share is "
                f"{self.iop.medication_share:g}: those clients would never see a prescriber "
                "(name the prescribers' pools, or set iop.medication_share = 0)"
            )
        owed = [
            f"iop.{key} = {value}"
            for key, value in (
                ("individual_sessions_per_week", self.iop.individual_sessions_per_week),
                ("family_session_interval_weeks", self.iop.family_session_interval_weeks),
            )
            if value > 0
        ]
        if owed and not self.iop.therapist_pools:
            problems.append(
                f"iop.therapist_pools: none named, but {' and '.join(owed)}: no client would "
                "have a primary therapist to hold them (name the primary therapists' pools, "
                "or set " + " and ".join(o.split(" =")[0] + " = 0" for o in owed) + ")"
            )
        problems += self._sessions_longer_than_shifts()
        gated = [
            f"payers.{p.name}.requires_certification"
            for p in self.payers
            if p.requires_certification
        ]
        if self.iop.evaluation_before_start:
            gated.append("iop.evaluation_before_start")
        if gated and not has_prescriber:
            problems.append(
                f"{', '.join(gated)}: an evaluation by a prescriber is required before the first "
                "IOP day, but iop.prescriber_pools has no one (name a prescriber pool with staff)"
            )
        return problems

    def _sessions_longer_than_shifts(self) -> list[str]:
        """Sessions that could never be booked: longer than every shift of the pools that hold
        them (a client's assessment, then, never comes, and they wait to the end of the run)."""
        iop, step_down = self.iop, self.step_down
        sessions = [
            ("intake.assessment_hours", "intake", self.intake.assessment_hours,
             self.intake.pools, self.intake.enabled),
            ("iop.individual_session_hours", "individual", iop.individual_session_hours,
             iop.therapist_pools, iop.individual_sessions_per_week > 0),
            ("iop.family_session_hours", "family", iop.family_session_hours,
             iop.therapist_pools, iop.family_session_interval_weeks > 0),
            ("iop.medication_first_hours", "medication", iop.medication_first_hours,
             iop.prescriber_pools, iop.medication_share > 0),
            ("iop.medication_review_hours", "medication", iop.medication_review_hours,
             iop.prescriber_pools, iop.medication_share > 0),
            ("step_down.session_hours", "outpatient", step_down.session_hours, step_down.pools,
             step_down.share > 0 and step_down.sessions_per_week > 0),
        ]  # fmt: skip
        problems = []
        for key, kind, hours, pools, needed in sessions:
            staffed = [p for p in pools if p in self.staff and self.staff[p].size > 0]
            if not needed or not staffed:
                continue  # (no pool at all is a problem of its own)
            offices = [o.available for o in self.offices if kind in o.used_for]
            longest = max(
                longest_shift(self.staff[p].roster, within)
                for p in staffed
                for within in (offices or [None])
            )
            top = hours if isinstance(hours, int | float) else largest_of(hours)
            if top > longest + 1e-9:
                if math.isinf(top):
                    length = "has no upper bound"
                elif isinstance(hours, int | float) or getattr(hours, "dist", "") == "fixed":
                    length = f"lasts {top:g} h"
                else:
                    length = f"may last up to {top:g} h"
                where = f"the longest shift in {', '.join(staffed)}"
                if offices:
                    where += f" while an office for {kind} sessions is open"
                problems.append(
                    f"{key}: {length}, but {where} is {longest:g} h: a session that long could "
                    "never be booked (lengthen a shift, or give the session a max no longer "
                    "than the shift)"
                )
        return problems

    def people(self) -> list[tuple[str, str, int, int | None]]:
        """Everyone who works in the clinic during the run, as (name, pool, first week, week
        they leave or None): the pools' members, then joiners and leavers of staff_changes
        (joiners are named '<pool> joiner N'; leavers are a pool's last members by name)."""
        rows = {}
        for pool_name, pool in self.staff.items():
            for name in sorted(pool.names(pool_name)):
                rows[name] = [name, pool_name, 0, None]
        joined: dict[str, int] = {}
        for change in sorted(self.staff_changes, key=lambda c: (c.week, c.change, c.pool)):
            if change.change == "join":
                for _ in range(change.count):
                    joined[change.pool] = joined.get(change.pool, 0) + 1
                    name = f"{change.pool} joiner {joined[change.pool]}"
                    rows[name] = [name, change.pool, change.week, None]
            else:
                staying = sorted(
                    n
                    for n, (_, p, first, gone) in rows.items()
                    if p == change.pool and gone is None and first <= change.week
                )
                for name in staying[-change.count :]:
                    rows[name][3] = change.week
        return [tuple(r) for r in rows.values()]

    @property
    def total_weeks(self) -> int:
        """Weeks simulated: those before the measured period (the warm-up, or the week of a
        state dated after its Monday) plus the reporting horizon."""
        return self.measured_from_week + self.horizon_weeks

    @property
    def measured_from_week(self) -> int:
        """The first week the KPIs count: the one after the warm-up; for a run from a state
        dated after its week's Monday, the week after the state's (the model holds no one
        before the state's date: counted, those days read a seventh of the clinic a day).
        ``horizon_weeks`` are measured from it either way."""
        if self.state is not None and self.state.as_of.weekday() != 0:
            return max(self.warmup_weeks, 1)
        return self.warmup_weeks

    def target_list(self) -> list[tuple[str, str, float]]:
        """Targets as (kpi, operator, bound)."""
        return [(kpi, *parse_target(text)) for kpi, text in self.targets.items()]
