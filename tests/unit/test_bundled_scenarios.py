"""The bundled what-if scenarios are the baseline plus the changes they say they make."""

import pytest

from simulation import config as scenarios
from tests.conftest import bundled_baseline as baseline

WHAT_IFS = {
    "referral_surge": ["referrals.per_week=12.48"],
    "hire_therapist": ["staff.therapists.count=2"],
    "virtual_evening_track": ['tracks.evening.modality="virtual"'],
    "office_shortage": ['offices=[{name = "Office", count = 1}]'],
    "utilisation_review": [
        "payers.commercial.authorised_days=30",
        "payers.commercial.extension_days=14",
        "payers.commercial.extension_probability=0.9",
        "payers.medicaid.authorised_days=42",
        "payers.medicaid.extension_days=21",
        "payers.medicaid.extension_probability=0.7",
        "payers.medicare.authorised_days=60",
        "payers.medicare.extension_days=60",
        "payers.medicare.extension_probability=0.95",
    ],
    "therapist_time": [
        "staff.therapists.indirect_hours_per_week=3.0",
        "staff.therapists.documentation_minutes_per_hour=15",
        "staff.evening therapists.indirect_hours_per_week=3.5",
        "staff.evening therapists.documentation_minutes_per_hour=15",
        "staff.intake.documentation_minutes_per_hour=15",
    ],
    "adolescent_terms": [
        "referrals.per_week=11.6",
        "referrals.school_holiday_multiplier=0.8",
        'referrals.sources=[{name = "community", share = 0.66, priority = 2}, '
        '{name = "step-down from higher care", share = 0.17, priority = 1}, '
        '{name = "schools and families", share = 0.17, priority = 2, age_group = "adolescent"}]',
        'tracks=[{name = "morning", days = ["mon", "tue", "wed", "thu"], start = "09:00", '
        'session_hours = 3.0, seats = 12, facilitators = 1, facilitator_pools = ["therapists"], '
        'admission = "rolling"}, {name = "evening", days = ["mon", "tue", "wed", "thu"], '
        'start = "17:30", client_hours = "around_groups", session_hours = 3.0, seats = 12, '
        'facilitators = 1, facilitator_pools = ["evening therapists"], admission = "rolling"}, '
        '{name = "adolescent", days = ["mon", "tue", "thu"], start = "14:45", '
        'holiday_days = ["mon", "tue", "wed"], holiday_start = "13:00", session_hours = 2.75, '
        'seats = 8, facilitator_pools = ["evening therapists", "therapists"], '
        'age_group = "adolescent", admission = "rolling"}]',
        'staff."evening therapists".iop_caseload_cap=20',
        "calendar.school_holidays=[{from_date = 2027-06-21, to_date = 2027-08-27}, "
        "{from_date = 2027-12-20, to_date = 2028-01-02}, {from_date = 2028-03-27, "
        "to_date = 2028-03-31}, {from_date = 2028-06-19, to_date = 2028-08-25}, "
        "{from_date = 2028-12-18, to_date = 2028-12-31}]",
    ],
    "prescriber_leave": [
        'staff_changes=[{pool = "prescribers", week = 60, change = "leave"}, '
        '{pool = "prescribers", week = 73, change = "join"}]'
    ],
    "vacancy_summer": [
        'staff_changes=[{pool = "therapists", week = 74, change = "leave"}, '
        '{pool = "therapists", week = 90, change = "join"}]'
    ],
    "holiday_closures": [
        'calendar.holidays="us"',
        "calendar.closure_weeks=[{from_date = 2027-12-27, to_date = 2027-12-31}, "
        "{from_date = 2028-12-26, to_date = 2028-12-29}]",
    ],
    "cohort_admission": [
        "tracks.morning.admission=cohort",
        "tracks.evening.admission=cohort",
        "tracks.morning.cohort_every_weeks=4",
        "tracks.evening.cohort_every_weeks=4",
    ],
}


CONTINUUM = [
    "referrals.per_week=14.4",
    'referrals.sources=[{name = "community", share = 0.5333, priority = 2}, '
    '{name = "step-down from higher care", share = 0.0667, priority = 1}, '
    '{name = "inpatient step-down", share = 0.4, priority = 1, level = "php"}]',
    'intake.higher_care_to="php"',
    'iop.escalate_to="php"',
]
"""The continuum scenario: the baseline inside a continuum of care (a PHP above the IOP), with
the PHP, its counsellors and Medicaid's rule for its blocked days (``_continuum``)."""
PHP = {
    "name": "php",
    "places": 12,
    "stay_days": {"dist": "lognormal", "mean": 10.0, "sd": 6.0, "min": 1, "max": 60},
    "routes": [
        {
            "to": "iop",
            "share": 0.25,
            "lead_days": {
                "dist": "empirical",
                "values": [0, 1, 2, 3, 5, 7, 14],
                "weights": [0.477, 0.15, 0.1, 0.08, 0.08, 0.06, 0.053],
            },
        },
        {
            "to": "discharge",
            "share": 0.28,
            "reason": "dropped_out",
            "stay_days": {"dist": "lognormal", "mean": 5.0, "sd": 4.0, "min": 1, "max": 30},
        },
        {"to": "discharge", "share": 0.10, "reason": "stepped_up"},
    ],
    "relapse": {"to": "php", "per_week": 0.10},
    "programme": {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "15:00",
        "attendance": 0.88,
        "min_hours_per_week": 20,
        "staff_pools": ["php counsellors"],
        "clients_per_staff": 10,
    },
    "when_full": "stay",
    "transfers_first": True,
    "per_diem": 300.0,
    "billed_days_per_week": 5,
    "blocked_days_billed": True,
    "cost_per_place_per_week": 650.0,
}


def _continuum():
    data = scenarios.to_data(baseline())
    data["staff"]["php counsellors"] = {
        "role": "other",
        "count": 2,
        "roster": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "16:30"}],
        "absence_share": 0.05,
        "annual_cost": 75968,
        "fte": 1.0,
    }
    data["levels"] = [PHP]
    for payer in data["payers"]:
        if payer["name"] == "medicaid":
            payer["level_blocked_days_billed"] = False
    return scenarios.apply_overrides(scenarios.validate(data), CONTINUUM)


CONTINUUM_WHAT_IFS = {
    "php_expansion": ["levels.php.places=20"],
    "step_down_gap": [
        'levels.php.routes=[{to = "iop", share = 0.25, lead_days = {dist = "exponential", '
        'mean = 7.0}}, {to = "discharge", share = 0.28, reason = "dropped_out", stay_days = '
        '{dist = "lognormal", mean = 5.0, sd = 4.0, min = 1, max = 30}}, {to = "discharge", '
        'share = 0.10, reason = "stepped_up"}]'
    ],
}


def _without_labels(sc):
    data = scenarios.to_data(sc)
    data.pop("name")
    data.pop("description")
    return data


@pytest.mark.parametrize("name", sorted(p.stem for p in scenarios.bundled_dir().glob("*.toml")))
def test_every_bundled_scenario_is_valid(name):
    sc = scenarios.load(scenarios.bundled(name))
    assert sc.name == name
    assert sc.description


@pytest.mark.parametrize(("name", "changes"), sorted(WHAT_IFS.items()))
def test_what_if_is_baseline_plus_its_changes(name, changes):
    expected = scenarios.apply_overrides(baseline(), changes)
    assert _without_labels(scenarios.load(scenarios.bundled(name))) == _without_labels(expected)


def test_evening_track_adds_a_track_with_its_room_and_therapist_and_nothing_else():
    sc = scenarios.load(scenarios.bundled("evening_track"))
    assert [t.name for t in sc.tracks] == ["morning", "evening", "evening 2"]
    data = _without_labels(sc)
    data["tracks"] = data["tracks"][:2]
    data["rooms"] = data["rooms"][:1]
    data["staff"]["evening therapists"]["count"] = 1
    assert data == _without_labels(baseline())


def test_continuum_is_the_baseline_in_a_continuum_of_care():
    expected = _continuum()
    assert _without_labels(scenarios.load(scenarios.bundled("continuum"))) == _without_labels(
        expected
    )


@pytest.mark.parametrize(("name", "changes"), sorted(CONTINUUM_WHAT_IFS.items()))
def test_continuum_what_if_is_the_continuum_plus_its_changes(name, changes):
    expected = scenarios.apply_overrides(scenarios.load(scenarios.bundled("continuum")), changes)
    assert _without_labels(scenarios.load(scenarios.bundled(name))) == _without_labels(expected)


def test_no_php_is_the_continuum_without_its_php():
    continuum = scenarios.load(scenarios.bundled("continuum"))
    data = scenarios.to_data(continuum)
    data["levels"] = []
    data["intake"]["higher_care_to"] = None
    data["iop"]["escalate_to"] = None
    del data["staff"]["php counsellors"]
    for payer in data["payers"]:
        payer["level_blocked_days_billed"] = None
    for source in data["referrals"]["sources"]:
        if source["name"] == "inpatient step-down":
            source["level"] = "iop"
    expected = scenarios.validate(data)
    assert _without_labels(scenarios.load(scenarios.bundled("no_php"))) == _without_labels(expected)


def _network_data() -> dict:
    return scenarios.to_data(scenarios.load(scenarios.bundled("network")))


def test_pooled_intake_is_the_network_with_one_intake_queue():
    expected = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("network")), ['network.intake="pooled"']
    )
    got = scenarios.load(scenarios.bundled("pooled_intake"))
    assert _without_labels(got) == _without_labels(expected)


def test_virtual_for_all_is_the_network_with_its_urban_evening_group_by_video_for_all():
    data = _network_data()
    evening = next(t for t in data["tracks"] if t["name"] == "urban evening")
    evening["modality"], evening["site"] = "virtual", None
    expected = scenarios.validate(data)
    got = scenarios.load(scenarios.bundled("virtual_for_all"))
    assert _without_labels(got) == _without_labels(expected)


def test_close_rural_site_is_the_network_without_its_rural_site():
    data = _network_data()
    data["sites"] = [s for s in data["sites"] if s["name"] != "rural"]
    data["tracks"] = [t for t in data["tracks"] if t.get("site") != "rural"]
    data["rooms"] = [r for r in data["rooms"] if r.get("site") != "rural"]
    for pool in ("rural therapists", "rural intake"):
        del data["staff"][pool]
    data["intake"]["pools"].remove("rural intake")
    data["iop"]["therapist_pools"].remove("rural therapists")
    data["step_down"]["pools"].remove("rural therapists")
    for region in data["network"]["regions"]:
        del region["travel_minutes"]["rural"]
    roster = data["staff"]["prescribers"]["roster"]  # her Thursday all day at the urban site
    roster[:] = [shift for shift in roster if shift.get("site") != "rural"]
    next(s for s in roster if s["days"] == ["thu"])["end"] = "17:00"
    expected = scenarios.validate(data)
    got = scenarios.load(scenarios.bundled("close_rural_site"))
    assert _without_labels(got) == _without_labels(expected)
