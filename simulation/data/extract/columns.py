"""The extracts' columns: which are required, their kinds and codes, the yes/no words of attendance, and the order the pathway's dates must keep."""

from __future__ import annotations

# canonical column -> (required, kind); kind: id, date, text, code
COLUMNS: dict[str, tuple[bool, str]] = {
    "episode_id": (True, "id"),
    "referral_date": (True, "date"),
    "source": (False, "text"),
    "age_group": (False, "code"),
    "assessment_date": (False, "date"),
    "assessment_outcome": (False, "code"),
    "waitlist_date": (False, "date"),
    "waitlist_exit_date": (False, "date"),
    "iop_start_date": (False, "date"),
    "track": (False, "text"),
    "therapist": (False, "id"),
    "iop_end_date": (False, "date"),
    "discharge_reason": (False, "code"),
    "step_down_start_date": (False, "date"),
    "step_down_end_date": (False, "date"),
    # another level of care than the IOP (a PHP, outpatient care): the row is a stay there,
    # the start and end columns its admission and discharge; blank or "iop": the IOP
    "level": (False, "text"),
    "discharged_to": (False, "text"),  # a level's stay: the next care (iop, a level; blank: out)
    # a provider's network: the site the client was seen at, the region they came from
    "site": (False, "text"),
    "region": (False, "text"),
    # who pays for the client's care (an insurer, a plan, self-pay): the payers' mix
    "payer": (False, "text"),
}


CODES = {
    "assessment_outcome": ("iop", "higher_care", "outpatient", "lost"),
    "discharge_reason": ("completed", "dropped_out", "escalated", "other", "authorisation_ended"),
    "age_group": ("adult", "adolescent"),
}


ATTENDANCE_COLUMNS = {
    "episode_id": (True, "id"),
    "date": (True, "date"),
    "kind": (False, "text"),
    "attended": (True, "code"),
}


STAFF_COLUMNS = {
    "person": (True, "id"),
    "pool": (True, "text"),
    "from_date": (True, "date"),
    "to_date": (False, "date"),
    "fte": (False, "text"),
}


CATEGORY_COLUMNS = ("source", "track", "level", "discharged_to", "site", "region", "payer")
"""Text columns whose values are categories (mapped with [values.<column>])."""


BLANKS = frozenset(
    {"null", "n/a", "na", "#n/a", "nan", "nat", "none", "-", "--", "(blank)", "#null!"}
)
"""What exports write for an empty cell (SQL's NULL, Excel's #N/A, a dash): read as blank, in
any column (lower case; matched whole, without case)."""


YES = {"yes", "y", "true", "1", "attended", "present", "arrived", "seen", "checked in"}


NO = {
    "no",
    "n",
    "false",
    "0",
    "absent",
    "missed",
    "no-show",
    "no show",
    "noshow",
    "dna",  # did not attend (the NHS's word)
    "did not attend",
    "not attended",
}
"""How an attendance extract says a client came (YES) or not (NO); a clinic's other words are
mapped with ``[values.attended]`` (to "yes" or "no")."""


ORDER = [  # (earlier, later): a later date may not come before the earlier one
    ("referral_date", "assessment_date"),
    ("assessment_date", "waitlist_date"),
    ("referral_date", "waitlist_date"),
    ("waitlist_date", "waitlist_exit_date"),
    ("referral_date", "iop_start_date"),
    ("waitlist_date", "iop_start_date"),
    ("iop_start_date", "iop_end_date"),
    ("iop_end_date", "step_down_start_date"),
    ("step_down_start_date", "step_down_end_date"),
]


FIRST_ROWS = 5  # row numbers shown per problem class


CATEGORIES_AT_MOST = 30
"""More distinct values than this in a text column read as categories (source, track) is
probably the wrong column (names, notes): the reader says so."""
