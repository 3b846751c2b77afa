"""Dates as a clinic's export writes them: parsed once per distinct text, and the order of day
and month in numeric dates (03/04/2029) found from the dates themselves.

A numeric date whose first number is over 12 (23/05/2029) can only be day first, and one whose
second number is over 12 (05/23/2029) only month first. Read one way, the other kind would
silently become another date wherever the day is 12 or less: about two dates in five, moved by
weeks or months, in every rate fitted from them. So each file's order is taken from its own
dates: a file showing only day-first dates is read day first (and the fit says so); a file
showing both is refused; a map file's ``dayfirst`` that its dates contradict is refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulation.data import zones
from simulation.data.extract.files import ExtractError

NUMERIC = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})(?!\d)"
"""A numeric date with the year last: its first two numbers are the day and month in some order."""

SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
"""A spreadsheet's day number (Excel's count of days from 1899-12-30; a fraction is the time of
day): what a date cell becomes when a workbook is saved as CSV with the cell's format lost."""
SERIAL_DAYS = (20_000, 80_000)  # 1954-10-03 to 2119-01-10: day numbers a clinic's dates can be
SPREADSHEET_EPOCH = pd.Timestamp("1899-12-30")
_BARE_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d*)?$")  # digits alone (20290103 aside): no date


def _serial_days(values: pd.Series) -> pd.Series:
    """The spreadsheet day numbers among ``values`` (text), as numbers; NaN elsewhere."""
    serial = values.str.fullmatch(SERIAL, na=False)
    days = pd.to_numeric(values.where(serial), errors="coerce")
    return days.where((days >= SERIAL_DAYS[0]) & (days < SERIAL_DAYS[1]))


def parse_dates(text: pd.Series, dayfirst: bool, zone: ZoneInfo | None = None) -> pd.Series:
    """Dates as the clinic wrote them: a time with a time-zone offset is moved onto the clinic's
    clock in ``zone`` (its time zone, when given), else its offset is dropped (a local time
    written with its offset: the date and time on the clinic's clock are what count); a text
    with no digit ('now', 'today') is no date. Each distinct text is parsed once (an attendance
    extract repeats a few thousand dates millions of times)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    values = pd.Series(uniques, dtype=object).astype(str).str.strip()
    offsets = None
    if zone is not None:
        offsets = pd.Series([zones.split(v)[1] for v in values], dtype=float)
    values = values.str.replace(zones.TIMED_OFFSET, r"\1", regex=True)
    blank = values.isin(["", "nan", "NaT", "None", "<NA>"])
    words = ~values.str.contains(r"\d", regex=True, na=False) & ~blank
    serial = _serial_days(values)
    # digits alone are no date (a year, a count, a footer's total), unless a spreadsheet's day
    # number or eight digits year first (20290103)
    bare = values.str.fullmatch(_BARE_NUMBER, na=False) & ~values.str.fullmatch(r"\d{8}")
    values = values.where(~(words | bare), "not a date")
    parsed = pd.to_datetime(values.where(~blank & ~bare), errors="coerce", format="ISO8601")
    retry = parsed.isna() & ~blank & ~bare
    if retry.any():
        parsed[retry] = pd.to_datetime(
            values[retry], errors="coerce", dayfirst=dayfirst, format="mixed"
        )
    if serial.notna().any():
        days = np.floor(serial[serial.notna()].to_numpy())
        parsed[serial.notna()] = SPREADSHEET_EPOCH + pd.to_timedelta(days, unit="D")
    # (one resolution whatever the form: ISO text parses to microseconds, other forms to seconds)
    parsed = parsed.astype("datetime64[us]")
    if offsets is not None and offsets.notna().any():
        moved = offsets.notna() & parsed.notna()
        utc = parsed[moved] - pd.to_timedelta(offsets[moved], unit="min")
        local = utc.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
        parsed[moved] = local.astype("datetime64[us]")
    return pd.Series(parsed.to_numpy()[codes], index=text.index)


@dataclass
class DayOrder:
    """How a file's numeric dates are read: ``dayfirst``, and a note for the fit (a reading the
    dates chose, or could not choose), or a problem that stops the reading."""

    dayfirst: bool
    note: str | None = None
    problem: str | None = None


def day_order(columns: dict[str, pd.Series], stated: bool | None, what: str = "") -> DayOrder:
    """The order of day and month in the numeric dates of one file's date ``columns`` (name ->
    text, indexed by row as read), given the map file's ``dayfirst`` (None: not stated).
    ``what``: the file, as a problem names it ("attendance: ", "staff: ", or "" for episodes).
    Rows are named as a spreadsheet numbers them (the header is row 1); no date is quoted."""
    first = {"day": None, "month": None, "either": None}  # the first row showing each
    for name, text in columns.items():
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        numbers = pd.Series(uniques, dtype=object).astype(str).str.extract(NUMERIC)
        if numbers.empty:
            continue
        a = pd.to_numeric(numbers[0], errors="coerce").to_numpy()
        b = pd.to_numeric(numbers[1], errors="coerce").to_numpy()
        kinds = {
            "day": (a > 12) & (a <= 31) & (b <= 12),
            "month": (b > 12) & (b <= 31) & (a <= 12),
            "either": (a <= 12) & (b <= 12) & (a != b),
        }
        for kind, found in kinds.items():
            if first[kind] is None and found.any():
                row = int(np.flatnonzero(np.isin(codes, np.flatnonzero(found)))[0])
                first[kind] = f"row {text.index[row] + 2} of {name}"
    day, month, either = first["day"], first["month"], first["either"]
    if day and month:
        return DayOrder(
            False,
            problem=f"{what}dates are written day first in some rows and month first in others "
            f"({day} has a first number over 12, {month} a second number over 12): have the "
            "export write them one way (or as YYYY-MM-DD)",
        )
    if stated is False and day:
        return DayOrder(
            False,
            problem=f"{what}dates are read month first (dayfirst = false in the map file), but "
            f"{day} has a first number over 12: set dayfirst = true",
        )
    if stated is True and month:
        return DayOrder(
            True,
            problem=f"{what}dates are read day first (dayfirst = true in the map file), but "
            f"{month} has a second number over 12: set dayfirst = false",
        )
    if stated is not None:
        return DayOrder(stated)
    if day:
        return DayOrder(
            True,
            note=f"{what}dates read day first: {day} has a first number over 12, so they "
            "cannot be month first (a map file's dayfirst = true would say so)",
        )
    if either and not month:
        return DayOrder(
            False,
            note=f"{what}dates such as {either} could be day first or month first and none "
            "tells which: read month first (set dayfirst = true in a map file if they are "
            "day first)",
        )
    return DayOrder(False)


def read_day_order(
    columns: dict[str, pd.Series],
    stated: bool | None,
    what: str,
    source: str,
    notes: list[str] | None = None,
) -> bool:
    """Whether one file's numeric dates are day first (``day_order``): its problem raised as
    the file's ExtractError, its note kept in ``notes`` (if the reader keeps any)."""
    order = day_order(columns, stated, what)
    if order.problem:
        raise ExtractError([order.problem], source)
    if notes is not None:
        notes += [order.note] if order.note else []
        notes += serial_note(columns, what)
    return order.dayfirst


def serial_note(columns: dict[str, pd.Series], what: str = "") -> list[str]:
    """A note that some of a file's dates are spreadsheet day numbers, read as the days they
    count (the first row showing one named; no date quoted); none if there are none."""
    count, first = 0, None
    for name, text in columns.items():
        found = _serial_days(pd.Series(text, dtype=object).astype(str).str.strip()).notna()
        count += int(found.sum())
        if first is None and found.any():
            first = f"row {text.index[np.flatnonzero(found.to_numpy())[0]] + 2} of {name}"
    if not count:
        return []
    return [
        f"{what}{count} date(s) written as a spreadsheet's day numbers (as in {first}: a "
        "workbook saved as CSV with its date format lost) read as the days they count from "
        "1899-12-30, as Excel and LibreOffice count them"
    ]


def in_utc(columns: dict[str, pd.Series], what: str = "") -> str | None:
    """When every time written with an offset in one file's date ``columns`` is in UTC (``Z``,
    ``+00:00``), a sentence saying so (the first row showing one named; no date quoted): the
    export then says nothing of the clinic's clock. None otherwise (no offsets, or local
    times with their offsets)."""
    found = []
    for name, text in columns.items():
        uniques = pd.unique(text)
        offsets = [zones.split(str(v).strip())[1] for v in uniques]
        if any(o not in (None, 0) for o in offsets):
            return None
        utc = [v for v, o in zip(uniques, offsets, strict=True) if o == 0]
        if utc:
            first = int(np.flatnonzero(text.isin(utc).to_numpy())[0])
            found.append(f"row {text.index[first] + 2} of {name}")
    if not found:
        return None
    return (
        f"{what}times are written in UTC (Z or +00:00, as in {found[0]}), so they do not "
        "show the clinic's own clock"
    )
