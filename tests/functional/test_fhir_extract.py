"""A FHIR R4 export reads as an extract: the same episodes, attendance and staff as the table
a clinic would export, through the same checks, with problems named by entry and nothing
identifying (names, record numbers, narrative, values) ever copied out."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.cli import main
from simulation.data.extract import ExtractError, read_episodes, read_staff
from simulation.data.synth import extract_start, synthesize_records
from simulation.data.synth_fhir import bundle
from tests.conftest import baseline


@pytest.fixture(scope="module")
def records():
    """One year of the test clinic's records as tables (read-only)."""
    table, _, sessions = synthesize_records(baseline(), 1.0, 5, fhir=True)
    return table, sessions


def _bundle_file(tmp_path, records, name="export.json"):
    table, sessions = records
    path = tmp_path / name
    path.write_text(json.dumps(bundle(table, sessions, baseline(), extract_start(baseline()))))
    return path


def _resource(kind: str, id_: str, **fields) -> dict:
    return {"resource": {"resourceType": kind, "id": id_, **fields}}


def test_a_bundle_reads_as_the_same_extract_as_its_table(tmp_path, records):
    table, sessions = records
    table.to_csv(tmp_path / "e.csv", index=False)
    sessions.to_csv(tmp_path / "a.csv", index=False)
    from_table = read_episodes(tmp_path / "e.csv", attendance=tmp_path / "a.csv")
    from_fhir = read_episodes(_bundle_file(tmp_path, records))  # (its appointments too)
    pd.testing.assert_frame_equal(from_fhir.table, from_table.table)
    same = ["episode", "date", "kind", "attended"]  # (a bundle adds each session's start)
    pd.testing.assert_frame_equal(from_fhir.attendance[same], from_table.attendance[same])
    assert from_fhir.as_of == from_table.as_of
    # every milestone made it through, not just the referral dates
    for column in ("assessment_date", "waitlist_exit_date", "iop_end_date", "step_down_start_date"):
        assert from_fhir.table[column].notna().sum() > 0, column


def test_an_ndjson_export_reads_like_the_bundle(tmp_path, records):
    whole = _bundle_file(tmp_path, records)
    lines = tmp_path / "export.ndjson"
    entries = json.loads(whole.read_text())["entry"]
    lines.write_text("\n".join(json.dumps(e["resource"]) for e in entries) + "\n")
    pd.testing.assert_frame_equal(read_episodes(lines).table, read_episodes(whole).table)


def test_staff_roles_give_the_people_in_post(tmp_path, records):
    staff = read_staff(_bundle_file(tmp_path, records))
    people = baseline().people()
    assert len(staff) == len(people)
    assert sorted(staff["pool"].unique()) == sorted({pool for _, pool, _, _ in people})
    assert staff["person"].nunique() == len(people)  # (re-numbered, never the reference)


def _clinic(appointment_link: str) -> dict:
    """One patient referred twice: the first stay steps down to outpatient care, the second
    has two group sessions (linked to its episode by an Encounter or by the patient)."""
    first = [
        {"status": "planned", "period": {"start": "2028-01-03", "end": "2028-01-10"}},
        {"status": "active", "period": {"start": "2028-01-17", "end": "2028-03-01"}},
        {"status": "finished", "period": {"start": "2028-03-01"}},
    ]
    second = [
        {"status": "planned", "period": {"start": "2028-06-01", "end": "2028-06-05"}},
        {"status": "waitlist", "period": {"start": "2028-06-05", "end": "2028-06-12"}},
        {"status": "active", "period": {"start": "2028-06-12"}},
    ]
    code = "https://example.org/fhir/StructureDefinition/discharge-reason"
    entries = [
        _resource("Patient", "p1", birthDate="2012-02-02", name=[{"family": "Secretname"}]),
        _resource(
            "EpisodeOfCare",
            "e1",
            status="finished",
            statusHistory=first,
            patient={"reference": "Patient/p1"},
            period={"start": "2028-01-03", "end": "2028-03-01"},
            extension=[{"url": code, "valueCode": "completed"}],
            team=[{"display": "morning"}],
        ),
        _resource(
            "EpisodeOfCare",
            "op1",
            status="finished",
            type=[{"coding": [{"code": "outpatient"}]}],
            patient={"reference": "Patient/p1"},
            period={"start": "2028-03-08", "end": "2028-05-01"},
        ),
        _resource(
            "EpisodeOfCare",
            "e2",
            status="active",
            statusHistory=second,
            patient={"reference": "Patient/p1"},
            period={"start": "2028-06-01"},
        ),
    ]
    for k, status in enumerate(["fulfilled", "noshow", "cancelled"]):
        entries.append(
            _resource(
                "Appointment",
                f"a{k}",
                status=status,
                start=f"2028-06-{13 + k}T18:00:00+01:00",
                participant=[{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
            )
        )
        if appointment_link == "encounter":
            entries.append(
                _resource(
                    "Encounter",
                    f"v{k}",
                    status="finished",
                    **{"class": {"code": "AMB"}},
                    appointment=[{"reference": f"Appointment/a{k}"}],
                    episodeOfCare=[{"reference": "EpisodeOfCare/e2"}],
                )
            )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


@pytest.mark.parametrize("link", ["encounter", "patient"])
def test_a_readmitted_patient_has_two_episodes_and_sessions_join_the_right_one(tmp_path, link):
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps(_clinic(link)))
    episodes = read_episodes(path)
    table = episodes.table
    assert len(table) == 2  # the outpatient episode is the first stay's step-down, not a referral
    first, second = table.iloc[0], table.iloc[1]
    assert first["age_group"] == "adolescent"  # 15 at referral; the birth date is not kept
    assert "birth" not in " ".join(table.columns)
    assert first["discharge_reason"] == "completed" and first["track"] == "morning"
    assert first["step_down_start_date"] == pd.Timestamp("2028-03-08")
    assert pd.isna(second["step_down_start_date"]) and pd.isna(second["iop_end_date"])
    assert second["waitlist_date"] == pd.Timestamp("2028-06-05")
    assert pd.isna(second["waitlist_exit_date"])  # left the waitlist for the IOP, not gave up
    sessions = episodes.attendance
    assert sessions["episode"].tolist() == [1, 1]  # the cancelled appointment was never expected
    assert sessions["attended"].tolist() == [True, False]
    assert sessions["date"].tolist() == [pd.Timestamp("2028-06-13"), pd.Timestamp("2028-06-14")]


def test_an_invalid_resource_is_named_by_entry_and_field_never_by_its_value(tmp_path):
    clinic = _clinic("patient")
    episode = clinic["entry"][1]["resource"]
    del episode["patient"]
    episode["period"]["end"] = "SECRET-1234"
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(clinic))
    with pytest.raises(ExtractError) as caught:
        read_episodes(path)
    message = str(caught.value)
    assert "EpisodeOfCare: patient: Field required (entries 2)" in message
    assert "period.end" in message
    assert "SECRET" not in message and "Secretname" not in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"resourceType": "Patient", "id": "x"}', "must be a FHIR Bundle, not Patient"),
        ("{not json", "not JSON"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "no EpisodeOfCare"),
    ],
)
def test_a_json_file_that_is_no_usable_bundle_says_what_it_is(tmp_path, text, expected):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(ExtractError, match=expected):
        read_episodes(path)


def test_fit_on_a_messy_bundle_names_bad_entries_and_copies_nothing_identifying(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        made = runner.invoke(
            main, ["synth", "--years", "1", "--format", "fhir", "--messy", "--out", "b.json"]
        )
        assert made.exit_code == 0, made.output
        refused = runner.invoke(main, ["fit", "b.json", "--map-file", "b.map.toml"])
        assert refused.exit_code == 2
        assert "entries" in refused.output and "--drop-bad-rows" in refused.output
        assert "Traceback" not in refused.output
        fitted = runner.invoke(
            main,
            ["fit", "b.json", "--map-file", "b.map.toml", "--drop-bad-rows", "--out", "c.toml"],
        )
        assert fitted.exit_code == 0, fitted.output
        scenario = Path("c.toml").read_text()
        report = Path("c.fit-report.html").read_text()
        assert "people in post" in scenario  # staff from the bundle's practitioner roles
        for text in (scenario, report, fitted.output, refused.output):
            for decoy in ("Decoy", "MRN-DECOY", "Practitioner/", "Patient/", "EpisodeOfCare/"):
                assert decoy not in text


def test_synth_refuses_a_table_suffix_for_a_fhir_bundle(tmp_path):
    result = CliRunner().invoke(
        main, ["synth", "--format", "fhir", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2 and "with --format fhir, write .json" in result.output
    assert not (tmp_path / "x.csv").exists()


def _bundled_both_ways(tmp_path, name: str, seed: int) -> Path:
    """Half a year of a bundled scenario's records as a table (e.csv) and as a FHIR bundle
    (the returned path)."""
    from simulation import config as scenarios

    sc = scenarios.apply_overrides(scenarios.load(scenarios.bundled(name)), ["warmup_weeks=8"])
    table, _, sessions = synthesize_records(sc, 0.5, seed, fhir=True)
    table.to_csv(tmp_path / "e.csv", index=False)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(bundle(table, sessions, sc, extract_start(sc))))
    return path


def test_a_continuums_bundle_carries_its_levels_stays(tmp_path):
    """Stays at a level of care (an EpisodeOfCare with a level extension) read as the table's
    level rows: the same admissions, discharges and next care."""
    path = _bundled_both_ways(tmp_path, "continuum", 2)
    columns = ["referral_date", "iop_start_date", "iop_end_date", "level", "discharged_to"]

    def stays(episodes):
        rows = episodes.table[episodes.table["level"] != "iop"][columns]
        return rows.sort_values(columns[:3], kind="stable").reset_index(drop=True)

    from_fhir, from_table = stays(read_episodes(path)), stays(read_episodes(tmp_path / "e.csv"))
    assert len(from_table) > 20 and set(from_table["level"]) == {"php"}
    pd.testing.assert_frame_equal(from_fhir, from_table)


def test_a_networks_bundle_carries_each_episodes_site_and_region(tmp_path):
    path = _bundled_both_ways(tmp_path, "network", 5)
    from_table = read_episodes(tmp_path / "e.csv").table
    from_fhir = read_episodes(path).table
    pd.testing.assert_frame_equal(from_fhir[["site", "region"]], from_table[["site", "region"]])
    assert set(from_fhir["site"]) == {"urban", "suburban", "rural"}


def _in_utc(path: Path, out: Path) -> Path:
    """The bundle with every appointment's start written in UTC (as many FHIR servers do)."""
    import datetime as dt

    data = json.loads(path.read_text())
    for entry in data["entry"]:
        r = entry["resource"]
        if r["resourceType"] == "Appointment":
            moment = dt.datetime.fromisoformat(r["start"]).astimezone(dt.UTC)
            r["start"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.write_text(json.dumps(data))
    return out


def test_appointment_times_in_utc_are_read_on_the_clinics_clock_or_refused(tmp_path, records):
    """Times written in UTC show no clinic's clock: without its time zone the sessions' start
    (the evening track at 22:30) cannot be read, and the fit stops saying what to give; with
    it, the same attendance as the bundle written in local time. The synthetic clinic's offset
    is -05:00 all year: Panama's clock."""
    from simulation.data.extract import Mapping

    local = _bundle_file(tmp_path, records)
    utc = _in_utc(local, tmp_path / "utc.json")
    with pytest.raises(ExtractError, match="times are written in UTC") as info:
        read_episodes(utc)
    assert "--timezone" in str(info.value)
    read = read_episodes(utc, Mapping(timezone="America/Panama"))
    pd.testing.assert_frame_equal(read.attendance, read_episodes(local).attendance)
    pd.testing.assert_frame_equal(read.table, read_episodes(local).table)
    new_york = read_episodes(utc, Mapping(timezone="America/New_York")).attendance
    summer = new_york["date"].dt.month.isin([7, 8])
    assert set(new_york.loc[summer, "start"]) <= {"10:00", "18:30"}  # (an hour later in EDT)
    result = CliRunner().invoke(main, ["fit", str(utc), "--out", str(tmp_path / "f.toml")])
    assert result.exit_code == 2 and "--timezone" in result.output
    assert not (tmp_path / "f.toml").exists()
    result = CliRunner().invoke(
        main, ["fit", str(utc), "--timezone", "Mars/Base", "--out", str(tmp_path / "f.toml")]
    )
    assert result.exit_code == 2 and "'Mars/Base': not a time zone" in result.output
    ok = CliRunner().invoke(
        main,
        ["fit", str(utc), "--timezone", "America/Panama", "--out", str(tmp_path / "f.toml")],
    )
    assert ok.exit_code == 0, ok.output
