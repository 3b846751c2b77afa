"""The clinic's own clock: a time an export writes with an offset (``Z``, ``+00:00``,
``-05:00``) read as the clinic's local time in the time zone it names (an export whose times
say nothing of that clock, every one in UTC, is told by ``extract.dates.in_utc``).

A time of day is read from the records where it matters: a track's sessions start at the time
the clinic's timetable shows, on the weekday it shows. An export that keeps local times with
their offsets (``2028-01-27T17:30:00-05:00``) shows that clock: the offset is dropped. One that
writes every time in UTC (``2028-01-27T22:30:00Z``, as many FHIR servers do) does not: the
evening track would start at 22:30, and a west-coast clinic's 19:00 session on the next day. So
with a time zone given (``--timezone America/New_York``, or ``timezone`` in the map file) every
time with an offset is moved onto the clinic's clock first; without one, times all in UTC are
said (and refused where a time of day is read, as the attendance extract's is).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

TIMED_OFFSET = re.compile(
    r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})$", re.IGNORECASE
)  # a time followed by a time zone offset: (the time, the offset)


class ZoneError(ValueError):
    """A time zone name that is not one."""


def clock(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The time zone named (an IANA name such as ``America/New_York``, or ``UTC``), or None;
    ZoneError naming the value when it is not one."""
    if name is None:
        return None
    try:
        return zoneinfo.ZoneInfo(str(name).strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ZoneError(
            f"timezone {str(name)!r}: not a time zone; give the clinic's IANA time zone, e.g. "
            "America/New_York, America/Los_Angeles, Europe/London, Australia/Sydney, or UTC"
        ) from None


def split(text: str) -> tuple[str, int | None]:
    """(the time without its offset, the offset in minutes east of UTC) of a time written
    with an offset; (text, None) for any other text."""
    found = TIMED_OFFSET.match(text)
    if not found:
        return text, None
    body, offset = found.group(1), found.group(2).upper()
    if offset in ("Z", "UTC", "GMT"):
        return body, 0
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return body, -minutes if offset[0] == "-" else minutes


def on_clock(moment: dt.datetime, offset_minutes: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A time read without its offset (naive) as the clinic's clock showed it (naive)."""
    utc = moment - dt.timedelta(minutes=offset_minutes)
    return utc.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)


UTC_ADVICE = (
    "give the clinic's time zone with --timezone (e.g. --timezone America/New_York; "
    '--timezone UTC for a clinic that keeps UTC) or timezone = "..." in the map file'
)
