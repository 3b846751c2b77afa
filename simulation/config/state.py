"""Where a clinic stands on a date: the clients waiting and in care a run starts from."""

from __future__ import annotations

from pydantic import (
    Field,
)

from simulation.config.base import Name, _Model
from simulation.config.calendar import DateField


class StateClient(_Model):
    """A client on the clinic's books on the state's date: where they are and since when."""

    # intake_waitlist, authorisation (assessed for the IOP, not yet on its waitlist: waiting
    # for the payer's authorisation or an evaluation first), iop_waitlist, iop, op, the name
    # of a level of care (levels): holding a place there since the date, or <level>_waitlist:
    # waiting for a place there since the date
    stage: Name
    since: DateField
    source: Name | None = None  # default: the first referral source
    track: Name | None = None  # in the IOP: their track (default: one for their age group)
    therapist: Name | None = None  # in the IOP: their primary therapist, if known
    site: Name | None = None  # (a network) the site they are seen at
    region: Name | None = None  # (a network) the region they came from
    # waiting for intake: the chance they are lost before assessment (iopsim fit writes the
    # share lost among past referrals not assessed as long after referral; default: the
    # scenario's intake.lost_share)
    lost_chance: float | None = Field(default=None, ge=0.0, le=1.0)


class State(_Model):
    """Where the clinic stands on ``as_of``: who waits, who is in care, since when. A run from
    a state needs no warm-up; clients in care get the rest of their stay given the time
    already spent."""

    as_of: DateField
    clients: list[StateClient] = []
