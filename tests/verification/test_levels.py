"""Levels of care reproduce queueing networks: three levels with feedback are an open Jackson
network (each level M/M/infinity with unlimited places, M/M/c with c places); blocking and the
pressure between levels go the way they must (common random numbers: one seed, one change).

Statistical checks use the verification suite's rule (test_queueing_theory.py): the formula
inside the 99.9% Student-t interval of 10 replication means, widened by 2% of the formula's
value for the bias of a finite warm-up.
"""

from __future__ import annotations

import datetime as dt

import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment
from tests.conftest import baseline
from tests.verification.test_queueing_theory import REPLICATIONS, assert_agrees
from tests.verification.theory import erlang_a, mmc

JACKSON = scenarios.load("scenarios/verification/jackson.toml")


def _traffic(sc) -> dict[str, float]:
    """Each level's throughput a day from the traffic equations (solved by iteration: the
    routing matrix has spectral radius below 1)."""
    gamma = {level.name: 0.0 for level in sc.levels}
    gamma["a"] = sc.referrals.per_week / 7
    lam = dict(gamma)
    for _ in range(500):
        lam = {
            name: gamma[name]
            + sum(
                lam[other.name] * route.share
                for other in sc.levels
                for route in other.routes
                if route.to == name
            )
            for name in gamma
        }
    return lam


def _mean_stay(sc, name: str) -> float:
    return next(level for level in sc.levels if level.name == name).stay_days.mean


def test_three_levels_with_feedback_are_a_jackson_network():
    result = run_experiment(JACKSON, replications=REPLICATIONS, workers=2)
    lam = _traffic(JACKSON)
    assert lam["a"] == pytest.approx(2 / (1 - 0.25 * 0.5 * 0.7))  # (the feedback raises it)
    for name in ("a", "b", "c"):
        k = result.kpis
        assert_agrees(
            f"throughput of {name} a week",
            k[f"level_admissions_per_week[level={name}]"],
            7 * lam[name],
        )
        # places unlimited: M/M/infinity, the mean in care is lambda / mu
        assert_agrees(
            f"mean in care at {name}",
            k[f"level_census_mean[level={name}]"],
            lam[name] * _mean_stay(JACKSON, name),
        )
        assert (k[f"level_waitlist_mean[level={name}]"] == 0).all()


def test_a_level_with_few_places_is_an_mmc_station_of_the_network():
    sc = scenarios.apply_overrides(JACKSON, ["levels.b.places=9"])
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    lam = _traffic(sc)
    theory = mmc(lam["b"], 1 / _mean_stay(sc, "b"), 9)  # load 0.85
    k = result.kpis
    assert_agrees("queue at b", k["level_waitlist_mean[level=b]"], theory["lq"])
    assert_agrees("wait at b (days)", k["level_wait_days_mean[level=b]"], theory["wq"])
    assert_agrees("in care at b", k["level_census_mean[level=b]"], theory["in_service"])
    # Jackson: the levels downstream still see Poisson arrivals at the same rate
    assert_agrees("in care at c", k["level_census_mean[level=c]"], lam["c"] * _mean_stay(sc, "c"))
    # busy (load 0.85) but stable: its queue settles and is not called overloaded
    assert not any(note.startswith("OVERLOADED") for note in result.notes)


def test_a_level_with_too_few_places_grows_as_the_fluid_limit_says_and_is_said_overloaded():
    """Load 1.25 at b (6 places): every place stays taken, so b discharges c * mu a day and its
    queue grows by what arrives beyond that. b's discharges are then capped, so the feedback
    through c brings fewer back to a than the traffic equations of a stable network say."""
    places = 6
    sc = scenarios.apply_overrides(JACKSON, [f"levels.b.places={places}", "horizon_weeks=60"])
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    mu_b = 1 / _mean_stay(sc, "b")
    into_a = sc.referrals.per_week / 7 + 0.5 * 0.25 * places * mu_b  # (b -> c -> a)
    growth = 7 * (0.7 * into_a - places * mu_b)  # clients a week
    assert growth > 2
    assert_agrees(
        "growth of the queue at b a week",
        result.kpis["level_waitlist_growth_per_week[level=b]"],
        growth,
    )
    overloaded = [note for note in result.notes if note.startswith("OVERLOADED")]
    assert len(overloaded) == 1 and "waitlist for level b grows" in overloaded[0]


def test_a_full_level_whose_waiting_clients_give_up_is_erlang_a():
    """Referrals straight to level a (Poisson, 2 a day), 5 places, exponential stays (mean 3
    days: load 1.2, a queue without end were nobody to give up) and exponential patience
    (mean 1 day) out of care: an M/M/5+M queue. Its waitlist, the share who give up and the
    places held are the birth-death solution's, and the run says the losses absorb the
    demand instead of calling the level overloaded."""
    sc = scenarios.apply_overrides(
        JACKSON,
        [
            "levels.a.routes=[]",
            "levels.a.places=5",
            'levels.a.patience_days={dist="exponential", mean=1.0}',
            "horizon_weeks=100",
        ],
    )
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    theory = erlang_a(2.0, 1 / 3.0, 1.0, servers=5)
    k = result.kpis
    assert_agrees("waiting for a place at a", k["level_waitlist_mean[level=a]"], theory["lq"])
    assert_agrees("gave up at a", k["level_gave_up_share[level=a]"], theory["p_abandon"])
    assert_agrees("places held at a", k["level_census_mean[level=a]"], theory["in_service"])
    assert not any(note.startswith("OVERLOADED") for note in result.notes)
    absorbed = [n for n in result.notes if n.startswith("DEMAND ABSORBED BY LOSSES AT LEVEL a")]
    assert len(absorbed) == 1
    # those who gave up never held a place and left the clinic's books as lost
    visits, clients = result.tables["level_visits"], result.tables["clients"]
    gave_up = visits[visits["gave_up"].notna()]
    assert len(gave_up) and gave_up["admitted"].isna().all()
    assert (gave_up["gave_up"] == gave_up["left"]).all()
    status = clients.set_index(["replication", "id"])["status"]
    assert (
        status[list(zip(gave_up["replication"], gave_up["client_id"], strict=True))] == "lost"
    ).all()


def test_a_level_whose_waitlist_climbs_though_many_give_up_is_overloaded_not_absorbed():
    """Two places for 2 referrals a day (stays of 3 days) and patience of 200 days: half give
    up, yet the waitlist climbs for months before their losses could hold it: OVERLOADED,
    not said to be held level by them."""
    sc = scenarios.apply_overrides(
        JACKSON,
        [
            "levels.a.routes=[]",
            "levels.a.places=2",
            'levels.a.patience_days={dist="exponential", mean=200.0}',
            "horizon_weeks=40",
            "warmup_weeks=4",
        ],
    )
    result = run_experiment(sc, replications=3, workers=1)
    assert (result.kpis["level_gave_up_share[level=a]"] > 0.3).all()
    assert any(n.startswith("OVERLOADED: the waitlist for level a") for n in result.notes)
    assert not any(n.startswith("DEMAND ABSORBED BY LOSSES AT LEVEL") for n in result.notes)


def test_a_states_clients_waiting_for_a_level_give_up_after_the_rest_of_their_patience():
    """A state's clients who have waited 8 days for a place at a (one place, stays of a
    year: nobody is placed), patience lognormal with mean 10 days and sd 1: given the 8
    days already waited, they give up about 2 days in, as the state's IOP waitlist clients
    get the rest of theirs; with fresh patience they would wait about 10 more."""
    data = scenarios.to_data(JACKSON)
    level = next(level for level in data["levels"] if level["name"] == "a")
    level.update(
        places=1,
        routes=[],
        stay_days={"dist": "fixed", "value": 365.0},
        patience_days={"dist": "lognormal", "mean": 10.0, "sd": 1.0},
    )
    day = dt.date(2027, 3, 1)
    data.update(
        start_date=day,
        warmup_weeks=0,
        horizon_weeks=4,
        referrals={**data["referrals"], "per_week": 0.0},
        state={
            "as_of": day,
            "clients": [{"stage": "a", "since": day - dt.timedelta(days=1)}]
            + [{"stage": "a_waitlist", "since": day - dt.timedelta(days=8)}] * 20,
        },
    )
    sc = scenarios.validate(data, "a state waiting at a")
    visits = run_experiment(sc, replications=2, workers=1).tables["level_visits"]
    waited = visits[visits["gave_up"].notna()]
    assert len(waited) == 40  # every one, in both replications
    days = (waited["gave_up"] - waited["queued"]) / 24.0
    # (the rest of a lognormal(10, 1) beyond 8 days: about 2.3 days, nearly all under 5)
    assert days.median() < 4.0 and days.max() < 8.0


def _blocked_days(places: int) -> float:
    sc = scenarios.apply_overrides(
        JACKSON,
        [
            "levels.a.when_full=stay",
            f"levels.b.places={places}",
            "levels.b.routes=[]",  # a tandem: a then b, then out
            "horizon_weeks=60",
        ],
    )
    result = run_experiment(sc, replications=4, workers=2)
    return float(result.kpis["level_blocked_days_per_week[level=a]"].mean())


def test_a_smaller_next_level_blocks_more_days_where_clients_wait_to_go_on():
    # direction only: fewer places at b, more place-days at a held by clients ready for b
    blocked = [_blocked_days(places) for places in (12, 9, 7)]
    assert blocked[0] < blocked[1] < blocked[2], blocked
    assert blocked[2] > 1.0  # (the smallest b is short of its 7.67 in care: real blocking)


PHP = [
    'levels=[{name = "php", places = 4, stay_days = {dist = "exponential", mean = 10}, '
    'routes = [{to = "iop", share = 0.9}]}]',
    'intake.higher_care_to="php"',
    "intake.outcomes.iop=0.6",
    "intake.outcomes.higher_care=0.3",
    "intake.outcomes.outpatient=0.1",
    "referrals.per_week=9",
    "horizon_weeks=60",
]


def _run(*overrides: str):
    sc = scenarios.apply_overrides(baseline(), [*PHP, *overrides])
    return run_experiment(sc, replications=4, workers=2).kpis


def test_more_php_places_move_pressure_onto_the_iop():
    """Opening PHP places puts more clients through PHP, who then step down to the IOP: the
    IOP's waitlist grows (Pierotti et al. 2024: capacity in one service moves pressure)."""
    few, more = _run("levels.php.places=2"), _run("levels.php.places=12")
    assert (
        more["level_admissions_per_week[level=php]"].mean()
        > few["level_admissions_per_week[level=php]"].mean()
    )
    assert more["iop_waitlist_mean"].mean() > few["iop_waitlist_mean"].mean()


def test_fewer_iop_seats_raise_php_blocked_days():
    full, fewer = _run(), _run("tracks.morning.seats=5", "tracks.evening.seats=5")
    assert (
        fewer["level_blocked_days_per_week[level=php]"].mean()
        > full["level_blocked_days_per_week[level=php]"].mean()
    )


def test_level_monitors_agree_with_the_stays_recorded():
    """Places held, waiting and blocked, time-weighted by the monitors, are what the visit
    table's admissions, departures and readiness add up to (a Little's-law bookkeeping check)."""
    import numpy as np

    from simulation.model.levels import BLOCKED, CENSUS, WAITING
    from simulation.results.levels import visit_table
    from tests import invariants

    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("continuum")), ["warmup_weeks=4", "horizon_weeks=30"]
    )
    model = invariants.simulate(sc)
    end = model.end
    visits = visit_table(model.recorder)
    php = visits[visits["level"] == "php"]

    def spent(start, stop) -> float:
        s = np.nan_to_num(start.to_numpy(float), nan=end)
        e = np.nan_to_num(stop.to_numpy(float), nan=end)
        return float(np.sum(np.clip(e, 0, end) - np.clip(s, 0, end))) / end

    def monitored(prefix: str) -> float:
        return float(model.recorder.monitors[prefix + "php"].bin_means(np.array([0.0, end]))[0])

    blocked = php[php["to"].isin(["iop"]) & (php["left"].isna() | (php["left"] > php["ready"]))]
    assert spent(php["admitted"], php["left"]) == pytest.approx(monitored(CENSUS), rel=1e-9)
    assert spent(php["queued"], php["admitted"]) == pytest.approx(monitored(WAITING), rel=1e-9)
    assert spent(blocked["ready"], blocked["left"]) == pytest.approx(monitored(BLOCKED), rel=1e-9)
    assert monitored(BLOCKED) > 0  # (the continuum blocks: the check is not of zeros)


def test_referral_to_care_is_the_wait_at_the_first_level():
    """Level a with 8 places, first come first served (feedback included): the wait from
    referral to the first day of care is M/M/8's Wq with a's Jackson throughput."""
    sc = scenarios.apply_overrides(JACKSON, ["levels.a.places=8", "levels.a.transfers_first=false"])
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    lam = _traffic(sc)
    theory = mmc(lam["a"], 1 / _mean_stay(sc, "a"), 8)  # load 0.82
    assert_agrees(
        "referral to care (days)", result.kpis["referral_to_care_days_mean"], theory["wq"]
    )
    assert_agrees("wait at a (days)", result.kpis["level_wait_days_mean[level=a]"], theory["wq"])
