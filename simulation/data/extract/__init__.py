"""The episode extract: one row per referral, as a clinic's records system exports it.

``read_episodes(path, column_map, value_maps)`` reads only the documented columns (through the
column map: a clinic's own headings), parses dates, maps codes ("AMA" -> dropped_out), checks
every row and returns ``Episodes``: a typed table with episodes re-numbered 0..n-1 in referral
order. Episode identifiers never leave this module; problems name row numbers only
(spreadsheet rows: the first data row is row 2). See docs/data.md.


This face exports what the rest of iopsim uses from its modules."""

from simulation.data.extract.columns import (
    ATTENDANCE_COLUMNS,
    CATEGORIES_AT_MOST,
    CATEGORY_COLUMNS,
    CODES,
    COLUMNS,
    FIRST_ROWS,
    NO,
    ORDER,
    STAFF_COLUMNS,
    YES,
)
from simulation.data.extract.episodes import (
    AS_OF_GRACE_DAYS,
    LOSS_KNOWN_AFTER_DAYS,
    Episodes,
    as_of_date,
    as_seen_on,
    at_iop,
    observed_span,
    read_episodes,
)
from simulation.data.extract.files import READABLE, ExtractError, read_file
from simulation.data.extract.mapping import Mapping, bundled, looks_like_a_code
from simulation.data.extract.staff import read_staff

__all__ = [
    "at_iop",
    "AS_OF_GRACE_DAYS",
    "ATTENDANCE_COLUMNS",
    "CATEGORIES_AT_MOST",
    "CATEGORY_COLUMNS",
    "CODES",
    "COLUMNS",
    "Episodes",
    "ExtractError",
    "FIRST_ROWS",
    "LOSS_KNOWN_AFTER_DAYS",
    "Mapping",
    "looks_like_a_code",
    "NO",
    "ORDER",
    "READABLE",
    "STAFF_COLUMNS",
    "YES",
    "as_of_date",
    "as_seen_on",
    "bundled",
    "observed_span",
    "read_episodes",
    "read_file",
    "read_staff",
]
