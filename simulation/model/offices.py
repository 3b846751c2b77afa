"""Offices: the rooms individual, family, medication, intake and outpatient sessions are
held in. Each office keeps a diary of its open hours (as a clinician's diary of rostered
hours), closed on the clinic's closed days; a session that needs an office books one for
its whole length, so no office is ever double-booked."""

from __future__ import annotations

from simulation.config import APPOINTMENT_KINDS, Scenario, roster_intervals
from simulation.model.staff import Person


class Offices:
    """Every office, and which of them each kind of session may use (name order)."""

    def __init__(self, scenario: Scenario, closed: set[int]) -> None:
        self.units: list[Person] = []
        self.for_kind: dict[str, list[Person]] = {kind: [] for kind in APPOINTMENT_KINDS}
        for office in sorted(scenario.offices, key=lambda o: o.name):
            for name in office.units():
                diary = Person(
                    name=name,
                    pool=office.name,
                    role="office",
                    roster=roster_intervals(office.available),
                    leave_days=set(closed),
                )
                self.units.append(diary)
                for kind in office.used_for:
                    self.for_kind[kind].append(diary)

    def needed_for(self, kind: str) -> list[Person] | None:
        """The offices a session of ``kind`` must have one of; None if it needs none."""
        return self.for_kind[kind] or None
