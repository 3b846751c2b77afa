"""What care costs and earns: billable days, the finance table and payers (rates, authorisations, shares by group)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
)

from simulation.config.base import Name, NonNegative, Share, _did_you_mean, _Model
from simulation.distributions import Distribution


class BillableDay(_Model):
    """Which IOP client-days earn the per diem.

    ``requires``: "group" (default: a day with at least one attended group session) or
    "any_service" (a group or any attended individual, family or medication appointment).
    ``min_hours`` / ``min_services``: the day must also reach these attended hours / services
    (a service is an hour of group or one appointment), e.g. Medicare's 3 services or New York
    OASAS's 3 hours.
    """

    requires: Literal["group", "any_service"] = "group"
    min_hours: Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)] = 0.0
    min_services: int = Field(default=0, ge=0, le=24)


class Finance(_Model):
    """Money: per diem per billable IOP day, outpatient session rate, room cost."""

    iop_per_diem: NonNegative = 300.0
    iop_per_diem_4plus: NonNegative | None = None
    billable_day: BillableDay = BillableDay()
    op_session_rate: NonNegative = 120.0
    room_cost_per_week: NonNegative = 0.0
    full_time_hours: Annotated[float, Field(gt=0, le=80, allow_inf_nan=False)] = 40.0
    # fixed costs a month by item (programme director, nurse, front desk, billing, rent and
    # IT, ...): in the weekly cost and so the margin; plans may leave them out of their cost
    overhead_per_month: dict[Name, NonNegative] = {}
    overhead_in_plans: bool = True

    @property
    def overhead_per_week(self) -> float:
        return sum(self.overhead_per_month.values()) * 12 / 52


def payer_shares(payers: list, source) -> list[float]:
    """The chance of each payer (in the order given) for a referral from ``source``: the
    payer's share for that source, else for its age group, else its overall share."""
    return [
        p.shares_by_source.get(source.name, p.shares_by_age_group.get(source.age_group, p.share))
        for p in payers
    ]


def _payer_group_problems(payers: list, sources: list) -> list[str]:
    """Shares by age group or source that name no source, or that do not add up to 1."""
    problems = []
    names = {s.name for s in sources}
    for p in payers:
        for name in p.shares_by_source:
            if name not in names:
                problems.append(
                    f"payers.{p.name}.shares_by_source: '{name}' is not a referral source"
                    f"{_did_you_mean(name, sorted(names))}"
                )
    if not any(p.shares_by_source or p.shares_by_age_group for p in payers):
        return problems
    for source in sources:
        total = sum(payer_shares(payers, source))
        if abs(total - 1.0) > 1e-6:
            parts = ", ".join(
                f"{p.name} {x:g}" for p, x in zip(payers, payer_shares(payers, source), strict=True)
            )
            problems.append(
                f"payers: for referrals from '{source.name}' ({source.age_group}) the payers' "
                f"shares add up to {total:.4g}; they must add up to 1 ({parts}): give each "
                "payer a share in shares_by_source or shares_by_age_group"
            )
    return problems


class Payer(_Model):
    """Who pays for a share of the referrals, how much and by which rules: the IOP per diem
    for billable days (its own billable-day rule), the outpatient session rate, an
    authorisation delay before the first IOP day, utilisation review (days authorised, then
    extensions granted with a probability: a client refused one leaves at that review), the
    share of claims denied and the days to payment.

    ``share`` is the payer's share of all referrals; ``shares_by_age_group`` and
    ``shares_by_source`` replace it for referrals of that age group or source (a source's
    share first), so adolescents need not be drawn on Medicare. ``iop_per_diem_4plus`` pays
    days with 4 or more services (Medicare's second tier); ``telehealth_per_diem`` pays the IOP
    days of clients who join their groups by video (a virtual track, or a hybrid track's video
    clients)."""

    name: Name
    share: Share
    shares_by_age_group: dict[Literal["adult", "adolescent"], Share] = {}
    shares_by_source: dict[Name, Share] = {}
    iop_per_diem: NonNegative = 300.0
    iop_per_diem_4plus: NonNegative | None = None
    telehealth_per_diem: NonNegative | None = None
    # a physician (a prescriber) certifies the need for IOP before the first IOP day (Medicare)
    requires_certification: bool = False
    op_session_rate: NonNegative = 120.0
    billable_day: BillableDay = BillableDay()
    authorisation_days: Distribution | None = None
    authorised_days: int | None = Field(default=None, ge=1, le=1000)
    extension_days: int = Field(default=30, ge=1, le=1000)
    extension_probability: Share = 1.0
    denial_share: Share = 0.0
    days_to_payment: NonNegative = 30.0
    # levels of care: this payer's per diem at a level (by level name; the level's per_diem
    # where not given), and whether it pays the days a client is blocked there, ready to go
    # on (None: the level's blocked_days_billed)
    level_per_diems: dict[Name, NonNegative] = {}
    level_blocked_days_billed: bool | None = None
