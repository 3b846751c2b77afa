"""FHIR R4 bundles as extracts: a clinic whose records system exports FHIR gives the bundle
(a ``Bundle`` JSON file, or a Bulk Data NDJSON file with one resource per line) where a CSV
would go, and the same checks and privacy rules apply.

``read_bundle(path)`` validates every resource it uses with ``fhir.resources`` (R4B models:
the resources read here are the same in R4) and turns them into the three extracts' columns,
as text, named as in ``extract.COLUMNS`` (one row per episode), ``ATTENDANCE_COLUMNS`` and
``STAFF_COLUMNS``. Row n of these tables is entry n of the bundle (line n of an NDJSON file),
so a problem names the entry. Names, identifiers, narrative and notes are never read; a
Patient's birth date is read only to tell an adolescent from an adult at referral.

What is read (docs/data.md, "FHIR R4 bundles"):

- ``EpisodeOfCare``: one per referral. ``period.start`` is the referral; ``statusHistory``
  (with the current ``status``) gives the milestones: the first ``waitlist`` period (its end is
  ``waitlist_exit_date`` when the episode was cancelled from the waitlist), the first
  ``active`` period's start (``iop_start_date``) and the end of the last ``active``/``onhold``
  period once the episode is ``finished`` (``iop_end_date``). ``team[0].display`` is the
  track; ``referralRequest[0].display`` the source. Codes come from extensions named (by the
  last part of their URL) ``assessment-outcome``, ``discharge-reason``, ``referral-source``,
  ``track``, ``age-group`` and ``payer``, mapped with the map file's ``[values.<column>]`` like any code.
  An episode whose ``type`` is ``outpatient`` (or ``step-down``) is the step-down of the same
  patient's IOP episode that ended last before it began. An episode with a ``level``
  extension (``php``, ...) is a stay at that level of care: admitted when first ``active``,
  discharged when ``finished``, the next care in a ``discharged-to`` extension.
- ``Encounter`` of type ``assessment`` (or ``intake``) linked to an episode
  (``episodeOfCare``): the assessment date (its ``period.start``).
- ``Appointment``: attendance. ``fulfilled``, ``arrived`` and ``checked-in`` were attended,
  ``noshow`` was missed; other statuses (booked, cancelled, ...) are no expected session; the
  local time of ``start`` is the session's start. The
  episode is the one an ``Encounter`` for the appointment names, else the participant
  patient's episode in care on that day. ``serviceType[0]`` (text or code) is the kind.
- ``PractitionerRole``: staff. ``practitioner`` is the person (re-numbered), ``code[0]`` the
  pool, ``period`` the dates, an ``fte`` extension (decimal) the FTE.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from simulation.data import zones
from simulation.problems import ProblemsError

SUFFIXES = (".json", ".ndjson")
USED = ("EpisodeOfCare", "Encounter", "Appointment", "PractitionerRole", "Patient")
EXTENSION = "https://iopsim.org/fhir/StructureDefinition/"
"""Where the extensions iopsim writes live; any extension whose URL ends in the same name
(``.../discharge-reason``) is read alike."""
STEP_DOWN_TYPES = {"outpatient", "op", "step-down", "step_down", "stepdown"}
ASSESSMENT_TYPES = {"assessment", "intake", "intake assessment"}
ATTENDED = {"fulfilled", "arrived", "checked-in"}
MISSED = {"noshow"}
ADULT_FROM_AGE = 18
FIRST_ENTRIES = 5  # entry numbers shown per problem


class BundleError(ProblemsError):
    """A FHIR file that cannot be read as an extract."""

    what = "the FHIR bundle"


def is_fhir(path: str | Path) -> bool:
    """True when the extract is a FHIR file (.json bundle or .ndjson resources)."""
    return Path(path).suffix.lower() in SUFFIXES


def read_bundle(path: str | Path, zone: ZoneInfo | None = None) -> dict[str, pd.DataFrame]:
    """The bundle's ``episodes``, ``attendance`` and ``staff`` tables (canonical columns, as
    text; index: entry number - 2, so that a problem's "row" is its entry). Read once per
    file while it is unchanged (the episode, attendance and staff extracts may all be it).
    With ``zone`` (the clinic's time zone) every time with an offset is read on its clock;
    without, dates are as written and appointments' times keep their offsets (``zones``)."""
    path = Path(path)
    stat = path.stat()
    return _read(str(path.resolve()), stat.st_mtime_ns, stat.st_size, zone)


@functools.lru_cache(maxsize=2)
def _read(path: str, _mtime: int, _size: int, zone: ZoneInfo | None) -> dict[str, pd.DataFrame]:
    resources = _validated(_entries(Path(path)), Path(path).name)
    patients = {
        f"Patient/{r['id']}": r.get("birthDate", "")
        for _, r in resources.get("Patient", [])
        if "id" in r
    }
    assessed = _assessment_dates(resources.get("Encounter", []))
    episodes = _episodes(resources.get("EpisodeOfCare", []), patients, assessed, zone)
    return {
        "episodes": episodes.drop(columns=["_patient"]),
        "attendance": _attendance(
            resources.get("Appointment", []), resources.get("Encounter", []), episodes, zone
        ),
        "staff": _staff(resources.get("PractitionerRole", []), zone),
    }


def _entries(path: Path) -> list[tuple[int, dict]]:
    """(entry number, resource) for every resource of the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise BundleError([f"cannot be read ({type(exc).__name__})"], path.name) from None
    if path.suffix.lower() == ".ndjson":
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    out.append((number, json.loads(line)))
                except json.JSONDecodeError:
                    raise BundleError(
                        [f"line {number} is not JSON: an NDJSON file has one resource per line"],
                        path.name,
                    ) from None
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(
            [f"not JSON (line {exc.lineno}): give a FHIR Bundle (.json) or NDJSON (.ndjson)"],
            path.name,
        ) from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise BundleError(
            [f"a .json extract must be a FHIR Bundle, not {kind!s:.40}"],
            path.name,
        )
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise BundleError(["Bundle.entry is not a list"], path.name)
    return [
        (number, entry.get("resource"))
        for number, entry in enumerate(entries, start=1)
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
    ]


def _validated(entries: list[tuple[int, dict]], source: str) -> dict[str, list]:
    """The resources iopsim reads, by type, each checked against its FHIR R4 model; problems
    name the entry, the field and the rule (never the value, which may identify someone)."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    by_type: dict[str, list] = {}
    problems: dict[str, list[int]] = {}
    for number, resource in entries:
        kind = resource.get("resourceType")
        if kind not in USED:
            continue  # Condition, Observation, ...: not read
        try:
            get_fhir_model_class(kind).model_validate(resource)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                problems.setdefault(f"{kind}: {where}: {error['msg']}", []).append(number)
            continue
        if resource.get("status") == "entered-in-error":
            continue
        by_type.setdefault(kind, []).append((number, resource))
    if problems:
        raise BundleError(
            [
                f"{len(numbers)} entr{'y' if len(numbers) == 1 else 'ies'}: {what} (entries "
                f"{', '.join(map(str, numbers[:FIRST_ENTRIES]))}"
                f"{', ...' if len(numbers) > FIRST_ENTRIES else ''})"
                for what, numbers in problems.items()
            ],
            source,
        )
    if "EpisodeOfCare" not in by_type:
        raise BundleError(
            ["no EpisodeOfCare resource: the episodes (one per referral) come from them"], source
        )
    return by_type


def _extension(resource: dict, name: str) -> str:
    """The value of the resource's extension whose URL ends in ``/name`` (a code, a string,
    a decimal or a concept's first code or text), or ''."""
    for extension in resource.get("extension") or []:
        if str(extension.get("url", "")).rstrip("/").rsplit("/", 1)[-1] != name:
            continue
        for key in ("valueCode", "valueString", "valueDecimal", "valueInteger"):
            if key in extension:
                return str(extension[key])
        if "valueCodeableConcept" in extension:
            return _concept(extension["valueCodeableConcept"])
        if "valueCoding" in extension:
            return _concept({"coding": [extension["valueCoding"]]})
    return ""


def _concept(concept: dict | None) -> str:
    """A CodeableConcept as one text: its first coding's code, else its text."""
    if not concept:
        return ""
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    return str(concept.get("text", ""))


def _codes(concepts: list | None) -> set[str]:
    """Every code and text of a list of CodeableConcepts, lower case."""
    out = set()
    for concept in concepts or []:
        out.add(str(concept.get("text", "")).strip().lower())
        for coding in concept.get("coding") or []:
            out.add(str(coding.get("code", "")).strip().lower())
            out.add(str(coding.get("display", "")).strip().lower())
    return out - {""}


def _day(value: str | None, zone: ZoneInfo | None = None) -> str:
    """The date of a FHIR date or dateTime as the clinic's clock showed it: with ``zone``, a
    dateTime moved onto its clock; else its first ten characters (a dateTime written in local
    time with its offset)."""
    return _moment(value, zone)[:10] if zone is not None else ("" if not value else str(value)[:10])


def _moment(value: str | None, zone: ZoneInfo | None = None) -> str:
    """A dateTime's date and time to the minute on the clinic's clock (with ``zone``: moved onto
    it; without: as written, its offset kept for the reader to judge), or its date."""
    value = "" if not value else str(value)
    if len(value) < 16 or value[10] != "T":
        return value[:10]
    body, offset = zones.split(value)
    if offset is None:
        return value[:16]
    if zone is None:
        return value[:16] + value[len(body) :].strip()
    try:
        moment = dt.datetime.fromisoformat(body[:19])
    except ValueError:
        return value[:16]
    return zones.on_clock(moment, offset, zone).strftime("%Y-%m-%dT%H:%M")


def _assessment_dates(encounters: list) -> dict[str, str]:
    """episode reference -> the earliest assessment encounter's start."""
    out: dict[str, str] = {}
    for _, encounter in encounters:
        if encounter.get("status") in ("cancelled", "planned"):
            continue
        if not (_codes(encounter.get("type")) & ASSESSMENT_TYPES):
            continue
        start = (encounter.get("period") or {}).get("start")
        for reference in encounter.get("episodeOfCare") or []:
            key = reference.get("reference", "")
            if start and (key not in out or start[:10] < out[key][:10]):
                out[key] = start
    return out


def _episodes(
    items: list, patients: dict[str, str], assessed: dict[str, str], zone: ZoneInfo | None
) -> pd.DataFrame:
    """One row per IOP episode (step-down episodes joined to theirs)."""
    rows, numbers, step_downs = [], [], []
    for number, episode in items:
        reference = f"EpisodeOfCare/{episode.get('id', number)}"
        patient = (episode.get("patient") or {}).get("reference", "")
        period = episode.get("period") or {}
        if _codes(episode.get("type")) & STEP_DOWN_TYPES:
            step_downs.append(
                (patient, _day(period.get("start"), zone), _day(period.get("end"), zone))
            )
            continue
        history = [
            (
                h.get("status"),
                (h.get("period") or {}).get("start"),
                (h.get("period") or {}).get("end"),
            )
            for h in episode.get("statusHistory") or []
        ]
        current = episode.get("status")
        if not history or history[-1][0] != current:
            begun = history[-1][2] if history else period.get("start")
            history.append((current, begun, period.get("end")))
        waitlist = next((h for h in history if h[0] == "waitlist"), None)
        active = [h for h in history if h[0] in ("active", "onhold")]
        first_active = next((h for h in history if h[0] == "active"), None)
        referral = period.get("start") or (history[0][1] if history else None)
        outcome = _extension(episode, "assessment-outcome")
        if not outcome and (waitlist or first_active) and not _extension(episode, "level"):
            outcome = "iop"
        left_waitlist = (
            waitlist is not None
            and first_active is None
            and current == "cancelled"
            and waitlist[2] is not None
        )
        ended = current in ("finished", "cancelled") and bool(active)
        age = _extension(episode, "age-group") or _age_group(patients.get(patient, ""), referral)
        rows.append(
            {
                "episode_id": reference,
                "referral_date": _day(referral, zone),
                "source": _extension(episode, "referral-source")
                or str(((episode.get("referralRequest") or [{}])[0]).get("display", "")),
                "age_group": age,
                "assessment_date": _day(assessed.get(reference), zone),
                "assessment_outcome": outcome,
                "waitlist_date": _day(waitlist[1], zone) if waitlist else "",
                "waitlist_exit_date": _day(waitlist[2], zone) if left_waitlist else "",
                "iop_start_date": _day(first_active[1], zone) if first_active else "",
                "track": _extension(episode, "track")
                or str(((episode.get("team") or [{}])[0]).get("display", "")),
                "iop_end_date": _day(active[-1][2] or period.get("end"), zone) if ended else "",
                "discharge_reason": _extension(episode, "discharge-reason"),
                "therapist": str((episode.get("careManager") or {}).get("reference", "")),
                "step_down_start_date": "",
                "step_down_end_date": "",
                # a stay at another level of care (a level extension: php, ...): its admission
                # and discharge are the active period's, its next care a discharged-to one
                "level": _extension(episode, "level"),
                "discharged_to": _extension(episode, "discharged-to"),
                # a provider's network: the site seen at, the region come from (extensions)
                "site": _extension(episode, "site"),
                "region": _extension(episode, "region"),
                "payer": _extension(episode, "payer"),  # who paid (an extension)
                "_patient": patient,
            }
        )
        numbers.append(number)
    table = pd.DataFrame(rows, index=pd.Index(numbers) - 2)
    if table.empty:
        raise BundleError(["no EpisodeOfCare other than step-down episodes"])
    _join_step_downs(table, step_downs)
    return table


def _age_group(birth_date: str, referral: str | None) -> str:
    """adolescent or adult at referral, from a birth date (which is never kept)."""
    if not birth_date or not referral:
        return ""
    born, referred = pd.Timestamp(birth_date[:10]), pd.Timestamp(str(referral)[:10])
    age = referred.year - born.year - ((referred.month, referred.day) < (born.month, born.day))
    return "adolescent" if age < ADULT_FROM_AGE else "adult"


def _join_step_downs(table: pd.DataFrame, step_downs: list[tuple[str, str, str]]) -> None:
    """Each step-down episode into the same patient's IOP episode that ended last on or before
    its start."""
    ended = table[(table["iop_end_date"] != "") & (table["_patient"] != "")]
    stays: dict[str, list[tuple[str, int]]] = {}
    for row, patient, end in zip(
        ended.index, ended["_patient"], ended["iop_end_date"], strict=True
    ):
        stays.setdefault(patient, []).append((end, row))
    for patient, start, end in step_downs:
        before = [stay for stay in stays.get(patient, []) if stay[0] <= start]
        if start and before:
            row = max(before)[1]  # (the latest end; the later entry on a tie)
            table.loc[row, ["step_down_start_date", "step_down_end_date"]] = [start, end]


def _attendance(
    appointments: list, encounters: list, episodes: pd.DataFrame, zone: ZoneInfo | None
) -> pd.DataFrame:
    """One row per appointment a client was expected at."""
    columns = ["episode_id", "date", "kind", "attended"]
    via_encounter = {}
    for _, encounter in encounters:
        for appointment in encounter.get("appointment") or []:
            for episode in encounter.get("episodeOfCare") or []:
                via_encounter[appointment.get("reference", "")] = episode.get("reference", "")
    rows, numbers = [], []
    for number, appointment in appointments:
        status = appointment.get("status")
        if status not in ATTENDED | MISSED:
            continue
        patient = next(
            (
                p["actor"]["reference"]
                for p in appointment.get("participant") or []
                if str((p.get("actor") or {}).get("reference", "")).startswith("Patient/")
            ),
            "",
        )
        kinds = appointment.get("serviceType") or [appointment.get("appointmentType") or {}]
        rows.append(
            {
                "episode_id": via_encounter.get(f"Appointment/{appointment.get('id')}", ""),
                "date": _moment(appointment.get("start"), zone),
                "kind": (_concept(kinds[0]) or "group").lower(),
                "attended": "yes" if status in ATTENDED else "no",
                "_patient": patient,
            }
        )
        numbers.append(number)
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(rows, index=pd.Index(numbers) - 2)
    unlinked = table["episode_id"] == ""
    if unlinked.any():
        table.loc[unlinked, "episode_id"] = _episode_in_care(table[unlinked], episodes)
    return table[columns]


def _episode_in_care(rows: pd.DataFrame, episodes: pd.DataFrame) -> pd.Series:
    """For each (patient, date), the patient's episode that had started IOP on or before the
    date, the latest such ('' when none)."""
    started = episodes[(episodes["iop_start_date"] != "") & (episodes["_patient"] != "")]
    left = pd.DataFrame(
        {
            "_patient": rows["_patient"],
            "day": pd.to_datetime(rows["date"].str[:10], errors="coerce"),
        }
    ).reset_index()
    right = pd.DataFrame(
        {
            "_patient": started["_patient"],
            "day": pd.to_datetime(started["iop_start_date"].str[:10], errors="coerce"),
            "episode_id": started["episode_id"],
        }
    ).dropna(subset=["day"])
    known = left.dropna(subset=["day"]).sort_values("day", kind="stable")
    joined = pd.merge_asof(
        known, right.sort_values("day", kind="stable"), on="day", by="_patient"
    ).set_index("index")
    return joined["episode_id"].reindex(rows.index).fillna("")


def _staff(roles: list, zone: ZoneInfo | None) -> pd.DataFrame:
    """One row per practitioner role: person, pool, dates, FTE."""
    rows, numbers = [], []
    for number, role in roles:
        period = role.get("period") or {}
        rows.append(
            {
                "person": str((role.get("practitioner") or {}).get("reference", ""))
                or f"role {number}",
                "pool": _concept((role.get("code") or [{}])[0]),
                "from_date": _day(period.get("start"), zone),
                "to_date": _day(period.get("end"), zone),
                "fte": _extension(role, "fte"),
            }
        )
        numbers.append(number)
    return pd.DataFrame(
        rows, index=pd.Index(numbers) - 2, columns=["person", "pool", "from_date", "to_date", "fte"]
    )
