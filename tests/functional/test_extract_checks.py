"""A clinic's own export never silently bends the model: dates outside the extract's span,
repeated rows, ids that match nothing and map files that do not mean what they say are found,
named by row and column, refused (or dropped on request), and never turn into a traceback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulation import config as scenarios
from simulation.cli import main
from simulation.data.extract import (
    ExtractError,
    Mapping,
    as_seen_on,
    read_episodes,
    read_staff,
)
from simulation.data.synth import synthesize_records
from simulation.fit.clinic import fit_clinic
from tests.conftest import baseline


@pytest.fixture(scope="module")
def records():
    """Two years of the test clinic's records and its attendance (read-only: copy to damage)."""
    table, _, sessions = synthesize_records(baseline(), 2.0, 3)
    return table, sessions


def _write(tmp_path, table, name="x.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def _rate(episodes) -> float:
    return fit_clinic(episodes, baseline()).data["referrals"]["per_week"]


def test_one_future_discharge_date_is_refused_and_dropping_it_keeps_the_rates(tmp_path, records):
    table = records[0].copy()
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    row = table.index[table["iop_end_date"].astype(str).str.len() > 0][3]
    table.loc[row, "iop_end_date"] = "2093-05-01"
    path = _write(tmp_path, table)
    with pytest.raises(ExtractError) as caught:
        read_episodes(path)
    message = str(caught.value)
    assert "iop_end_date: outside the span" in message and f"row {row + 2}: 2093-05-01" in message
    dropped = read_episodes(path, drop_bad_rows=True)
    assert dropped.as_of == clean.as_of  # the extract's end is not moved by decades
    assert _rate(dropped) == pytest.approx(_rate(clean), rel=0.02)


@pytest.mark.parametrize("junk", ["now", "today", "0001-01-01", "1900-01-01", "2209-03-04"])
def test_junk_referral_dates_never_dilute_the_rate(tmp_path, records, junk):
    table = records[0].copy()
    table.loc[[2, 40, 41], "referral_date"] = junk
    with pytest.raises(ExtractError, match="referral_date"):
        read_episodes(_write(tmp_path, table))


def test_a_small_cluster_of_far_future_referrals_is_found(tmp_path, records):
    table = records[0].copy()
    rows = table.index[-8:]  # ~2% of rows, all in one far year
    table.loc[rows, "referral_date"] = "2091-06-0" + pd.Series(range(1, 9), index=rows).astype(str)
    with pytest.raises(ExtractError, match="referral_date: outside the span"):
        read_episodes(_write(tmp_path, table))


def test_dates_with_time_zone_offsets_in_some_rows_are_read_as_the_clinics_dates(tmp_path, records):
    table = records[0].copy()
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    rows = table.index[:5]
    table.loc[rows, "referral_date"] = (
        table.loc[rows, "referral_date"].astype(str) + "T09:30:00+02:00"
    )
    table.loc[rows[:2], "referral_date"] = table.loc[rows[:2], "referral_date"].str.replace(
        "+02:00", "Z"
    )
    read = read_episodes(_write(tmp_path, table))
    assert list(read.table["referral_date"].dt.normalize()) == list(clean.table["referral_date"])


@pytest.mark.parametrize(
    ("as_of", "said"),
    [
        ("2029-06-04T00:00+02:00", "has a time zone"),
        ("1999-01-01", "before the first referral"),
        ("2045-01-01", "days after the extract's last date"),
        ("soon", "not a date"),
    ],
)
def test_an_impossible_as_of_is_a_clear_error(tmp_path, records, as_of, said):
    path = _write(tmp_path, records[0])
    result = CliRunner().invoke(
        main, ["fit", str(path), "--as-of", as_of, "--out", str(tmp_path / "c.toml")]
    )
    assert result.exit_code == 2 and said in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "c.toml").exists()


def test_repeated_attendance_rows_are_refused_and_dropping_them_gives_the_clean_fit(
    tmp_path, records
):
    table, sessions = records
    path = _write(tmp_path, table)
    clean_path = _write(tmp_path, sessions, "attendance.csv")
    twice = _write(tmp_path, pd.concat([sessions, sessions]), "twice.csv")
    with pytest.raises(ExtractError, match="repeat an earlier row"):
        read_episodes(path, attendance=twice)
    dropped = read_episodes(path, attendance=twice, drop_bad_rows=True)
    clean = read_episodes(path, attendance=clean_path)
    pd.testing.assert_frame_equal(dropped.attendance, clean.attendance)
    assert any("dropped" in n and "repeated" in n for n in dropped.notes)


def test_attendance_dated_outside_its_stay_is_refused_and_dropping_it_keeps_the_fit(
    tmp_path, records
):
    """An attendance extract a year off (another year's file, or a wrong year typed): every
    session after the stay read as missed with no dropout after it, and the fitted dropout
    after a missed session fell to 0 without a word. Now the rows outside their episode's stay
    are refused by row; dropped on request, the few that were are left out and said."""
    table, sessions = records
    path = _write(tmp_path, table)
    clean = read_episodes(path, attendance=_write(tmp_path, sessions, "attendance.csv"))
    shifted = sessions.assign(
        date=(pd.to_datetime(sessions["date"]) + pd.Timedelta(days=364)).dt.strftime("%Y-%m-%d")
    )
    with pytest.raises(ExtractError, match=r"group session row\(s\): date outside") as info:
        read_episodes(path, attendance=_write(tmp_path, shifted, "year.csv"))
    assert "before its iop_start_date, after its iop_end_date" in str(info.value)
    assert "--drop-bad-rows" in str(info.value)
    few = sessions.copy()
    rows = few.index[::100]
    early = pd.to_datetime(few.loc[rows, "date"]) - pd.Timedelta(days=1000)
    few.loc[rows, "date"] = early.dt.strftime("%Y-%m-%d")
    read = read_episodes(path, attendance=_write(tmp_path, few, "few.csv"), drop_bad_rows=True)
    assert len(read.attendance) == len(clean.attendance) - len(rows)
    assert any(f"dropped {len(rows)} row(s) dated outside" in n for n in read.notes)
    # an appointment of another kind after the stay (a step-down session) is no group's
    after = few.loc[rows].assign(kind="outpatient", date=shifted.loc[rows, "date"])
    both = pd.concat([sessions, after])
    read = read_episodes(path, attendance=_write(tmp_path, both, "kinds.csv"))
    assert (read.attendance["kind"] == "outpatient").sum() == len(rows)


def test_attendance_that_names_no_episode_is_said(tmp_path, records):
    table, sessions = records
    path = _write(tmp_path, table)
    other = sessions.assign(episode_id="X" + sessions["episode_id"].astype(str))
    with pytest.raises(ExtractError, match="none of the .* attendance rows names an episode"):
        read_episodes(path, attendance=_write(tmp_path, other, "other.csv"))
    some = sessions.copy()
    some.loc[some.index[:10], "episode_id"] = [f"nobody {i}" for i in range(10)]
    read = read_episodes(path, attendance=_write(tmp_path, some, "some.csv"))
    assert any("10 row(s) name no episode" in n for n in read.notes)


def test_a_repeated_or_overlapping_staff_row_is_refused(tmp_path):
    rows = [
        "person,pool,from_date,to_date,fte",
        "A,therapists,2028-01-01,,1.0",
        "B,therapists,2028-01-01,2028-06-30,0.5",
        "B,therapists,2028-07-01,,0.5",
    ]
    path = tmp_path / "staff.csv"
    path.write_text("\n".join([*rows, "A,therapists,2028-01-01,,1.0"]) + "\n")
    with pytest.raises(ExtractError, match="FTE and cost would count twice"):
        read_staff(path)
    notes: list[str] = []
    assert len(read_staff(path, drop_bad_rows=True, notes=notes)) == 3
    assert notes == [
        "staff: dropped 1 row(s) that repeat an earlier row's person, pool and dates (rows 5)"
    ]
    path.write_text("\n".join([*rows, "B,therapists,2028-03-01,,0.5"]) + "\n")
    with pytest.raises(ExtractError, match="still open"):
        read_staff(path)
    path.write_text("\n".join(rows) + "\n")
    assert len(read_staff(path)) == 3


DATES = [
    "referral_date",
    "assessment_date",
    "waitlist_date",
    "waitlist_exit_date",
    "iop_start_date",
    "iop_end_date",
    "step_down_start_date",
    "step_down_end_date",
]


def _written(table: pd.DataFrame, columns, form: str) -> pd.DataFrame:
    """``table`` with its date ``columns`` (YYYY-MM-DD, a time allowed) written in ``form``."""
    out = table.copy()
    for column in columns:
        dates = pd.to_datetime(out[column].replace("", None))
        out[column] = dates.dt.strftime(form).fillna("")
    return out


def test_a_day_first_attendance_export_fits_as_the_same_sessions(tmp_path, records):
    """Read month first, 23/05/2029 still comes out right (no month 23) but 05/06/2029 becomes
    6 May: two sessions in five moved to another day, some out of their stay, and the fitted
    attendance and dropout bent without a word. Its own dates show it is day first."""
    table, sessions = records
    path = _write(tmp_path, table)
    clean = read_episodes(path, attendance=_write(tmp_path, sessions, "attendance.csv"))
    day_first = _write(tmp_path, _written(sessions, ["date"], "%d/%m/%Y"), "dmy.csv")
    read = read_episodes(path, attendance=day_first)
    pd.testing.assert_frame_equal(read.attendance, clean.attendance)
    said = [n for n in read.notes if "day first" in n]
    assert len(said) == 1 and said[0].startswith("attendance: dates read day first: row ")


def test_a_day_first_episode_extract_reads_as_the_same_records(tmp_path, records):
    table = records[0]
    clean = read_episodes(_write(tmp_path, table, "iso.csv"))
    read = read_episodes(_write(tmp_path, _written(table, DATES, "%d.%m.%Y"), "dmy.csv"))
    pd.testing.assert_frame_equal(read.table, clean.table)
    assert any(n.startswith("dates read day first") for n in read.notes)
    month_first = read_episodes(_write(tmp_path, _written(table, DATES, "%m/%d/%Y"), "mdy.csv"))
    pd.testing.assert_frame_equal(month_first.table, clean.table)
    assert not any("day first" in n for n in month_first.notes)  # (it shows month first)


def test_dates_written_both_ways_are_refused_by_row_without_quoting_them(tmp_path, records):
    table, sessions = records
    dmy = _written(sessions, ["date"], "%d/%m/%Y")
    late = dmy.index[pd.to_datetime(sessions["date"]).dt.day > 12][0]
    dmy.loc[late, "date"] = pd.to_datetime(sessions.loc[late, "date"]).strftime("%m/%d/%Y")
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "fit",
            str(_write(tmp_path, table)),
            "--attendance",
            str(_write(tmp_path, dmy, "both.csv")),
            "--out",
            str(tmp_path / "f.toml"),
        ],
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "day first in some rows and month first in others" in result.output
    assert f"row {late + 2} of date a second number over 12" in result.output
    assert dmy.loc[late, "date"] not in result.output  # rows named, no date shown
    assert not (tmp_path / "f.toml").exists()


@pytest.mark.parametrize(
    ("stated", "form", "said"),
    [
        ("false", "%d/%m/%Y", "set dayfirst = true"),
        ("true", "%m/%d/%Y", "set dayfirst = false"),
    ],
)
def test_a_map_files_dayfirst_that_the_dates_contradict_is_refused(
    tmp_path, records, stated, form, said
):
    table = _written(records[0], DATES, form)
    path = tmp_path / "map.toml"
    path.write_text(f"dayfirst = {stated}\n")
    with pytest.raises(ExtractError, match=said):
        read_episodes(_write(tmp_path, table), Mapping.parse([], path))


def test_numeric_dates_that_cannot_tell_their_order_are_read_month_first_and_said(tmp_path):
    rows = [
        "episode_id,referral_date",
        *[f"E{i},0{1 + i % 9}/0{1 + (i * 5) % 9}/2029" for i in range(40)],
    ]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(rows) + "\n")
    read = read_episodes(path)
    assert read.table["referral_date"].min() == pd.Timestamp("2029-01-01")
    assert any("none tells which: read month first" in n for n in read.notes)


def test_a_day_first_staff_extract_reads_its_periods(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(
        "person,pool,from_date,to_date,fte\nA,therapists,01/02/2028,,1.0\n"
        "B,therapists,01/02/2028,30/06/2028,0.5\n"
    )
    notes: list[str] = []
    people = read_staff(path, notes=notes)
    assert (people["from_date"] == pd.Timestamp("2028-02-01")).all()
    assert people["to_date"].max() == pd.Timestamp("2028-06-30")
    assert any("read day first" in n for n in notes)  # (said, as for episodes and attendance)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('dayfirst = "false"', "dayfirst = 'false': must be true or false"),
        ("[columns]\nreferral_date = 3", "columns.referral_date = 3"),
        ('[values.discharge_reason]\nAMA = "drop"', "not one of completed"),
    ],
)
def test_a_map_file_means_what_it_says(tmp_path, text, said):
    path = tmp_path / "map.toml"
    path.write_text(text + "\n")
    with pytest.raises(ExtractError, match=said):
        Mapping.parse([], path)


def test_value_maps_apply_to_tracks_and_sources_and_too_many_categories_are_said(tmp_path, records):
    table = records[0].copy()
    table["track"] = table["track"].replace({"morning": "AM Group", "evening": "PM Group"})
    table["source"] = table["source"].replace({"community": "Self"})
    path = _write(tmp_path, table)
    map_path = tmp_path / "map.toml"
    map_path.write_text(
        '[values.track]\n"AM Group" = "morning"\n"PM Group" = "evening"\n'
        '[values.source]\nSelf = "community"\n'
    )
    read = read_episodes(path, Mapping.parse([], map_path))
    assert set(read.table["track"]) - {""} <= {"morning", "evening"}
    assert "Self" not in set(read.table["source"])
    names = table.assign(source=[f"person {i}" for i in range(len(table))])
    noisy = read_episodes(_write(tmp_path, names, "names.csv"))
    assert any(n.startswith("source:") and "different values" in n for n in noisy.notes)
    assert not any("person 1" in n for n in noisy.notes)  # counted, never shown


def test_a_state_naming_a_track_the_scenario_lacks_is_one_line_however_many_clients():
    import datetime

    from simulation.config import ScenarioError, to_data, validate

    data = to_data(baseline())
    day = datetime.date(2029, 9, 3)
    clients = [{"stage": "iop", "since": day, "track": "AM Group"} for _ in range(7)]
    data["state"] = {"as_of": day, "clients": clients}
    with pytest.raises(ScenarioError) as caught:
        validate(data)
    said = str(caught.value)
    assert said.count("'AM Group' is not a track") == 1 and "7 client(s)" in said
    assert "[values.track]" in said


def test_a_clinics_own_track_name_is_read_as_the_template_track_no_record_names(tmp_path, records):
    """'AM Group' for the morning track: the fit's state named a track the template lacks
    and the fit stopped; now it is the template's silent 'morning', said in the fit's notes."""
    table = records[0].copy()
    table["track"] = table["track"].replace({"morning": "AM Group"})
    path = _write(tmp_path, table)
    out = tmp_path / "c.toml"
    command = ["fit", str(path), "--as-of", "2029-09-03", "--template", "tests/clinic.toml"]
    result = CliRunner().invoke(main, [*command, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "'AM Group' as 'morning'" in result.output
    from simulation.config import load

    fitted = load(out)
    assert {t.name for t in fitted.tracks} == {"morning", "evening"}
    assert {c.track for c in fitted.state.clients} - {None} <= {"morning", "evening"}


def test_a_fit_writes_its_scenario_and_report_as_one_unit(tmp_path, records):
    """Each fitted scenario has its own report; an interrupted fit (a report without its
    scenario) does not block the rerun; a finished one is never overwritten without --force."""
    path = _write(tmp_path, records[0])
    runner = CliRunner()
    template = ["--template", "tests/clinic.toml"]
    one = runner.invoke(main, ["fit", str(path), *template, "--out", str(tmp_path / "a.toml")])
    two = runner.invoke(main, ["fit", str(path), *template, "--out", str(tmp_path / "b.toml")])
    assert one.exit_code == two.exit_code == 0, one.output + two.output
    assert (tmp_path / "a.fit-report.html").exists() and (tmp_path / "b.fit-report.html").exists()
    (tmp_path / "c.fit-report.html").write_text("left by an interrupted fit")
    rerun = runner.invoke(main, ["fit", str(path), *template, "--out", str(tmp_path / "c.toml")])
    assert rerun.exit_code == 0 and "<html" in (tmp_path / "c.fit-report.html").read_text()
    again = runner.invoke(main, ["fit", str(path), *template, "--out", str(tmp_path / "a.toml")])
    assert again.exit_code == 2 and "already exists" in again.output
    assert not list(tmp_path.glob(".*.partial"))


def test_a_backtest_too_large_is_refused_up_front_with_its_estimate(tmp_path, records, monkeypatch):
    from simulation import workload

    monkeypatch.setattr(workload, "MAX_HOURS", 1e-7)  # (any back-test is "too long" here)
    path = _write(tmp_path, records[0])
    args = [
        "backtest",
        str(path),
        "--template",
        "tests/clinic.toml",
        "--train-until",
        "2029-06-04",
        "--weeks",
        "4",
        "-r",
        "2",
        "--workers",
        "1",
        "--no-parameter-uncertainty",
    ]
    refused = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "bt")])
    assert refused.exit_code == 2 and "--allow-long" in refused.output, refused.output
    assert not (tmp_path / "bt").exists()
    allowed = CliRunner().invoke(main, [*args, "--allow-long", "--out", str(tmp_path / "ok")])
    assert allowed.exit_code == 0, allowed.output
    late = CliRunner().invoke(
        main, [*args[:4], "--train-until", "2029-12-30", *args[6:], "--out", str(tmp_path / "x")]
    )
    assert late.exit_code == 2 and "nothing to compare" in late.output, late.output


@pytest.mark.parametrize(
    ("encoding", "separator"), [("cp1252", ";"), ("utf-16", "\t"), ("utf-8-sig", "|")]
)
def test_other_encodings_and_separators_read_as_the_same_extract(
    tmp_path, records, encoding, separator
):
    table = records[0].copy()
    table.loc[table.index[:20], "source"] = "Référé par médecin"  # (not ASCII)
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    path = tmp_path / "other.csv"
    table.to_csv(path, sep=separator, index=False, encoding=encoding)
    pd.testing.assert_frame_equal(read_episodes(path).table, clean.table)


def test_an_excel_extract_with_a_cover_sheet_is_read_from_the_sheet_with_the_columns(
    tmp_path, records
):
    table = records[0].astype(str).replace("nan", "")
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"About": ["Exported by the EHR"]}).to_excel(
            writer, sheet_name="Cover", index=False
        )
        table.to_excel(writer, sheet_name="Episodes", index=False)
    pd.testing.assert_frame_equal(read_episodes(path).table, clean.table)
    with pytest.raises(ExtractError, match="no sheet 'Data' \\(its sheets: Cover, Episodes\\)"):
        read_episodes(path, Mapping(sheet="Data"))


@pytest.mark.parametrize("given", ["folder", "/dev/null"])
def test_a_folder_or_a_device_given_as_the_extract_is_named(tmp_path, given):
    path = tmp_path if given == "folder" else given
    result = CliRunner().invoke(main, ["fit", str(path), "--out", str(tmp_path / "c.toml")])
    said = "is a folder" if given == "folder" else "device or pipe"
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output


def test_a_kept_forecast_is_judged_against_the_records_that_came_in_since(tmp_path, records):
    """Fit on the records up to a date, keep the forecast, then judge it with the later extract:
    coverage per series over the weeks since, and the weeks it missed; a run folder, or records
    that end before there is anything to judge, are refused."""
    path = _write(tmp_path, records[0])
    runner = CliRunner()
    scenario, forecast = tmp_path / "c.toml", tmp_path / "f"
    fit = runner.invoke(
        main,
        [
            "fit",
            str(path),
            "--template",
            "tests/clinic.toml",
            "--as-of",
            "2029-06-04",
            "--out",
            str(scenario),
        ],
    )
    assert fit.exit_code == 0, fit.output
    kept = runner.invoke(
        main,
        [
            "forecast",
            str(scenario),
            "--weeks",
            "8",
            "-r",
            "6",
            "--workers",
            "1",
            "-q",
            "--out",
            str(forecast),
        ],
    )
    assert kept.exit_code == 0, kept.output
    judged = runner.invoke(main, ["judge", str(forecast), str(path), "--out", str(tmp_path / "j")])
    assert judged.exit_code == 0, judged.output
    assert "Forecast of 2029-06-04 (8 weeks) judged against 7 weeks" in judged.output
    table = pd.read_csv(tmp_path / "j" / "judged.csv")
    assert set(table["series"]) == {"referrals", "iop_census", "iop_waitlist", "admissions"}
    assert table["coverage_90"].between(0, 1).all() and (table["weeks"] == 7).all()
    early = records[0][pd.to_datetime(records[0]["referral_date"]) < "2029-06-08"].copy()
    for column in [c for c in early if c.endswith("_date")]:  # the records as they were then
        later = pd.to_datetime(early[column], errors="coerce") >= "2029-06-08"
        early.loc[later, column] = ""
    early.loc[early["iop_end_date"] == "", "discharge_reason"] = ""
    cut = _write(tmp_path, early, "early.csv")
    too_soon = runner.invoke(main, ["judge", str(forecast), str(cut), "--out", str(tmp_path / "x")])
    assert too_soon.exit_code == 2 and "nothing to judge it on yet" in too_soon.output
    not_one = runner.invoke(main, ["judge", str(tmp_path), str(path), "--out", str(tmp_path / "y")])
    assert not_one.exit_code == 2 and "not a folder written by iopsim forecast" in not_one.output


@pytest.mark.parametrize("days", [0, 1])
def test_records_where_every_stay_lasts_the_same_day_count_still_fit(tmp_path, records, days):
    """Every stay the same length drives a fitted spread towards zero: the fit ended in a
    math domain error; it gives a stay of that length."""
    table = records[0].copy()
    started = table["iop_start_date"].astype(str) != ""
    start = pd.to_datetime(table.loc[started, "iop_start_date"])
    table.loc[started, "iop_end_date"] = (start + pd.Timedelta(days=days)).dt.strftime("%Y-%m-%d")
    table.loc[started, "discharge_reason"] = "completed"
    table.loc[started, ["step_down_start_date", "step_down_end_date"]] = ""
    fit = fit_clinic(read_episodes(_write(tmp_path, table)), baseline())
    stay = fit.data["iop"]["length_of_stay_days"]["completed"]
    assert stay["mean"] == pytest.approx(max(days, 0.5), abs=0.05)  # (a same-day stay: half a day)


def test_an_attendance_export_in_the_clinics_own_words_reads_as_yes_and_no(tmp_path, records):
    table, sessions = records
    path = _write(tmp_path, table)
    clean = read_episodes(path, attendance=_write(tmp_path, sessions, "attendance.csv"))
    words = sessions.assign(attended=sessions["attended"].map({"yes": "Attended", "no": "DNA"}))
    read = read_episodes(path, attendance=_write(tmp_path, words, "dna.csv"))
    pd.testing.assert_frame_equal(read.attendance, clean.attendance)
    own = sessions.assign(
        attended=sessions["attended"].map({"yes": "Came late", "no": "Did not come"})
    )
    own_path = _write(tmp_path, own, "own.csv")
    with pytest.raises(ExtractError) as caught:
        read_episodes(path, attendance=own_path)
    assert "'Came late'" in str(caught.value) and "[values.attended]" in str(caught.value)
    mapping = tmp_path / "map.toml"
    mapping.write_text('[values.attended]\n"came late" = "yes"\n"did not come" = "no"\n')
    mapped = read_episodes(path, Mapping.parse([], mapping), attendance=own_path)
    pd.testing.assert_frame_equal(mapped.attendance, clean.attendance)
    mapping.write_text('[values.attended]\n"came late" = "late"\n')
    with pytest.raises(ExtractError, match="values.attended.came late = 'late': not one of yes"):
        Mapping.parse([], mapping)


def test_a_staff_export_with_its_own_headings_and_team_names_is_mapped(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(
        "Staff member,Team,Start,End,FTE\nA,Counselling team,2028-01-01,,1.0\n"
        "B,Counselling team,2028-01-01,2028-06-30,0.5\n"
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nperson = "Staff member"\npool = "Team"\nfrom_date = "Start"\n'
        'to_date = "End"\nfte = "FTE"\n[values.pool]\n"counselling team" = "therapists"\n'
    )
    people = read_staff(path, Mapping.parse([], mapping))
    assert people["pool"].tolist() == ["therapists", "therapists"]
    assert people["fte"].tolist() == [1.0, 0.5]
    with pytest.raises(ExtractError, match="'persn' is not a column of the extracts"):
        Mapping.parse(["persn=Staff member"])


def test_an_attendance_export_that_names_no_group_session_is_refused_until_mapped(
    tmp_path, records
):
    """The fit reads group sessions: an export calling them 'IOP session' gave it none, and it
    went on with the template's attendance saying only that few sessions were missed."""
    table, sessions = records
    path = _write(tmp_path, table)
    clean = read_episodes(path, attendance=_write(tmp_path, sessions, "attendance.csv"))
    own = _write(tmp_path, sessions.assign(kind="IOP session"), "own.csv")
    with pytest.raises(ExtractError, match="no row is a group session .*'IOP session'"):
        read_episodes(path, attendance=own)
    mapping = tmp_path / "map.toml"
    mapping.write_text('[values.kind]\n"iop session" = "group"\n')
    mapped = read_episodes(path, Mapping.parse([], mapping), attendance=own)
    pd.testing.assert_frame_equal(mapped.attendance, clean.attendance)


@pytest.mark.parametrize("blank", ["NULL", "N/A", "-", "#N/A", "None"])
def test_what_an_export_writes_for_an_empty_cell_is_blank(tmp_path, records, blank):
    """SQL's NULL, Excel's #N/A or a dash in every empty cell: the extract reads as with
    blanks, and says how many cells it read so (they were dates that are not dates and codes
    that are not codes: the whole extract refused)."""
    table = _as_text(records[0])
    plain = read_episodes(_write(tmp_path, table))
    marked = table.copy()
    for column in marked.columns.drop("episode_id"):
        marked[column] = marked[column].replace("", blank)
    episodes = read_episodes(_write(tmp_path, marked, "marked.csv"))
    pd.testing.assert_frame_equal(episodes.table, plain.table)
    assert any("read as blank" in note for note in episodes.notes)


def test_a_blank_marker_the_map_file_maps_is_its_value(tmp_path, records):
    table = _as_text(records[0])
    ended = table.index[table["discharge_reason"] == "other"][:3]
    table.loc[ended, "discharge_reason"] = "N/A"
    map_path = tmp_path / "map.toml"
    map_path.write_text('[values.discharge_reason]\n"N/A" = "other"\n')
    episodes = read_episodes(_write(tmp_path, table), Mapping.parse([], map_path))
    assert (episodes.table["discharge_reason"] == "other").sum() >= 3


def test_headings_spelt_otherwise_are_the_columns(tmp_path, records):
    """'Referral Date', 'IOP-START-DATE': the columns, without a map. Only the two required
    headings were missed (refused, asking for --map), and mapping those left every other
    column silently absent: a fit whose state had all 937 referrals waiting for intake."""
    table = records[0]
    plain = read_episodes(_write(tmp_path, table))
    spelt = table.rename(columns=lambda c: c.replace("_", " ").title()).rename(
        columns={"Iop Start Date": "IOP-START-DATE"}
    )
    episodes = read_episodes(_write(tmp_path, spelt, "spelt.csv"))
    pd.testing.assert_frame_equal(episodes.table, plain.table)
    assert not any("not in the extract" in note for note in episodes.notes)


def test_pathway_columns_an_extract_lacks_are_said(tmp_path, records):
    table = records[0].drop(columns=["source", "age_group", "waitlist_date", "track"])
    episodes = read_episodes(_write(tmp_path, table))
    said = [note for note in episodes.notes if "not in the extract" in note]
    assert len(said) == 1 and "source, age_group, waitlist_date, track" in said[0]
    assert "--map" in said[0]


def test_a_staff_extract_without_fte_or_end_dates_says_what_it_took(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("person,pool,from_date\nA,therapists,2028-01-01\n")
    notes: list[str] = []
    read_staff(path, notes=notes)
    assert notes == [
        "staff: not in the extract: to_date (no one has left), fte (everyone full time)"
    ]


def _titled(path, table) -> None:
    """Write ``table`` as an export does with a title block (three rows) above its header."""
    if path.suffix == ".csv":
        path.write_text("Clinic episode export\nRun 2029-12-31\n\n" + table.to_csv(index=False))
        return
    title = pd.DataFrame([["Clinic episode export"], ["Run 2029-12-31"], [""]])
    with pd.ExcelWriter(path) as workbook:
        title.to_excel(workbook, sheet_name="Episodes", index=False, header=False)
        table.to_excel(workbook, sheet_name="Episodes", index=False, startrow=3)


def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    """The records as an export writes them: text, empty cells blank."""
    return table.astype(str).replace({"nan": "", "NaT": "", "None": ""})


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_title_block_above_the_header_is_passed_over(tmp_path, records, suffix):
    """An export with its title and date above the header row reads as without them, and a
    bad row is named by its own row in the file. It was refused: 'no sheet has the headings
    in its first row', with a hint (--sheet, --map) that could not help."""
    table = _as_text(records[0])
    plain = read_episodes(_write(tmp_path, table))
    path = tmp_path / f"titled.{suffix}"
    _titled(path, table)
    pd.testing.assert_frame_equal(read_episodes(path).table, plain.table)
    table.loc[4, "referral_date"] = "not a date"  # the header is row 4: this is row 9
    _titled(path, table)
    with pytest.raises(ExtractError, match=r"referral_date: not a date \(rows 9\)"):
        read_episodes(path)


def test_a_workbook_split_by_sheet_says_which_sheets_it_did_not_read(tmp_path, records):
    table = _as_text(records[0])
    early = table["referral_date"] < table["referral_date"].sort_values().iloc[len(table) // 2]
    path = tmp_path / "split.xlsx"
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame([["a cover page"]]).to_excel(workbook, sheet_name="About", index=False)
        table[early].to_excel(workbook, sheet_name="First year", index=False)
        table[~early].to_excel(workbook, sheet_name="Second year", index=False)
    episodes = read_episodes(path)
    assert len(episodes.table) == int(early.sum())
    said = [note for note in episodes.notes if "were not read" in note]
    assert len(said) == 1 and "'First year' only" in said[0] and "Second year" in said[0]
    chosen = read_episodes(path, Mapping(sheet="Second year"))
    assert len(chosen.table) == int((~early).sum())
    assert not any("were not read" in note for note in chosen.notes)


def test_an_extract_of_referrals_up_to_a_date_measures_their_rate_up_to_it(tmp_path, records):
    """The referrals of the first year, followed on to the end (a cohort export): their rate
    was diluted over every week to the last date (6.1 a week against 9.4) without a word."""
    table = records[0]
    whole = fit_clinic(read_episodes(_write(tmp_path, table)), baseline())
    cut = table["referral_date"].sort_values().iloc[len(table) // 2]
    cohort = read_episodes(_write(tmp_path, table[table["referral_date"] < cut], "c.csv"))
    fitted = fit_clinic(cohort, baseline())
    rate = {e.key: e for e in fitted.evidence}["referrals.per_week"]
    true = whole.data["referrals"]["per_week"]
    assert rate.low <= true <= rate.high, (rate, true)
    assert any(note.startswith("No referral after") for note in fitted.notes)
    assert not any(note.startswith("No referral after") for note in whole.notes)


def test_the_first_weeks_of_referrals_followed_on_are_read_and_their_rate_not_diluted(
    tmp_path, records
):
    """A short extract (the referrals of a new clinic's first weeks, followed on): the bulk of
    its dates is a few weeks wide, so a stay ending months later was refused as a typo; and
    its referral rate was measured over every week to the last date."""
    table = records[0]
    first = table["referral_date"].sort_values()
    short = table[table["referral_date"] <= first.iloc[20]]
    episodes = read_episodes(_write(tmp_path, short))
    assert len(episodes.table) == len(short)
    fitted = fit_clinic(episodes, baseline())
    assert any(note.startswith("No referral after") for note in fitted.notes)
    rate = fitted.data["referrals"]["per_week"]
    assert rate >= 0.5 * _rate(read_episodes(_write(tmp_path, table, "all.csv")))


def test_dates_saved_as_a_spreadsheets_day_numbers_are_read_as_those_days(tmp_path, records):
    """A workbook saved as CSV with its date format lost writes 47119 for 2029-01-02: every
    date was refused as 'not a date'."""
    table = records[0].copy()
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    dated = [c for c in table if c.endswith("_date")]
    for column in dated:
        days = (pd.to_datetime(table[column]) - pd.Timestamp("1899-12-30")).dt.days
        table[column] = days.astype("Int64").astype(str).replace("<NA>", "")
    assert table["referral_date"].str.fullmatch(r"\d{5}").all()
    read = read_episodes(_write(tmp_path, table))
    pd.testing.assert_frame_equal(read.table[dated], clean.table[dated])
    said = [note for note in read.notes if "spreadsheet's day numbers" in note]
    assert len(said) == 1 and "row 2 of referral_date" in said[0]
    assert not any("day numbers" in note for note in clean.notes)


@pytest.mark.parametrize("number", ["2029", "1426", "7", "123456"])
def test_a_bare_number_in_a_date_column_is_not_a_date(tmp_path, records, number):
    """A year alone, a footer's total or a count is no date (2029 was read as 2029-01-01,
    1426 as the year 1426)."""
    table = records[0].copy()
    table.loc[5, "referral_date"] = number
    with pytest.raises(ExtractError, match=r"referral_date: not a date \(rows 7\)"):
        read_episodes(_write(tmp_path, table))


def test_blank_attended_cells_are_said_to_be_blank(tmp_path, records):
    """A blank cell was counted among values 'not shown: longer than a code, or with digits',
    as if it might hold a name."""
    table, sessions = records
    sessions = sessions.astype({"attended": str}).copy()
    sessions.loc[sessions.index[:3], "attended"] = ""
    with pytest.raises(ExtractError) as caught:
        read_episodes(_write(tmp_path, table), attendance=_write(tmp_path, sessions, "a.csv"))
    said = str(caught.value)
    assert "3 row(s): attended is not yes/no: blank (rows 2, 3, 4)" in said
    assert "not shown" not in said


def test_a_track_named_for_a_few_clients_is_read_as_no_track(tmp_path, records):
    """A mistyped track on three rows would have been added as a track of its own (a room
    and a facilitator for three clients) and, in a state, stopped the fit."""
    table = records[0].copy()
    started = table.index[table["iop_start_date"].astype(str).str.len() > 0]
    table.loc[started[:3], "track"] = "Mornign grp"
    table.loc[started[3:5], "track"] = "grp of 4471 (see note)"  # (digits: never shown)
    out = tmp_path / "c.toml"
    command = ["fit", str(_write(tmp_path, table)), "--as-of", "2029-09-03"]
    result = CliRunner().invoke(
        main, [*command, "--template", "tests/clinic.toml", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "'Mornign grp' (3)" in result.output and "read as no track" in result.output
    assert "a name not shown (2)" in result.output and "4471" not in result.output
    from simulation.config import load

    assert {t.name for t in load(out).tracks} == {"morning", "evening"}


@pytest.mark.parametrize("placeholder", ["9999-12-31", "2099-12-31", "1900-01-01"])
def test_an_open_stays_end_written_as_a_placeholder_reads_as_still_in_care(
    tmp_path, records, placeholder
):
    """Systems write an open stay's end as 9999-12-31 (or 2099-12-31, or a null timestamp's
    1900-01-01): refused as a typo, the only way on dropped every client still in the IOP.
    Read as blank, the records are the clean extract's, and the note says how many, which
    and the first row (never an id)."""
    table = records[0].copy()
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    still = (table["iop_start_date"] != "") & (table["iop_end_date"] == "")
    assert still.sum() >= 5  # (the case: clients in care at the extract's end)
    table.loc[still, "iop_end_date"] = placeholder
    read = read_episodes(_write(tmp_path, table))
    pd.testing.assert_frame_equal(read.table, clean.table)
    assert read.as_of == clean.as_of
    (note,) = [n for n in read.notes if "placeholder" in n]
    first = int(still.to_numpy().argmax()) + 2
    assert f"{int(still.sum())} in iop_end_date ({placeholder}; as in row {first})" in note
    assert not any(str(i) in note for i in table.loc[still, "episode_id"])


def test_a_referral_date_written_as_a_placeholder_is_missing_not_dropped_silently(
    tmp_path, records
):
    """A required date written 1970-01-01 (a null timestamp) is read as blank, and so is
    refused as missing, by row: never a referral with no date that the rates go on without."""
    table = records[0].copy()
    table.loc[[5, 9], "referral_date"] = "1970-01-01"
    with pytest.raises(ExtractError, match=r"2 row\(s\): referral_date: missing \(rows 7, 11\)"):
        read_episodes(_write(tmp_path, table))


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_rows_that_are_not_records_are_skipped_and_said_and_rows_keep_their_numbers(
    tmp_path, records, suffix
):
    """Two exports joined into one file (the headings again mid-file), blank lines and a row
    of separators read as the records alone, each said with its row; a bad row after them
    is named by its own row in the file. Each was refused column by column ('referral_date:
    not a date', 'age_group: unknown code ...': a dozen problems for one row), and after a
    blank line every row number was one short."""
    table = _as_text(records[0])
    plain = read_episodes(_write(tmp_path, table))
    head = pd.DataFrame([table.columns.tolist()], columns=table.columns)
    blank = pd.DataFrame([[""] * len(table.columns)], columns=table.columns)
    joined = pd.concat([table.iloc[:50], blank, head, table.iloc[50:]], ignore_index=True)
    path = tmp_path / f"joined.{suffix}"
    if suffix == "csv":
        lines = joined.to_csv(index=False).splitlines()
        lines.insert(52, "")  # (a blank line as well as a row of separators)
        path.write_text("\n".join(lines) + "\n")
    else:
        joined.to_excel(path, index=False)
    episodes = read_episodes(path)
    pd.testing.assert_frame_equal(episodes.table, plain.table)
    said = "\n".join(episodes.notes)
    headings_row = 54 if suffix == "csv" else 53  # (the CSV has a blank line before them)
    assert f"repeating the column headings (rows {headings_row})" in said
    assert "empty row(s)" in said
    # row 60 of the file (the header, 50 records, the blank rows and the headings above it)
    at = 60 - (5 if suffix == "csv" else 4)  # the records' own row: 0-based, in ``table``
    table.loc[at, "referral_date"] = "not a date"
    joined = pd.concat([table.iloc[:50], blank, head, table.iloc[50:]], ignore_index=True)
    if suffix == "csv":
        lines = joined.to_csv(index=False).splitlines()
        lines.insert(52, "")
        path.write_text("\n".join(lines) + "\n")
    else:
        joined.to_excel(path, index=False)
    with pytest.raises(ExtractError, match=r"referral_date: not a date \(rows 60\)"):
        read_episodes(path)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_rows_that_sum_the_export_up_at_its_end_are_skipped_and_said(tmp_path, records, suffix):
    """A report's footer below the records (a blank row, "Total referrals" and a count,
    "Report generated on <date> by <user>") was refused as rows with no referral date; it is
    skipped and said by row, never quoted. A row that sums up above a record is no footer,
    and a last record whose source begins "Total" is a record (it has its dates)."""
    table = _as_text(records[0])
    plain = read_episodes(_write(tmp_path, table))
    foot = pd.DataFrame([[""] * len(table.columns)] * 3, columns=table.columns)
    foot.iloc[1, :2] = ["Total referrals", str(len(table))]
    foot.iloc[2, 0] = "Report generated on 2030-01-02 by jsmith"
    path = tmp_path / f"footer.{suffix}"
    written = pd.concat([table, foot], ignore_index=True)
    written.to_csv(path, index=False) if suffix == "csv" else written.to_excel(path, index=False)
    read = read_episodes(path)
    pd.testing.assert_frame_equal(read.table, plain.table)
    said = "\n".join(read.notes)
    last = len(table) + 1  # the records' last row in the file
    assert (
        f"at the end that sum the export up (a total, a count, a report's footer) (rows {last + 2}, {last + 3})"
        in said
    )
    assert "jsmith" not in said and "Total" not in said
    above = pd.concat([foot.iloc[1:2], table], ignore_index=True)  # a total above the records
    with pytest.raises(ExtractError, match=r"referral_date: not a date \(rows 2\)"):
        read_episodes(_write(tmp_path, above, "above.csv"))
    named = table.copy()
    named.loc[named.index[-1], "source"] = "Total Health Partners"  # (a record: it has dates)
    kept = read_episodes(_write(tmp_path, named, "named.csv"))
    assert len(kept.table) == len(plain.table)
    assert (kept.table["source"] == "Total Health Partners").sum() == 1


def test_planned_discharge_dates_written_ahead_read_as_clients_still_in_care(tmp_path, records):
    """An export that gives each client still in care their planned discharge date (days to
    weeks after its own date, reason "completed") had no stay open: every one read as a
    completion on a day that had not come, without its step-down (completed 47% -> 58% of
    exits, step-down share 0.78 -> 0.51 in one case). Read as of the day after the last
    beginning, the records and the fit are the clean export's, and the note says why
    (counts, never an id)."""
    table = records[0].copy()
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    still = (table["iop_start_date"] != "") & (table["iop_end_date"] == "")
    assert still.sum() >= 5  # (the case: clients in care at the extract's end)
    ahead = clean.as_of + pd.to_timedelta(1 + 3 * pd.Series(range(int(still.sum()))), unit="D")
    table.loc[still, "iop_end_date"] = ahead.dt.strftime("%Y-%m-%d").to_numpy()
    table.loc[still, "discharge_reason"] = "completed"
    read = read_episodes(_write(tmp_path, table))
    # read as the clean export seen on the day after its last referral, assessment or
    # admission (the clean one's date is its last date of any kind: a few days later)
    assert clean.as_of - pd.Timedelta(days=7) <= read.as_of <= clean.as_of
    seen = as_seen_on(clean, read.as_of).table
    # (a loss the export records is known on its date, however recent)
    seen["assessment_outcome"] = clean.table["assessment_outcome"]
    pd.testing.assert_frame_equal(read.table, seen)
    (note,) = [n for n in read.notes if "written ahead" in n]
    late = int((pd.to_datetime(table["iop_end_date"].replace("", None)) >= read.as_of).sum())
    assert late >= still.sum() and f"{late} in iop_end_date" in note
    assert f"read as of {read.as_of.date()}" in note
    assert not any(str(i) in note for i in table.loc[still, "episode_id"])
    fitted, truth = fit_clinic(read, baseline()).data, fit_clinic(clean, baseline()).data
    # (the planned ends read as real moved these by 0.1 and more; the few days of ends the
    # earlier date censors move them by under a hundredth)
    for level, share in truth["iop"]["exit_shares"].items():
        assert fitted["iop"]["exit_shares"][level] == pytest.approx(share, abs=0.01)
    assert fitted["step_down"]["share"] == pytest.approx(truth["step_down"]["share"], abs=0.01)


def test_a_cohort_followed_on_to_its_end_is_read_as_written(tmp_path, records):
    """The referrals of the first year followed on to the end of the second (a cohort export):
    every stay closed, ends months after the last referral, but admissions and step-downs
    went on after it: the ends are real and stand, and the referral rate is measured up to
    the last referral."""
    table = records[0]
    cut = table["referral_date"].sort_values().iloc[len(table) // 2]
    cohort = table[table["referral_date"] < cut]
    assert not ((cohort["iop_start_date"] != "") & (cohort["iop_end_date"] == "")).any()
    read = read_episodes(_write(tmp_path, cohort))
    assert not any("written ahead" in n for n in read.notes)
    ends = pd.to_datetime(cohort["iop_end_date"].replace("", None))
    assert read.table["iop_end_date"].max() == ends.max()


def test_a_time_of_day_on_some_dates_reads_as_the_day(tmp_path, records):
    """An export that writes the referral's time (2028-01-03 14:22) but only the day of the
    assessment shortened every wait to assessment by the hours of the day, so the share lost
    whatever the wait was fitted a tenth higher (0.278 -> 0.306). Each date is read as its
    day: the records and the fit are the dates-only export's."""
    table = records[0].copy()
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    timed = table["referral_date"] != ""
    table.loc[timed, "referral_date"] = table.loc[timed, "referral_date"] + " 14:22"
    read = read_episodes(_write(tmp_path, table))
    pd.testing.assert_frame_equal(read.table, clean.table)
    assert fit_clinic(read, baseline()).data == fit_clinic(clean, baseline()).data


def test_sessions_booked_after_the_records_date_are_left_out_not_read_as_missed(tmp_path, records):
    """An appointments export lists the sessions booked for the coming weeks (attended: no,
    or blank): each read as one missed (a blank one refused the extract), the attendance
    fitted 0.78 -> 0.72 and the dropout after a missed session 0.017 -> 0.013 in one clinic,
    without a word. Rows dated on or after the day the records are read as of, and after the
    last session attended, are left out and said; the fit is the clean export's."""
    table, sessions = records
    path = _write(tmp_path, table)
    clean = read_episodes(path, attendance=_write(tmp_path, sessions, "attendance.csv"))
    in_care = table.loc[(table["iop_start_date"] != "") & (table["iop_end_date"] == "")]
    days = pd.date_range(clean.as_of, periods=14)
    booked = pd.DataFrame(
        [(e, d.strftime("%Y-%m-%d"), "group", "no") for e in in_care["episode_id"] for d in days],
        columns=["episode_id", "date", "kind", "attended"],
    )
    assert len(booked) >= 50  # (the case: clients in care with sessions booked ahead)
    booked.loc[booked.index[::2], "attended"] = ""  # (not yet known: refused were it held)
    with_booked = pd.concat([sessions, booked[sessions.columns]], ignore_index=True)
    read = read_episodes(path, attendance=_write(tmp_path, with_booked, "booked.csv"))
    pd.testing.assert_frame_equal(read.attendance, clean.attendance)
    (note,) = [n for n in read.notes if "booked, not yet held" in n]
    assert f"{len(booked)} row(s) dated on or after {clean.as_of.date()}" in note
    assert fit_clinic(read, baseline()).data == fit_clinic(clean, baseline()).data


def test_ages_in_years_in_the_age_group_column_read_as_age_groups(tmp_path):
    """An export writes the client's age (15, 15 years, 42.0) where the fit needs only their
    age group: every row was refused as an unknown code. Under 18 reads as an adolescent,
    else an adult; the records are those of the export that wrote the groups, and the ages
    are not kept."""
    table, _, _ = synthesize_records(scenarios.load(scenarios.bundled("adolescent_terms")), 0.5, 2)
    clean = read_episodes(_write(tmp_path, table, "clean.csv"))
    young = table["age_group"] == "adolescent"
    assert young.sum() >= 10 and (~young).sum() >= 10  # (the case: both age groups)
    forms = ["{}", "{} years", "{}.0", "{} y"]
    aged = table.copy()
    aged["age_group"] = [
        forms[i % 4].format(13 + i % 5 if is_young else 18 + i % 50)
        for i, is_young in enumerate(young)
    ]
    read = read_episodes(_write(tmp_path, aged))
    pd.testing.assert_frame_equal(read.table, clean.table)
    (note,) = [n for n in read.notes if "ages in years" in n]
    assert f"{len(table)} value(s)" in note
    with pytest.raises(ExtractError, match="age_group: unknown code"):  # (not an age)
        read_episodes(_write(tmp_path, aged.assign(age_group="15-17"), "range.csv"))
    coded = aged.assign(age_group=np.where(young, "2", "1"))  # (codes: no client is 1 or 2)
    with pytest.raises(ExtractError, match="age_group: unknown code"):
        read_episodes(_write(tmp_path, coded, "coded.csv"))


def test_rows_dropped_for_a_later_problem_still_count_as_referrals(tmp_path, records):
    """--drop-bad-rows left out whole referrals for a problem after their referral (an end
    date without a discharge reason): 42 rows of 501 and the fitted referral rate was 8% low,
    the truth at the edge of its interval. Their referrals are counted (the rest of the fit
    goes on without them); a row whose referral date itself is bad is not."""
    table = records[0].copy()
    clean = fit_clinic(read_episodes(_write(tmp_path, table, "clean.csv")), baseline())
    ended = table.index[table["iop_end_date"] != ""][::3]
    assert len(ended) >= 20  # (the case: enough rows for the rate to move)
    table.loc[ended, "discharge_reason"] = ""
    read = read_episodes(_write(tmp_path, table), drop_bad_rows=True)
    assert len(read.table) == len(table) - len(ended)
    fitted = fit_clinic(read, baseline())
    rate = {e.key: e for e in fitted.evidence}["referrals.per_week"]
    assert rate.value == clean.data["referrals"]["per_week"]
    assert fitted.data["referrals"]["weekday_shares"] == clean.data["referrals"]["weekday_shares"]
    assert f"{len(ended)} of them in rows left out" in rate.method
    undated = records[0].copy()
    undated.loc[ended, "referral_date"] = "not a date"
    lower = fit_clinic(
        read_episodes(_write(tmp_path, undated, "u.csv"), drop_bad_rows=True), baseline()
    )
    assert lower.data["referrals"]["per_week"] < clean.data["referrals"]["per_week"]
