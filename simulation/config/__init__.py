"""A scenario's configuration: data only, checked when loaded, importing nothing from the
model. One module per concept (demand, care, resources, calendar, money, state), the Scenario
that joins them, the timetable check, and loading, dotted keys and overrides. This face
exports what the rest of iopsim uses.

A scenario is written in TOML (see ``scenarios/baseline.toml``) and validated by pydantic
models that refuse unknown keys, so that a typo fails loudly. ``load(path)`` reads a file,
``apply_overrides(scenario, ["staff.therapists.count=5"])`` changes values by dotted path (list
items addressed by their ``name``) and validates again. Every problem is reported as a
``ScenarioError`` holding one line per problem: field path, value and what is allowed."""

from simulation.config.base import (
    SHARE_TOLERANCE,
    Hours,
    Name,
    NonNegative,
    ScenarioError,
    Share,
    Weekday,
)
from simulation.config.calendar import (
    WEEKDAYS_9_TO_5,
    Calendar,
    ClosurePeriod,
    DateField,
    Roster,
    Shift,
    roster_intervals,
)
from simulation.config.capacity import IntakeHolds, intake_holds, intake_load_warnings
from simulation.config.care import (
    DISCHARGE_REASONS,
    EXIT_REASONS,
    ExitReason,
    ExitShares,
    GroupType,
    Iop,
    LengthOfStay,
    Readmission,
    ReadmissionShares,
    StepDown,
    Track,
    Waitlist,
    attendance_beta,
)
from simulation.config.demand import Intake, IntakeOutcomes, Referrals, Source, StepChange
from simulation.config.levels import (
    IOP,
    LEVEL_EXIT_REASONS,
    OUT,
    CareLevel,
    Hazard,
    Programme,
    Route,
)
from simulation.config.load import (
    MONEY_KEYS,
    apply_overrides,
    bundled,
    bundled_dir,
    load,
    money_warnings,
    patience_warnings,
    problems,
    resolve,
    timetable_hours_warnings,
    to_data,
    validate,
    warnings,
)
from simulation.config.money import BillableDay, Finance, Payer, payer_shares
from simulation.config.network import Network, Region, Site
from simulation.config.paths import value_at
from simulation.config.ranges import PERCENT, range_problem
from simulation.config.resources import (
    APPOINTMENT_KINDS,
    AppointmentKind,
    Office,
    Room,
    StaffChange,
    StaffPool,
)
from simulation.config.scenario import Scenario, parse_target
from simulation.config.state import State, StateClient
from simulation.config.timetable import Slot, TimetableError, plan_timetable
from simulation.config.unused import unused_change_warnings, unused_keys, why_unused

__all__ = [
    "IOP",
    "OUT",
    "CareLevel",
    "Route",
    "Hazard",
    "Network",
    "Region",
    "Site",
    "Programme",
    "LEVEL_EXIT_REASONS",
    "APPOINTMENT_KINDS",
    "AppointmentKind",
    "BillableDay",
    "Calendar",
    "ClosurePeriod",
    "DISCHARGE_REASONS",
    "DateField",
    "EXIT_REASONS",
    "ExitReason",
    "ExitShares",
    "Finance",
    "GroupType",
    "Hours",
    "Intake",
    "IntakeOutcomes",
    "Iop",
    "LengthOfStay",
    "Name",
    "NonNegative",
    "Office",
    "PERCENT",
    "Payer",
    "Readmission",
    "ReadmissionShares",
    "Referrals",
    "Room",
    "Roster",
    "SHARE_TOLERANCE",
    "Scenario",
    "ScenarioError",
    "Share",
    "Shift",
    "Slot",
    "Source",
    "StaffChange",
    "StaffPool",
    "State",
    "StateClient",
    "StepChange",
    "StepDown",
    "TimetableError",
    "Track",
    "WEEKDAYS_9_TO_5",
    "Waitlist",
    "Weekday",
    "apply_overrides",
    "attendance_beta",
    "bundled",
    "bundled_dir",
    "load",
    "parse_target",
    "payer_shares",
    "plan_timetable",
    "range_problem",
    "resolve",
    "roster_intervals",
    "timetable_hours_warnings",
    "money_warnings",
    "patience_warnings",
    "MONEY_KEYS",
    "to_data",
    "problems",
    "validate",
    "value_at",
    "warnings",
    "unused_keys",
    "unused_change_warnings",
    "why_unused",
    "IntakeHolds",
    "intake_holds",
    "intake_load_warnings",
]
