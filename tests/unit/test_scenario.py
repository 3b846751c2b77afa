import tomllib

import pytest

from simulation import config as scenarios
from simulation.config import ScenarioError, apply_overrides, load
from tests.conftest import CLINIC, baseline

BASELINE_TEXT = CLINIC.read_text()


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def problems_of(tmp_path, text):
    with pytest.raises(ScenarioError) as info:
        load(write(tmp_path, text))
    return info.value.problems


def test_baseline_loads_and_is_frozen():
    sc = baseline()
    assert sc.name == "baseline"
    with pytest.raises(Exception, match="frozen"):
        sc.name = "other"


def test_toml_syntax_error_names_line_and_column(tmp_path):
    problems = problems_of(tmp_path, 'name = "x"\nreplications = = 3\n')
    assert "line 2" in problems[0] and "column" in problems[0]


def test_unknown_key_suggests_the_closest_name(tmp_path):
    text = BASELINE_TEXT.replace(
        "seats = 10                         # process", "seatz = 10  # process", 1
    )
    problems = problems_of(tmp_path, text)
    assert any(
        "tracks.morning: unknown key 'seatz'" in p and "did you mean 'seats'" in p for p in problems
    )


def test_wrong_type_and_out_of_range_values_name_field_and_value(tmp_path):
    text = BASELINE_TEXT.replace("attendance = 0.82", "attendance = 1.4").replace(
        "replications = 10", 'replications = "ten"'
    )
    problems = problems_of(tmp_path, text)
    assert any(
        p.startswith("iop.attendance = 1.4") and "less than or equal to 1" in p for p in problems
    )
    assert any(p.startswith("replications = 'ten'") for p in problems)


def test_shares_must_sum_to_one(tmp_path):
    text = BASELINE_TEXT.replace("completed = 0.45, dropped_out", "completed = 0.55, dropped_out")
    problems = problems_of(tmp_path, text)
    assert any("iop.exit_shares must sum to 1" in p and "1.1" in p for p in problems)


def test_infinite_and_nan_values_are_refused(tmp_path):
    problems = problems_of(tmp_path, BASELINE_TEXT.replace("per_week = 7.0", "per_week = inf"))
    assert any("referrals.per_week" in p and "finite" in p for p in problems)
    problems = problems_of(tmp_path, BASELINE_TEXT.replace("per_week = 7.0", "per_week = nan"))
    assert any("referrals.per_week" in p for p in problems)


def test_missing_required_table(tmp_path):
    data = tomllib.loads(BASELINE_TEXT)
    del data["iop"]
    with pytest.raises(ScenarioError) as info:
        scenarios.validate(data)
    assert "iop: required, but missing" in info.value.problems


def test_unknown_pool_room_and_too_small_room(tmp_path):
    text = BASELINE_TEXT.replace('pools = ["intake"]', 'pools = ["intak"]').replace(
        'facilitator_pools = ["evening therapists"]\nadmission = "rolling"',
        'facilitator_pools = ["evening therapists"]\nroom = "Group Room B"\nadmission = "rolling"',
    )
    text = text.replace(
        "session_hours = 3.0\nseats = 10\nfacilitators = 1\n"
        'facilitator_pools = ["evening therapists"]',
        "session_hours = 3.0\nseats = 11\nfacilitators = 1\n"
        'facilitator_pools = ["evening therapists"]',
    )
    problems = " | ".join(problems_of(tmp_path, text))
    assert "intake.pools: 'intak' is not a staff pool (did you mean 'intake'?)" in problems
    assert "tracks.evening.seats: 11 seats do not fit room 'Group Room B' with 10 seats" in problems


def test_facilitators_must_be_rostered_at_the_track_times():
    with pytest.raises(ScenarioError) as info:
        apply_overrides(baseline(), ["tracks.evening.start=10:00"])
    text = str(info.value)
    assert "tracks.evening" in text and "Mon 10:00-13:00" in text and "evening therapists" in text


def test_no_one_for_intakes_with_referrals_is_refused():
    with pytest.raises(ScenarioError, match="no one can do intake"):
        apply_overrides(baseline(), ["staff.intake.count=0"])


def test_caseload_cap_zero_with_referrals_is_refused():
    with pytest.raises(ScenarioError, match="caseload"):
        apply_overrides(
            baseline(),
            ["staff.therapists.iop_caseload_cap=0", "staff.evening therapists.iop_caseload_cap=0"],
        )


def test_targets_must_name_kpis_and_bounds():
    with pytest.raises(ScenarioError, match="did you mean 'wait_to_iop_days_p90'"):
        apply_overrides(baseline(), ['targets.wait_to_iop_days_p9="<= 14"'])
    with pytest.raises(ScenarioError, match="'about 14' is not a target"):
        apply_overrides(baseline(), ['targets.wait_to_iop_days_p90="about 14"'])


def test_overrides_change_values_and_revalidate():
    sc = apply_overrides(
        baseline(),
        [
            "staff.therapists.count=3",
            "tracks.evening.seats=9",
            "referrals.per_week=9.5",
            "iop.attendance=0.9",
        ],
    )
    assert sc.staff["therapists"].count == 3
    assert next(t for t in sc.tracks if t.name == "evening").seats == 9
    assert sc.referrals.per_week == 9.5 and sc.iop.attendance == 0.9
    assert baseline().staff["therapists"].count == 2  # the original is untouched


def test_override_members_replaces_count():
    sc = apply_overrides(baseline(), ['staff.therapists.members=["Ana", "Ben", "Cy"]'])
    assert sc.staff["therapists"].names("therapists") == ["Ana", "Ben", "Cy"]


def test_override_a_distribution_and_a_bare_word():
    sc = apply_overrides(
        baseline(),
        [
            'step_down.duration_weeks={dist="exponential", mean=6}',
            "tracks.morning.admission=cohort",
        ],
    )
    assert sc.step_down.duration_weeks.mean == 6
    assert sc.tracks[0].admission == "cohort"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "staff.therapists.cuont=3",
            "'cuont' is not a key of staff.therapists (did you mean 'count'?)",
        ),
        ("tracks.evenin.seats=3", "has no item 'evenin' (did you mean 'evening'?)"),
        ("staff.therapists.count=-1", "greater than or equal to 0"),
        ("horizon_weeks", "write KEY=VALUE"),
        ("iop.attendance=high", "iop.attendance = 'high'"),
        # a list or a table where a number belongs: the value is named too
        ("referrals.per_week=[1, 2]", "referrals.per_week = [1, 2]: Input should be a valid"),
        ("tracks.morning.seats={n=3}", "tracks.morning.seats = {'n': 3}: Input should be"),
        (
            'waitlist.iop_patience_days={dist="exponental", mean=25}',
            "dist must be one of empirical, exponential, fixed, gamma, lognormal, triangular, "
            "uniform (did you mean 'exponential'?)",
        ),
        ("name.first=x", "is a value, not a table"),
    ],
)
def test_bad_overrides_are_explained(override, message):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(baseline(), [override])
    assert message in str(info.value)


def test_a_misspelt_roster_day_is_the_one_problem_said():
    """A roster is a list of shifts or 'always': a misspelt day is named, without the
    other form's complaint ('Input should be always') beside it."""
    with pytest.raises(ScenarioError) as info:
        apply_overrides(
            baseline(), ['staff.prescribers.roster=[{days=["tues"], start="09:00", end="17:00"}]']
        )
    assert info.value.problems == [
        "staff.prescribers.roster.0.days.0 = 'tues': Input should be 'mon', 'tue', 'wed', "
        "'thu', 'fri', 'sat' or 'sun'"
    ]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="is a folder"):
        load(tmp_path)


def test_resolve_bundled_names():
    assert scenarios.resolve(None).name == "baseline.toml"
    assert scenarios.resolve("referral_surge").name == "referral_surge.toml"
    with pytest.raises(ScenarioError, match="did you mean 'baseline'"):
        scenarios.resolve("baselin")


def test_validate_warns_of_referrals_of_an_age_group_no_track_serves():
    """Adolescents referred to a clinic of adult tracks wait for a place none can give."""
    from tests.conftest import variant

    teens = variant(
        'referrals.sources=[{name = "schools", share = 0.3, age_group = "adolescent"},'
        ' {name = "community", share = 0.7}]'
    )
    said = [w for w in scenarios.warnings(teens) if "no track serves" in w]
    assert len(said) == 1 and "referrals.sources.schools" in said[0] and "30%" in said[0]
    assert not any("no track serves" in w for w in scenarios.warnings(baseline()))
    served = variant(
        'referrals.sources=[{name = "schools", share = 0.3, age_group = "adolescent"},'
        ' {name = "community", share = 0.7}]',
        'tracks.evening.age_group="adolescent"',
    )
    assert not any("no track serves" in w for w in scenarios.warnings(served))


def test_validate_warns_when_a_tracks_week_cannot_meet_or_has_no_room_for_the_hours_rule():
    from tests.conftest import variant

    short_week = variant('tracks.morning.days=["mon", "wed"]')
    notes = scenarios.timetable_hours_warnings(short_week)
    assert any("tracks.morning" in n and "no client of it can meet" in n for n in notes)
    roomy = variant('tracks.morning.days=["mon", "tue", "wed", "thu", "fri"]')
    assert not any("tracks.morning" in n for n in scenarios.timetable_hours_warnings(roomy))
    exact = variant()  # 3 x 3 h of groups and a 50-minute session: one absence fails the week
    assert any("one missed 3-hour session" in n for n in scenarios.timetable_hours_warnings(exact))


def test_a_first_cohort_week_past_the_cycle_is_refused():
    from tests.conftest import variant

    with pytest.raises(ScenarioError, match="cohort_first_week = 4: must be under"):
        variant('tracks.morning.admission="cohort"', "tracks.morning.cohort_first_week=4")
    later = variant('tracks.morning.admission="cohort"', "tracks.morning.cohort_first_week=3")
    assert later.tracks[0].cohort_first_week == 3


def test_validate_warns_of_costs_left_at_zero_beside_revenue():
    """Rates default to published per diems and costs to nothing: a scenario that leaves a
    pool's pay, the overhead or a level's cost out is told which key would set it."""
    from tests.conftest import variant

    assert scenarios.money_warnings(baseline()) == []
    unpaid = variant("staff.intake.annual_cost=0", "finance.overhead_per_month={}")
    said = scenarios.money_warnings(unpaid)
    assert len(said) == 2
    assert said[0].startswith("staff.intake.annual_cost: not set (0)")
    assert f"pay of {unpaid.staff['intake'].size} person" in said[0]
    assert said[1].startswith("finance.overhead_per_month: none set")
    assert all(w in scenarios.warnings(unpaid) for w in said)
    continuum = scenarios.load(scenarios.bundled("continuum"))
    assert scenarios.money_warnings(continuum) == []
    free_php = scenarios.apply_overrides(continuum, ["levels.php.cost_per_place_per_week=0"])
    assert [w.split(":")[0] for w in scenarios.money_warnings(free_php)] == [
        "levels.php.cost_per_place_per_week"
    ]
    unbilled = scenarios.apply_overrides(free_php, ["levels.php.per_diem=0"])
    assert scenarios.money_warnings(unbilled) == []  # earns nothing, costs nothing: no margin


def test_validate_warns_when_nobody_would_give_up_waiting():
    """Without a patience nobody gives up however long they wait, so a growing queue loses
    no one: each stage left without one is named (with the published losses), and a file
    whose referrals all skip intake is not told of intake's."""

    def without(scenario, *keys, **changes):
        data = scenarios.to_data(scenario)
        for key in keys:
            section, name = key.split(".")
            data[section].pop(name, None)
        for key, value in changes.items():
            section, name = key.split("__")
            data[section][name] = value
        return scenarios.validate(data)

    assert scenarios.patience_warnings(baseline()) == []
    patient = without(baseline(), "waitlist.iop_patience_days", "intake.patience_days")
    said = scenarios.patience_warnings(patient)
    assert [w.split(":")[0] for w in said] == [
        "intake.patience_days",
        "waitlist.iop_patience_days",
    ]
    assert "intake.lost_share = 0.25 are lost, whatever the wait" in said[0]
    assert all(w in scenarios.warnings(patient) for w in said)
    no_share = without(baseline(), "intake.patience_days", intake__lost_share=0.0)
    assert [w.split(":")[0] for w in scenarios.patience_warnings(no_share)] == [
        "intake.patience_days"
    ]
    assert "lost_share" not in scenarios.patience_warnings(no_share)[0]
    continuum = scenarios.load(scenarios.bundled("continuum"))
    direct = without(
        continuum,
        "intake.patience_days",
        referrals__sources=[{"name": "wards", "share": 1.0, "level": "php"}],
    )
    assert scenarios.patience_warnings(direct) == []
    no_intake = without(
        baseline(), "intake.patience_days", intake__enabled=False, intake__lost_share=0.0
    )
    assert scenarios.patience_warnings(no_intake) == []  # referrals join the waitlist at once


def test_the_finance_tables_rates_beside_payers_are_known_to_be_paid_by_no_one():
    """Every client is given a payer when there are [[payers]], so the finance table's per
    diem, outpatient rate and billable day move no number: set to what no payer pays, the run
    warns naming the key, its value and the payers'; a change to one is flagged as changing
    nothing; without payers they are used."""
    from tests.conftest import variant

    plain = scenarios.load(scenarios.bundled("baseline"))
    assert scenarios.warnings(plain) == []
    raised = scenarios.apply_overrides(plain, ["finance.iop_per_diem=600"])
    said = [w for w in scenarios.warnings(raised) if w.startswith("finance.")]
    assert len(said) == 1 and said[0].startswith("finance.iop_per_diem = 600: paid by no client")
    assert "commercial 300, medicaid 192.83, medicare 260" in said[0]
    assert "payers.<name>.iop_per_diem" in said[0]
    for key in ("finance.op_session_rate", "finance.billable_day.min_hours"):
        assert "every client pays by their payer's" in scenarios.why_unused(plain, key)
    assert scenarios.why_unused(plain, "finance.room_cost_per_week") is None
    changed = scenarios.unused_change_warnings(
        plain, ["finance.op_session_rate", "referrals.per_week"]
    )
    assert len(changed) == 1 and changed[0].startswith(
        "finance.op_session_rate: changing it changes no number"
    )
    alone = variant("payers=[]")  # one payer: the finance table's rates are the clinic's
    assert scenarios.why_unused(alone, "finance.iop_per_diem") is None
    assert scenarios.unused_change_warnings(alone, ["finance.iop_per_diem"]) == []
    no_family = variant("iop.family_session_interval_weeks=0")
    assert "no family session is held" in scenarios.why_unused(
        no_family, "iop.family_session_hours"
    )
    no_medication = variant("iop.medication_share=0")
    assert "no client has medication reviews" in scenarios.why_unused(
        no_medication, "iop.medication_review_hours"
    )
    assert scenarios.why_unused(no_medication, "iop.medication_first_hours") is None
    mmc = scenarios.load("scenarios/verification/mmc.toml")  # (no intake)
    assert "no assessment" in scenarios.why_unused(mmc, "intake.lost_share")
    assert scenarios.why_unused(mmc, "intake.enabled") is None


def test_attendance_of_one_needs_clients_alike_and_says_how():
    """Everyone always comes (attendance 1) leaves no room for clients to differ: the
    baseline's spread is refused with the fix, and an sd of 0 reads as clients alike."""
    plain = scenarios.load(scenarios.bundled("baseline"))
    with pytest.raises(ScenarioError) as info:
        scenarios.apply_overrides(plain, ["iop.attendance=1"])
    assert "iop.attendance_sd = 0.15: with attendance 1 every client comes alike" in str(info.value)
    assert "set iop.attendance_sd = 0" in str(info.value)
    alike = scenarios.apply_overrides(plain, ["iop.attendance=1", "iop.attendance_sd=0"])
    assert alike.iop.attendance_sd is None
    with pytest.raises(ScenarioError, match="sd between clients must be under 0.099"):
        scenarios.apply_overrides(plain, ["iop.attendance=0.99"])


def test_sessions_owed_without_anyone_to_hold_them_are_refused():
    """Individual and family sessions need primary therapists, medication a prescriber: a
    scenario that owes them without naming the pools would silently hold none."""
    from tests.conftest import variant

    with pytest.raises(ScenarioError) as info:
        variant("iop.therapist_pools=[]", "step_down.share=0", "iop.prescriber_pools=[]")
    said = " ".join(info.value.problems)
    assert "iop.therapist_pools: none named, but iop.individual_sessions_per_week = 1" in said
    assert "iop.family_session_interval_weeks = 4" in said
    assert "iop.prescriber_pools: none named, but iop.medication_share is" in said
    data = scenarios.to_data(baseline())
    data["iop"].update(
        therapist_pools=[],
        prescriber_pools=[],
        individual_sessions_per_week=0,
        family_session_interval_weeks=0,
        medication_share=0,
    )
    said = " ".join(scenarios.problems(data))
    assert "none named" not in said  # nothing owed: no pool needed


def test_a_session_longer_than_every_shift_that_could_hold_it_is_refused():
    """An intake clinician rostered an hour at a time can never give a 1.5-hour assessment:
    the clients would wait for it to the end of the run, seen only as a growing queue."""
    from tests.conftest import variant

    one_hour = 'staff.intake.roster=[{days = ["mon", "wed"], start = "09:00", end = "10:00"}]'
    with pytest.raises(ScenarioError) as info:
        variant(one_hour, "intake.assessment_hours=1.5")
    (said,) = [p for p in info.value.problems if p.startswith("intake.assessment_hours")]
    assert "lasts 1.5 h" in said and "longest shift in intake is 1 h" in said
    variant(one_hour, "intake.assessment_hours=1.0")  # fits the hour exactly
    unbounded = 'intake.assessment_hours={dist = "exponential", mean = 0.5}'
    with pytest.raises(ScenarioError, match="intake.assessment_hours: has no upper bound"):
        variant(unbounded)
    variant(unbounded, 'staff.intake.roster="always"')  # never stops: any length fits
    variant('intake.assessment_hours={dist = "exponential", mean = 0.5, max = 3}')
    with pytest.raises(ScenarioError, match="iop.medication_first_hours: lasts 3 h"):
        variant(
            "iop.medication_first_hours=3",
            'staff.prescribers.roster=[{days = ["tue"], start = "09:00", end = "11:00"}]',
        )


def test_a_session_needing_an_office_must_fit_while_one_is_open():
    """Where intakes need an office, the assessment must fit in a shift while one is open."""
    from tests.conftest import variant

    mornings = '{days = ["mon", "thu"], start = "08:00", end = "10:00"}'
    office = f'offices=[{{name = "Office", available = [{mornings}], used_for = ["intake"]}}]'
    with pytest.raises(ScenarioError) as info:
        variant(office)  # the intake clinician works 09:00-15:00: one hour with the office
    (said,) = [p for p in info.value.problems if p.startswith("intake.assessment_hours")]
    assert "while an office for intake sessions is open is 1 h" in said
    variant(office.replace('"10:00"', '"11:00"'))  # two hours together: a 2-hour assessment fits


def test_the_longest_shift_runs_on_across_midnight_and_the_week():
    from simulation.config.calendar import StaffShift, longest_shift

    def shift(days, start, end):
        return StaffShift(days=days, start=start, end=end)

    assert longest_shift([shift(["mon", "tue"], "09:00", "17:00")]) == 8
    assert longest_shift([shift(["mon"], "20:00", "24:00"), shift(["tue"], "00:00", "06:00")]) == 10
    across_sunday = [shift(["sun"], "18:00", "24:00"), shift(["mon"], "00:00", "03:00")]
    assert longest_shift(across_sunday) == 9
    assert longest_shift("always") == float("inf")
