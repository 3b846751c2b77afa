"""Who comes: referral sources and rates, seasonality and step changes; intake (the assessment) and its outcomes."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from simulation import clock
from simulation.config.base import Name, NonNegative, Share, _check_sum_to_one, _Model
from simulation.config.calendar import Shift
from simulation.distributions import Distribution


class StepChange(_Model):
    """From week ``from_week`` on, referrals are multiplied by ``multiplier``."""

    from_week: int = Field(ge=0)
    multiplier: NonNegative


class Source(_Model):
    """Where referrals come from; a lower ``priority`` number is admitted first."""

    name: Name
    share: Share
    priority: int = Field(default=1, ge=0)
    age_group: Literal["adult", "adolescent"] = "adult"
    # its own monthly multipliers (Jan..Dec) instead of the referrals' (schools go quiet in
    # summer): with it, each source's referrals are drawn on their own
    seasonality: list[NonNegative] | None = Field(default=None, min_length=12, max_length=12)
    # where its referrals enter: "iop" (through intake, as always) or a level of care
    # (levels: placed there directly, as a transfer from an inpatient unit is)
    level: Name = "iop"


class Referrals(_Model):
    """Referral arrivals: a Poisson process whose rate varies by weekday, month and step changes."""

    per_week: NonNegative
    weekday_shares: list[Share] = Field(default=[0.2] * 5 + [0.0, 0.0], min_length=7, max_length=7)
    hours: Shift | None = None  # arrival window within each day; default 09:00-17:00
    seasonality: list[NonNegative] = Field(default=[1.0] * 12, min_length=12, max_length=12)
    step_changes: list[StepChange] = []
    # a term pattern instead of the monthly seasonality: referrals in school-holiday weeks
    # (calendar.school_holidays) x this, in term weeks x 1
    school_holiday_multiplier: NonNegative | None = None
    sources: list[Source] = Field(default=[Source(name="community", share=1.0)], min_length=1)

    @model_validator(mode="after")
    def _shares(self):
        _check_sum_to_one(self.weekday_shares, "referrals.weekday_shares")
        _check_sum_to_one([s.share for s in self.sources], "the shares of referrals.sources")
        return self

    def arrival_window(self) -> tuple[float, float]:
        """(start, end) hours of the day within which referrals arrive."""
        if self.hours is None:
            return 9.0, 17.0
        return clock.parse_clock(self.hours.start), clock.parse_clock(self.hours.end)


class IntakeOutcomes(_Model):
    """What the assessment decides: IOP, a higher level of care, or outpatient care only."""

    iop: Share = 0.75
    higher_care: Share = 0.10
    outpatient: Share = 0.15

    @model_validator(mode="after")
    def _shares(self):
        _check_sum_to_one(self.model_dump(), "intake.outcomes")
        return self


class Intake(_Model):
    """Intake assessment, booked in an intake clinician's free rostered time."""

    enabled: bool = True
    assessment_hours: Distribution = 1.5
    pools: list[Name] = []
    booking_lead_days: NonNegative = 1.0
    lost_share: Share = 0.0
    patience_days: Distribution | None = None  # a client gives up if the appointment is later
    # a cancellation list: a slot freed by someone who gave up is offered to those booked
    # later (earliest booked first) who can come at this notice
    cancellation_list: bool = False
    cancellation_notice_hours: NonNegative = 24.0
    outcomes: IntakeOutcomes = IntakeOutcomes()
    # a level of care (levels) that those assessed as needing higher care join; None: they
    # leave the model, referred on
    higher_care_to: Name | None = None
    # a level of care that those assessed as needing outpatient care join (an outpatient
    # level); None: they leave the model, referred on
    outpatient_to: Name | None = None
