"""The clinic's clock: times with offsets moved onto it, and exports whose times are all in UTC
told apart from local times written with their offsets."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.data import zones
from simulation.data.extract.dates import in_utc, parse_dates


def test_offsets_are_read_in_minutes_east_of_utc():
    assert zones.split("2028-01-27T22:30:00Z") == ("2028-01-27T22:30:00", 0)
    assert zones.split("2028-01-27 17:30 -05:00") == ("2028-01-27 17:30", -300)
    assert zones.split("2028-01-27T09:00+0530") == ("2028-01-27T09:00", 330)
    assert zones.split("2028-01-27") == ("2028-01-27", None)


def test_times_with_offsets_land_on_the_clinics_clock_through_summer_time():
    text = pd.Series(["2028-01-27T22:30:00Z", "2028-07-27T21:30:00Z", "2028-01-27T17:30-05:00"])
    new_york = parse_dates(text, False, zones.clock("America/New_York"))
    assert [t.strftime("%m-%d %H:%M") for t in new_york] == [
        "01-27 17:30",
        "07-27 17:30",
        "01-27 17:30",
    ]
    los_angeles = parse_dates(
        pd.Series(["2028-01-28T03:00:00Z"]), False, zones.clock("America/Los_Angeles")
    )
    assert los_angeles[0] == pd.Timestamp(
        "2028-01-27 19:00"
    )  # the evening before, in UTC's next day
    assert parse_dates(text, False)[0] == pd.Timestamp("2028-01-27 22:30")  # no zone: as written
    dates = pd.Series(["2028-01-27", "27/01/2028 22:30 UTC"])
    assert parse_dates(dates, True, zones.clock("UTC")).tolist() == [
        pd.Timestamp("2028-01-27"),
        pd.Timestamp("2028-01-27 22:30"),
    ]


def test_an_export_all_in_utc_is_told_from_local_times_with_offsets():
    utc = pd.Series(["2028-01-27", "2028-01-27T22:30:00Z", "2028-07-27T21:30:00+00:00"])
    said = in_utc({"date": utc}, "attendance: ")
    assert said.startswith("attendance: times are written in UTC") and "row 3 of date" in said
    assert in_utc({"date": pd.Series(["2028-01-27T17:30-05:00", "2028-07-27T17:30-04:00"])}) is None
    assert in_utc({"date": pd.Series(["2028-01-27", "2028-01-28 09:00"])}) is None
    london = pd.Series(["2028-01-27T17:30:00+00:00", "2028-07-27T17:30:00+01:00"])
    assert in_utc({"date": london}) is None  # local times whose offset is 0 in winter


def test_a_name_that_is_no_time_zone_is_refused_by_name():
    with pytest.raises(zones.ZoneError, match="'Mars/Base': not a time zone"):
        zones.clock("Mars/Base")
    assert zones.clock(None) is None
