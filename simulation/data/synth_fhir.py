"""A synthetic extract as a FHIR R4 bundle: the same simulated clinic as ``synth``'s CSV, in the
shape ``fhir.read_bundle`` reads (EpisodeOfCare with statusHistory, assessment Encounters,
Appointments, PractitionerRoles), with the decoys a real bundle carries (names, record
numbers, narrative) that iopsim must never read or copy."""

from __future__ import annotations

import pandas as pd

from simulation import clock
from simulation.config import Scenario
from simulation.data.fhir import EXTENSION

OFFSET = ":00-05:00"  # appointments' local times as a US clinic's system writes them


def bundle(
    table: pd.DataFrame, attendance: pd.DataFrame, scenario: Scenario, first_day: pd.Timestamp
) -> dict:
    """A ``collection`` Bundle of the episode table (text, canonical columns, ISO dates), its
    attendance rows and the scenario's staff in post from ``first_day``."""
    entries: list[dict] = []
    for i, row in enumerate(table.to_dict("records")):
        patient = f"Patient/p{i}"
        entries.append(_patient(i, row))
        entries.append(_episode(row, patient))
        if row["assessment_date"]:
            entries.append(_assessment(i, row, patient))
        if row["step_down_start_date"]:
            entries.append(_step_down(row, patient))
    patient_of = {
        row["episode_id"]: f"Patient/p{i}" for i, row in enumerate(table.to_dict("records"))
    }
    for k, row in enumerate(attendance.to_dict("records")):
        entries.append(
            {
                "resourceType": "Appointment",
                "id": f"ap{k}",
                "status": "fulfilled" if row["attended"] == "yes" else "noshow",
                "serviceType": [{"text": row["kind"]}],
                "start": row["date"] + OFFSET,
                "comment": "Decoy note: free text iopsim never reads",
                "participant": [
                    {"actor": {"reference": patient_of[row["episode_id"]]}, "status": "accepted"}
                ],
            }
        )
    entries += _roles(scenario, first_day)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:iopsim:{e['resourceType']}/{e['id']}", "resource": e} for e in entries
        ],
    }


def _patient(i: int, row: dict) -> dict:
    referred = pd.Timestamp(row["referral_date"])
    age = 15 if row["age_group"] == "adolescent" else 40
    return {
        "resourceType": "Patient",
        "id": f"p{i}",
        "identifier": [{"system": "urn:decoy:mrn", "value": f"MRN-DECOY-{i:06d}"}],
        "name": [{"family": f"Decoyperson{i}", "given": ["Decoy"]}],
        "birthDate": (referred - pd.DateOffset(years=age, days=i % 300)).strftime("%Y-%m-%d"),
    }


def _extension(name: str, value: str) -> dict:
    return {"url": EXTENSION + name, "valueString": value}


def _episode(row: dict, patient: str) -> dict:
    """An EpisodeOfCare whose statusHistory carries the referral's milestones."""
    history: list[tuple[str, str, str]] = []  # (status, start, end)
    outcome = row["assessment_outcome"]
    assessed = row["assessment_date"]
    if outcome in ("", "lost") and not (assessed or row["waitlist_date"] or row["iop_start_date"]):
        history.append(("planned", row["referral_date"], ""))
        if outcome == "lost":  # (the day the referral was lost is not recorded)
            history.append(("cancelled", row["referral_date"], ""))
    else:
        # (placed at a level, or come on from one, without an assessment: planned until then)
        history.append(
            (
                "planned",
                row["referral_date"],
                assessed or row["waitlist_date"] or row["iop_start_date"],
            )
        )
        if row["waitlist_date"]:
            history.append(
                (
                    "waitlist",
                    row["waitlist_date"],
                    row["waitlist_exit_date"] or row["iop_start_date"],
                )
            )
        if row["iop_start_date"]:
            history.append(("active", row["iop_start_date"], row["iop_end_date"]))
            if row["iop_end_date"]:
                history.append(("finished", row["iop_end_date"], row["iop_end_date"]))
        elif row["waitlist_exit_date"] or outcome not in ("iop", ""):
            end = row["waitlist_exit_date"] or assessed
            history.append(("cancelled", end, end))
    status, _, closed = history[-1]
    extensions = [
        _extension(name, row[column])
        for name, column in (
            ("assessment-outcome", "assessment_outcome"),
            ("discharge-reason", "discharge_reason"),
            ("referral-source", "source"),
            ("level", "level"),
            ("discharged-to", "discharged_to"),
            ("site", "site"),
            ("region", "region"),
            ("payer", "payer"),
        )
        if row.get(column)
    ]
    episode = {
        "resourceType": "EpisodeOfCare",
        "id": row["episode_id"],
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Decoy narrative</div>',
        },
        "status": status,
        "statusHistory": [
            {"status": s, "period": {k: v for k, v in (("start", a), ("end", b)) if v}}
            for s, a, b in history
        ],
        "patient": {"reference": patient},
        "period": {k: v for k, v in (("start", row["referral_date"]), ("end", closed)) if v},
    }
    if extensions:
        episode["extension"] = extensions
    if row["track"]:
        episode["team"] = [{"display": row["track"]}]
    if row.get("therapist"):
        episode["careManager"] = {"reference": f"Practitioner/{row['therapist']}"}
    return episode


def _assessment(i: int, row: dict, patient: str) -> dict:
    return {
        "resourceType": "Encounter",
        "id": f"as{i}",
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "type": [{"text": "assessment"}],
        "subject": {"reference": patient},
        "episodeOfCare": [{"reference": f"EpisodeOfCare/{row['episode_id']}"}],
        "period": {"start": row["assessment_date"]},
    }


def _step_down(row: dict, patient: str) -> dict:
    end = row["step_down_end_date"]
    return {
        "resourceType": "EpisodeOfCare",
        "id": f"{row['episode_id']}-op",
        "status": "finished" if end else "active",
        "type": [{"text": "outpatient"}],
        "patient": {"reference": patient},
        "period": {k: v for k, v in (("start", row["step_down_start_date"]), ("end", end)) if v},
    }


def _roles(scenario: Scenario, first_day: pd.Timestamp) -> list[dict]:
    """One PractitionerRole per person in post, from the day they joined."""
    monday = pd.Timestamp(clock.week_zero_monday(scenario.start_date))
    roles = []
    for k, (_, pool, first, gone) in enumerate(scenario.people()):
        start = max(first_day, monday + pd.Timedelta(weeks=first))
        period = {"start": start.strftime("%Y-%m-%d")}
        if gone is not None:
            left = monday + pd.Timedelta(weeks=gone)
            if left <= start:
                continue  # left before the extract begins
            period["end"] = left.strftime("%Y-%m-%d")
        role = {
            "resourceType": "PractitionerRole",
            "id": f"r{k}",
            "practitioner": {"reference": f"Practitioner/s{k}", "display": "Decoy Clinician"},
            "code": [{"text": pool}],
            "period": period,
        }
        fte = scenario.staff[pool].fte
        if fte is not None:
            role["extension"] = [{"url": EXTENSION + "fte", "valueDecimal": fte}]
        roles.append(role)
    return roles
