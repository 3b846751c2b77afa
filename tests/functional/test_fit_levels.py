"""A continuum's records fit its levels of care: an extract with a level column (one row per
stay at a level, the next care in discharged_to) gives each level's stay, routes onward and
places; the IOP's values come from its own rows alone; a state on a date holds the clients at
each level."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation import config as scenarios
from simulation.data.extract import read_episodes
from simulation.data.synth import synthesize
from simulation.fit import clinic as fitting

# the continuum without blocking (clients ready to go on leave their place at once), so that
# a stay in the records is the stay drawn: admission to ready
TRUTH = ["levels.php.when_full=wait_outside"]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    truth = scenarios.apply_overrides(scenarios.load(scenarios.bundled("continuum")), TRUTH)
    table, _ = synthesize(truth, 3.0, 4)
    path = tmp_path_factory.mktemp("continuum") / "extract.csv"
    table.to_csv(path, index=False)
    return truth, path


def covers(evidence, truth: float) -> bool:
    """The fit's 95% interval, widened to 99.9% (3.29 / 1.96 of its half-width), holds the
    truth: a test of several intervals at once that fails by chance 1 time in 1,000 each."""
    middle, half = (evidence.low + evidence.high) / 2, (evidence.high - evidence.low) / 2
    return abs(truth - middle) <= half * 3.29 / 1.96


def test_a_levels_stay_routes_and_places_come_from_its_rows(records):
    truth, path = records
    episodes = read_episodes(path)
    template = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("continuum")),
        [
            "levels.php.places=30",
            "levels.php.stay_days=4",
            'levels.php.routes=[{to = "iop", share = 0.8}]',
            *TRUTH,  # (its rule for those ready to go on: the records' stays are whole stays)
        ],
    )
    fitted, result, _ = fitting.fitted_scenario(episodes, template, with_state=False)
    php = next(level for level in fitted.levels if level.name == "php")
    evidence = {e.key: e for e in result.evidence}
    stay = evidence["levels.php.stay_days"]
    true_mean = truth.levels[0].stay_days.mean  # 10 days (lognormal, truncated to 1-60)
    assert covers(stay, true_mean)
    share = evidence["levels.php.routes.iop.share"]
    assert covers(share, 0.25)
    # exits by reason from the discharge reasons: dropouts (with their own, shorter stays)
    # and step-ups to inpatient care, each a route out of care
    dropouts = next(r for r in truth.levels[0].routes if r.reason == "dropped_out")
    share = evidence["levels.php.routes.dropped_out.share"]
    assert covers(share, dropouts.share)
    short = evidence["levels.php.routes.dropped_out.stay_days"]
    assert covers(short, dropouts.stay_days.mean)
    assert short.high < stay.low
    share = evidence["levels.php.routes.stepped_up.share"]
    assert covers(share, 0.10)
    assert {(r.to, r.reason) for r in php.routes} == {
        ("iop", "completed"),
        ("discharge", "dropped_out"),
        ("discharge", "stepped_up"),
    }
    assert 9 <= php.places <= 12  # the most in care at once: at or under the true 12
    # what the template says of the level beyond the records stays (its gap, its money)
    assert php.routes[0].lead_days == template.levels[0].routes[0].lead_days
    assert php.per_diem == template.levels[0].per_diem
    # the IOP's stays come from its own rows: the PHP's shorter stays do not shorten them
    iop_only = read_episodes(path)
    iop_only.table = iop_only.table[iop_only.table["level"] == "iop"].reset_index(drop=True)
    alone, _, _ = fitting.fitted_scenario(iop_only, template, with_state=False)
    assert fitted.iop.length_of_stay_days == alone.iop.length_of_stay_days


def test_a_source_sent_straight_to_a_level_is_fitted_from_that_levels_rows(records):
    """The continuum's inpatient step-downs (40% of 14.4 referrals a week) go straight to the
    PHP: their referrals are the PHP's rows, and their IOP rows are clients who came on from
    the PHP. Fitted from the IOP's rows alone, the rate lost them and a forecast's PHP emptied
    (9 clients to none in 13 weeks): no new client was ever sent to it."""
    truth, path = records
    fitted, result, _ = fitting.fitted_scenario(read_episodes(path), truth, with_state=False)
    evidence = {e.key: e for e in result.evidence}
    assert covers(evidence["referrals.per_week"], truth.referrals.per_week)
    for source in truth.referrals.sources:
        assert covers(evidence[f"referrals.sources.{source.name}.share"], source.share)
    sent = {s.name: s.level for s in fitted.referrals.sources}
    assert sent == {s.name: s.level for s in truth.referrals.sources}  # (php for inpatient)


def test_a_source_the_template_lacks_whose_rows_are_a_levels_stays_refers_straight_there(
    records, tmp_path
):
    """A continuum's records fitted with the baseline's template (no PHP, no inpatient
    step-downs): the inpatient step-downs were read as referrals through intake, the fitted
    PHP was sent nobody, and the IOP lost the clients stepping down from it. Now the source
    refers to the PHP as its rows show, and the rate counts its referrals there."""
    truth, path = records
    template = scenarios.load(scenarios.bundled("baseline"))
    fitted, result, _ = fitting.fitted_scenario(read_episodes(path), template, with_state=False)
    sent = {s.name: s.level for s in fitted.referrals.sources}
    assert sent["inpatient step-down"] == "php" and sent["community"] == "iop"
    evidence = {e.key: e for e in result.evidence}
    assert covers(evidence["referrals.per_week"], truth.referrals.per_week)
    said = [n for n in result.notes if n.startswith("Referral source 'inpatient step-down'")]
    assert len(said) == 1 and "read as referring straight there" in said[0]
    assert not any("nothing sends clients to it" in n for n in result.notes)
    # a level only intake or the IOP sends clients to, which the template does not name: said
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["source"] = table["source"].replace({"inpatient step-down": "community"})
    table.to_csv(tmp_path / "no_direct.csv", index=False)
    _, unsent, _ = fitting.fitted_scenario(
        read_episodes(tmp_path / "no_direct.csv"), template, with_state=False
    )
    assert any(n.startswith("Level php: nothing sends clients to it") for n in unsent.notes)


def test_drawing_the_fitted_values_draws_each_levels_stay_and_routes(records):
    """A back-test draws each replication's fitted values from their intervals: a level's
    stay and its routes' shares too (it stopped with a traceback: the levels are a list, not a
    table). Each draw stays a valid clinic (routes add up to at most 1)."""
    from simulation.fit.uncertainty import scenario_draws

    truth, path = records
    fitted, result, _ = fitting.fitted_scenario(read_episodes(path), truth, with_state=False)
    draws = scenario_draws(fitted, result.evidence, 6, fitted.seed)
    stays = {d.levels[0].stay_days.mean for d in draws}
    onward = {next(r.share for r in d.levels[0].routes if r.to == "iop") for d in draws}
    assert len(stays) == 6 and len(onward) == 6  # (each draw its own)
    evidence = {e.key: e for e in result.evidence}
    stay = evidence["levels.php.stay_days"]
    width = stay.high - stay.low
    assert all(stay.low - 2 * width < s < stay.high + 2 * width for s in stays)
    assert all(sum(r.share for r in d.levels[0].routes) <= 1 for d in draws)


def test_a_state_holds_the_clients_at_each_level(records):
    _, path = records
    episodes = read_episodes(path)
    day = episodes.as_of - pd.Timedelta(days=90)
    rows = episodes.table
    at_php = rows[
        (rows["level"] == "php")
        & (rows["iop_start_date"] < day)  # (as the extract was on that day: dates before it)
        & (rows["iop_end_date"].isna() | (rows["iop_end_date"] >= day))
    ]
    from simulation.data.extract import as_seen_on

    fitted, _, _ = fitting.fitted_scenario(
        as_seen_on(episodes, day), scenarios.load(scenarios.bundled("continuum")), with_state=True
    )
    stages = [c.stage for c in fitted.state.clients]
    assert stages.count("php") == len(at_php) > 0
    # nobody placed at the PHP without intake is taken for someone waiting for intake
    waiting = [c for c in fitted.state.clients if c.stage == "intake_waitlist"]
    assert all(c.source != "inpatient step-down" for c in waiting)


def test_an_unknown_next_care_is_counted_as_leaving_care_and_said(records, tmp_path):
    _, path = records
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = table.index[(table["level"] == "php") & (table["discharged_to"] == "")][:5]
    table.loc[rows, "discharged_to"] = "residential"
    table.to_csv(tmp_path / "x.csv", index=False)
    _, result, _ = fitting.fitted_scenario(
        read_episodes(tmp_path / "x.csv"),
        scenarios.load(scenarios.bundled("continuum")),
        with_state=False,
    )
    assert any("discharged_to names residential" in note for note in result.notes)


def _renamed(path, tmp_path, spell) -> object:
    """The records with every source, track, level and next care spelt by ``spell``."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("source", "track", "level", "discharged_to"):
        table[column] = table[column].map(lambda v: spell(v) if v else v)
    table.to_csv(tmp_path / "spelt.csv", index=False)
    return read_episodes(tmp_path / "spelt.csv")


@pytest.mark.parametrize(
    "spell",
    [str.upper, lambda v: " " + v.title().replace(" ", "_") + " "],
    ids=["capitals", "title-case-underscores"],
)
def test_names_spelt_otherwise_are_the_templates_own(records, tmp_path, spell):
    """An export that writes 'INPATIENT STEP-DOWN', 'PHP' and 'MORNING' means the template's
    names: the fit is the same as from the names as the template spells them, and says what it
    read so. Read as new names, the inpatient step-downs lost their level (the fitted rate
    9.4 a week against 14.4: the PHP's own referrals gone) and community referrals their
    place behind step-downs (priority 1 for every source), without a word."""
    truth, path = records
    as_spelt = fitting.fitted_scenario(read_episodes(path), truth, with_state=False)
    otherwise = fitting.fitted_scenario(_renamed(path, tmp_path, spell), truth, with_state=False)
    assert otherwise[0] == as_spelt[0]
    note = otherwise[1].notes[0]
    assert "read as the scenario's" in note and "as 'inpatient step-down'" in note
    assert "as 'php'" in note and not any("read as the scenario" in n for n in as_spelt[1].notes)


def test_a_source_the_template_does_not_name_is_said(records, tmp_path):
    """A source the template has no name for is fitted as one of its own, first in the queue:
    the fit says so, with how to map it."""
    truth, path = records
    episodes = _renamed(path, tmp_path, lambda v: "self" if v == "community" else v)
    fitted, result, _ = fitting.fitted_scenario(episodes, truth, with_state=False)
    assert {s.name: s.priority for s in fitted.referrals.sources}["self"] == 1
    said = [n for n in result.notes if "'self'" in n]
    assert len(said) == 1 and "[values.source]" in said[0]
    assert not any("is not one of the template's" in n for n in result.notes if n not in said)


def test_back_tests_and_judged_forecasts_read_the_records_names_as_the_scenarios(
    records, tmp_path, capsys
):
    """What a back-test or `judge` observed is counted with the scenario's names too: the
    PHP's direct referrals are told by their source's name (read as a new name, a third of
    the observed referrals went missing)."""
    from simulation.cli.data import ExtractOptions
    from simulation.data.state import direct_sources, weekly_observed

    truth, path = records
    _renamed(path, tmp_path, str.upper)
    options = ExtractOptions((), None, False, None, None, None)
    spelt, _ = options.read(tmp_path / "spelt.csv", named_as=truth)
    assert "read as the scenario's" in capsys.readouterr().err
    clean = read_episodes(path)
    day = clean.as_of - pd.Timedelta(weeks=30)
    monday = day - pd.Timedelta(days=day.weekday())
    direct = direct_sources(truth)
    pd.testing.assert_frame_equal(
        weekly_observed(spelt, monday, 26, direct), weekly_observed(clean, monday, 26, direct)
    )


def test_a_state_holds_those_waiting_for_a_levels_place_and_a_run_starts_with_them(tmp_path):
    """With the PHP cut to 9 places, 11 to 26 clients wait for a place on a given day. The
    state left them out, so a forecast's PHP started with nobody waiting (and its waitlist
    band, and every admission it holds up, began wrong)."""
    truth = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("continuum")), ["levels.php.places=9"]
    )
    table, _ = synthesize(truth, 2.0, 3)
    table.to_csv(tmp_path / "extract.csv", index=False)
    from simulation.data.extract import as_seen_on
    from simulation.data.state import state_on
    from simulation.experiment import run_experiment

    day = pd.Timestamp("2029-06-04")
    seen = as_seen_on(read_episodes(tmp_path / "extract.csv"), day)
    rows = seen.table
    queued = (
        (rows["level"] == "php")
        & (rows["referral_date"] <= day)
        & rows["iop_start_date"].isna()
        & rows["iop_end_date"].isna()
    )
    state = state_on(seen)
    waiting = [c for c in state["clients"] if c["stage"] == "php_waitlist"]
    assert len(waiting) == int(queued.sum()) > 10
    data = scenarios.to_data(truth)
    data.update(state=state, start_date=day.date(), warmup_weeks=0, horizon_weeks=2)
    start = scenarios.validate(data, "the clinic on that day")
    weekly = run_experiment(start, replications=2, workers=1, detail="forecast").tables["weekly"]
    first = weekly[weekly["week"] == 0]["level_waitlist[php]"].mean()
    # (a place frees every day or so: the first week's mean is a little under the count)
    assert 0.8 * len(waiting) <= first <= len(waiting)


PATIENT = ['levels.php.patience_days={dist="exponential", mean=10.0}', "referrals.per_week=20"]
"""The continuum with more referrals than the PHP's places take (about a day's wait, as a
week's gives the PHP's 12 places a queue) and referrals who give up waiting (10 days)."""


def test_a_levels_patience_comes_from_those_who_left_its_waitlist_without_a_place(tmp_path):
    """Referrals waiting for a PHP place out of care give up: the records' level rows that
    joined the waitlist and left it without a place (waitlist dates, no admission) give the
    patience, those placed or still waiting censored; the state on a day leaves out those who
    had given up by then."""
    from simulation.data.extract import as_seen_on
    from simulation.data.state import state_on

    truth = scenarios.apply_overrides(scenarios.load(scenarios.bundled("continuum")), PATIENT)
    table, _ = synthesize(truth, 3.0, 4)
    table.to_csv(tmp_path / "extract.csv", index=False)
    episodes = read_episodes(tmp_path / "extract.csv")
    gave_up = (table["level"] == "php") & (table["waitlist_exit_date"] != "")  # (dates as text)
    assert gave_up.sum() >= 50 and (table.loc[gave_up, "iop_start_date"] == "").all()
    template = scenarios.load(scenarios.bundled("continuum"))  # (no patience at the PHP)
    fitted, result, _ = fitting.fitted_scenario(episodes, template, with_state=False)
    evidence = {e.key: e for e in result.evidence}["levels.php.patience_days"]
    assert covers(evidence, 10.0), evidence
    assert fitted.levels[0].patience_days.dist == "exponential"
    # the state on a day: those still waiting for a place, not those who had given up
    day = pd.Timestamp("2029-06-04")
    seen = as_seen_on(episodes, day)
    rows = seen.table
    queued = (rows["level"] == "php") & rows["iop_start_date"].isna()
    left = queued & rows["waitlist_exit_date"].notna()
    assert left.sum() > 0
    state = state_on(seen)
    waiting = [c for c in state["clients"] if c["stage"] == "php_waitlist"]
    assert len(waiting) == int((queued & ~left).sum())


def test_records_where_nobody_left_a_levels_waitlist_keep_the_templates_patience(records):
    _, path = records
    template = scenarios.load(scenarios.bundled("continuum"))
    fitted, result, _ = fitting.fitted_scenario(read_episodes(path), template, with_state=False)
    assert fitted.levels[0].patience_days is None
    assert "levels.php.patience_days" not in {e.key for e in result.evidence}
    said = [n for n in result.notes if n.startswith("Level php: 0 of")]
    assert len(said) == 1 and "wait as long as it takes" in said[0]


@pytest.mark.parametrize("changes", [[], PATIENT], ids=["waiting", "giving up"])
def test_a_levels_places_and_waitlist_read_back_from_its_records_are_the_runs(tmp_path, changes):
    """Back-tests and judged forecasts of a continuum compare each level's places held and
    waiting list too: read from the records (a level's row from joining its queue to
    admission, then to leaving; counted at midday) they are the run's own recorded series,
    week by week. They compared the IOP's series only, so a forecast's PHP was never judged."""
    import datetime as dt

    import numpy as np

    from simulation import clock
    from simulation.data.state import weekly_observed
    from simulation.data.synth import extract_end
    from simulation.replication import run_replication

    sc = scenarios.apply_overrides(scenarios.load(scenarios.bundled("continuum")), changes)
    table, _ = synthesize(sc, 1.0, 4)
    table.to_csv(tmp_path / "extract.csv", index=False)
    episodes = read_episodes(tmp_path / "extract.csv", as_of=extract_end(sc, 1.0))
    weekly = run_replication(scenarios.apply_overrides(sc, ["horizon_weeks=52"]), 0, 4).weekly
    # (the records hold the stays begun after the warm-up: from 12 weeks on, every stay in
    # care or waiting began after it)
    first = sc.warmup_weeks + 12
    monday = clock.week_zero_monday(sc.start_date) + dt.timedelta(weeks=first)
    observed = weekly_observed(episodes, pd.Timestamp(monday), 30)
    run = weekly.set_index("week").loc[np.arange(30) + first]
    for series in ("level_census", "level_waitlist"):
        mine = run[f"{series}_recorded[php]"].to_numpy()
        assert mine.max() > 0  # (something to compare)
        np.testing.assert_allclose(observed[f"{series}[php]"].to_numpy(), mine, atol=1e-12)


def test_a_levels_stay_leaves_out_the_days_held_blocked(tmp_path):
    """In the continuum as it is (a client ready for the IOP with no seat keeps their PHP place,
    blocked), the records' stays going on to the IOP hold blocked days. Fitted from every stay
    the PHP's stay came out 11.7 days (95% CI 11.1 to 12.4) against the true 10, and the fitted
    clinic blocked those days again: a forecast's PHP waitlist climbed where the clinic's did
    not. Fitted from the stays that ended out of care (the same stay, never blocked), it covers
    the truth."""
    truth = scenarios.load(scenarios.bundled("continuum"))
    assert truth.levels[0].when_full == "stay"
    table, _ = synthesize(truth, 3.0, 4)
    table.to_csv(tmp_path / "extract.csv", index=False)
    _, result, _ = fitting.fitted_scenario(
        read_episodes(tmp_path / "extract.csv"), truth, with_state=False
    )
    stay = {e.key: e for e in result.evidence}["levels.php.stay_days"]
    assert covers(stay, truth.levels[0].stay_days.mean), stay
    assert "left out" in stay.method
