"""Offices: the rooms individual, family, medication, intake and outpatient sessions are
held in. Each office keeps a diary of its open hours (as a clinician's diary of rostered
hours), closed on the clinic's closed days; a session that needs an office books one for
its whole length, so no office is ever double-booked."""

from __future__ import annotations

from simulation.compiled import Plan
from simulation.config import APPOINTMENT_KINDS
from simulation.model.staff import Person


class Offices:
    """Every office, and which of them each kind of session may use (name order)."""

    def __init__(self, plan: Plan, closed: set[int]) -> None:
        self.units: list[Person] = []
        self.for_kind: dict[str, list[Person]] = {kind: [] for kind in APPOINTMENT_KINDS}
        self.site_of: dict[str, str | None] = {}  # (a network) each unit's site
        for office in plan.offices:  # (in name order)
            for name in office.units:
                diary = Person(
                    name=name,
                    pool=office.name,
                    role="office",
                    roster=list(office.open_hours),
                    leave_days=set(closed) | plan.site_closed_days.get(office.site, set()),
                )
                self.units.append(diary)
                self.site_of[name] = office.site
                for kind in office.used_for:
                    self.for_kind[kind].append(diary)

    def needed_for(self, kind: str, site: str = "") -> list[Person] | None:
        """The offices a session of ``kind`` must have one of; None if it needs none. For a
        client of a network's ``site``: the offices at that site or for every site (a site with
        none of its own holds its sessions without one, as a clinic without offices does)."""
        offices = self.for_kind[kind]
        if site and offices:
            offices = [o for o in offices if self.site_of[o.name] in (None, site)]
        return offices or None
