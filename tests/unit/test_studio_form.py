"""The studio's form: a scenario as fields, and the fields back as the command line's changes
(checked and worded as --set is)."""

from __future__ import annotations

import threading

import pytest

from simulation import config
from simulation.studio import form
from simulation.studio.jobs import Jobs


def _values(fields):
    return {f.key: f.value for f in fields}


def test_the_form_has_the_run_referrals_tracks_pools_and_levels():
    sc = config.load(config.bundled("continuum"))
    keys = {f.key for f in form.fields(sc)}
    assert {"replications", "referrals.per_week", "tracks.evening.seats"} <= keys
    assert "staff.therapists.count" in keys and "staff.therapists.roster" in keys
    assert any(k.startswith("levels.") and k.endswith(".places") for k in keys)
    named = [p for p, pool in sc.staff.items() if pool.members]
    assert named and all(f"staff.{p}.count" not in keys for p in named)  # named people


def test_a_networks_form_has_its_regions_and_a_changed_share_is_checked():
    sc = config.load(config.bundled("network"))
    fields = form.fields(sc)
    keys = {f.key for f in fields}
    regions = [r.name for r in sc.network.regions]
    assert {f"network.regions.{r}.share" for r in regions} <= keys
    assert {f"network.regions.{r}.growth" for r in regions} <= keys
    values = _values(fields)
    values[f"network.regions.{regions[0]}.growth"] = "1.5"
    grown = form.changed(sc, fields, values)
    assert {r.name: r.growth for r in grown.network.regions}[regions[0]] == 1.5
    values[f"network.regions.{regions[0]}.share"] = "0.99"  # the shares no longer add up
    with pytest.raises(config.ScenarioError, match="shares add up"):
        form.changed(sc, fields, values)


def test_an_untouched_form_changes_nothing():
    sc = config.load(config.bundled("baseline"))
    fields = form.fields(sc)
    assert form.changes(fields, _values(fields)) == []
    assert form.changed(sc, fields, _values(fields)) == sc


def test_changed_fields_become_set_changes_with_toml_values():
    sc = config.load(config.bundled("baseline"))
    fields = form.fields(sc)
    values = _values(fields)
    values["tracks.evening.seats"] = "10"
    values["tracks.morning.days"] = "Mon, wed,Fri"
    values["tracks.evening.start"] = "18:00"
    wanted = form.changes(fields, values, "staff.intake.count=2\n\n")
    assert wanted == [
        'tracks.morning.days=["mon", "wed", "fri"]',
        "tracks.evening.seats=10",
        'tracks.evening.start="18:00"',
        "staff.intake.count=2",
    ]
    new = form.changed(sc, fields, values, "staff.intake.count=2")
    tracks = {t.name: t for t in new.tracks}
    assert tracks["evening"].seats == 10 and tracks["morning"].days == ["mon", "wed", "fri"]
    assert new.staff["intake"].count == 2


def test_a_changed_roster_is_read_as_toml():
    sc = config.load(config.bundled("baseline"))
    fields = form.fields(sc)
    values = _values(fields)
    values["staff.intake.roster"] = '[{ days = ["mon"], start = "09:00", end = "17:00" }]'
    new = form.changed(sc, fields, values)
    assert new.staff["intake"].rostered_hours == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("tracks.evening.seats", "-3", "tracks.evening.seats = -3"),
        ("referrals.per_week", "many", "referrals.per_week"),
        ("tracks.evening.start", "25:99", "tracks.evening.start"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field_and_the_value(key, value, named):
    sc = config.load(config.bundled("baseline"))
    fields = form.fields(sc)
    with pytest.raises(config.ScenarioError) as caught:
        form.changed(sc, fields, {**_values(fields), key: value})
    assert named in str(caught.value)


def test_an_extra_line_without_equals_is_refused():
    sc = config.load(config.bundled("baseline"))
    fields = form.fields(sc)
    with pytest.raises(config.ScenarioError, match="KEY=VALUE"):
        form.changed(sc, fields, _values(fields), "staff.intake.count")


def test_jobs_run_in_the_background_and_a_problem_is_kept_not_raised():
    jobs = Jobs(keep=2)
    gate = threading.Event()

    def slow(job):
        job.progress(1, 2)
        gate.wait(5)
        return "done"

    def broken(job):
        raise config.ScenarioError(["staff.x.count = -1: too few"])

    first = jobs.start("run", slow)
    assert jobs.get(first).finished is False  # start returns at once
    gate.set()
    second = jobs.start("run", broken)
    jobs._pool.submit(lambda: None).result(5)  # jobs run one at a time: both are done now
    assert jobs.get(first).result == "done"
    assert jobs.get(second).problem == "staff.x.count = -1: too few"
    assert jobs.get("not a job") is None


def test_old_finished_jobs_are_forgotten():
    jobs = Jobs(keep=2)
    ids = [jobs.start("run", lambda job: None) for _ in range(5)]
    jobs._pool.submit(lambda: None).result(5)
    jobs.start("run", lambda job: None)
    assert jobs.get(ids[0]) is None and jobs.get(ids[-1]) is not None


def test_a_studio_or_notebook_run_says_what_a_command_line_run_says_of_the_scenario(tmp_path):
    """A planner who takes the salaries out in the studio (or an analyst in a notebook) is told,
    beside the margin, as `iopsim run` tells them (the scenario's warnings lead the notes)."""
    from types import SimpleNamespace

    from simulation.brief import run_brief
    from simulation.studio import app

    sc = config.apply_overrides(
        config.load(config.bundled("baseline")),
        ["staff.intake.annual_cost=0", "warmup_weeks=2", "horizon_weeks=6", "replications=2"],
    )
    job = SimpleNamespace(progress=lambda *args: None, extra={})
    result = app._run(sc, tmp_path, 1, job)["result"]
    assert result.notes[: len(config.warnings(sc))] == config.warnings(sc)
    money = dict(run_brief(result.summary, [], result.notes))["Money"]
    assert any(line.startswith("staff.intake.annual_cost: not set (0)") for line in money)
    from simulation import api

    assert api.run(sc, replications=2).notes[: len(config.warnings(sc))] == config.warnings(sc)
