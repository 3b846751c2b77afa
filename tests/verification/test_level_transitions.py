"""How clients move between levels of care, against what theory says and what a clinic means:
step-ups on deterioration (a hazard competing with the end of the stay), relapse out of care on
the way on (a hazard competing with the gap or the wait), exits by reason with their own stays,
and a client stepping up from the IOP attended there until the higher place is theirs.

The theory checks use the Jackson network of ``scenarios/verification/jackson.toml`` (Poisson
referrals into level a, exponential stays, unlimited places): competing exponential hazards
split by their rates, and with unlimited places each level is an M/G/infinity station whose
mean number in care is its throughput times its mean stay, whatever the stays' shape."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment
from simulation.results.levels import visit_table
from tests import invariants
from tests.verification.test_levels import JACKSON, _mean_stay
from tests.verification.test_queueing_theory import REPLICATIONS, assert_agrees


def _traffic(sc, extra: dict[tuple[str, str], float]) -> dict[str, float]:
    """Throughput a day at each level from the traffic equations, with the routing shares of
    the scenario's routes scaled and added to by ``extra`` ({(from, to): share}); the routes
    of a level are scaled by ``extra[(name, "*")]`` when given (the share who finish the stay
    rather than leave by a hazard)."""
    share: dict[tuple[str, str], float] = {}
    for level in sc.levels:
        scale = extra.get((level.name, "*"), 1.0)
        for route in level.routes:
            share[(level.name, route.to)] = route.share * scale
    for key, value in extra.items():
        if key[1] != "*":
            share[key] = share.get(key, 0.0) + value
    names = [level.name for level in sc.levels]
    gamma = {name: 0.0 for name in names}
    gamma["a"] = sc.referrals.per_week / 7
    lam = dict(gamma)
    for _ in range(500):
        lam = {n: gamma[n] + sum(lam[m] * share.get((m, n), 0.0) for m in names) for n in names}
    return lam


def test_a_step_up_hazard_competes_with_the_end_of_the_stay():
    """Level a: stays exponential with mean 3 days (rate 1/3 a day) and deterioration at 0.25
    a day to level c. The share stepping up is 0.25 / (0.25 + 1/3), the stay ends at the
    first of the two (mean 1 / (0.25 + 1/3) days), and the network's traffic follows."""
    sc = scenarios.apply_overrides(JACKSON, ['levels.a.step_up={to = "c", per_week = 1.75}'])
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    k = result.kpis
    hazard, rate = 0.25, 1 / _mean_stay(sc, "a")
    up = hazard / (hazard + rate)
    lam = _traffic(sc, {("a", "*"): 1 - up, ("a", "c"): up})
    assert_agrees("share of a stepping up", k["level_stepped_up_share[level=a]"], up)
    assert_agrees("stay at a (days)", k["level_stay_days_mean[level=a]"], 1 / (hazard + rate))
    for name in ("a", "b", "c"):
        assert_agrees(
            f"throughput of {name} a week",
            k[f"level_admissions_per_week[level={name}]"],
            7 * lam[name],
        )
    assert_agrees("mean in care at a", k["level_census_mean[level=a]"], lam["a"] / (hazard + rate))


def _relapsing_to(level: str):
    """Level a's step to b after an exponential gap (mean 4 days) out of care, in which
    clients relapse to ``level`` at 0.25 a day: the scenario and its run."""
    sc = scenarios.apply_overrides(
        JACKSON,
        [
            'levels.a.routes=[{to = "b", share = 0.7, '
            'lead_days = {dist = "exponential", mean = 4.0}}]',
            f'levels.a.relapse={{to = "{level}", per_week = 1.75}}',
        ],
    )
    return sc, run_experiment(sc, replications=REPLICATIONS, workers=2)


def test_a_relapse_hazard_competes_with_the_gap_on_the_way_on():
    """Level a's step to b comes after a gap out of care, exponential with mean 4 days; out of
    care, clients relapse at 0.25 a day to level c. Half relapse (0.25 / (0.25 + 1/4)), and
    b and c see the traffic that follows."""
    sc, result = _relapsing_to("c")
    k = result.kpis
    relapse = 0.25 / (0.25 + 1 / 4)
    lam = _traffic(sc, {("a", "*"): 1.0, ("a", "b"): -0.7 * relapse, ("a", "c"): 0.7 * relapse})
    assert_agrees(
        "relapses from a a week",
        k["level_relapses_per_week[level=a]"],
        7 * lam["a"] * 0.7 * relapse,
    )
    for name in ("b", "c"):
        assert_agrees(
            f"throughput of {name} a week",
            k[f"level_admissions_per_week[level={name}]"],
            7 * lam[name],
        )


def test_readmissions_within_30_days_are_the_relapses_and_the_feedback_back_to_a_level():
    """Level a's step to b comes after an exponential gap (mean 4 days) in which clients
    relapse back to a at 0.25 a day: half of the 70% going to b come back to a, nearly all
    within 30 days (the relapse comes after 2 days on average); and of the other 35%, b's half
    to c and c's quarter back to a return within 30 days with probability P(b + c <= 30)
    (exponential stays of 5 and 2 days). Places are unlimited: readmitted at once."""
    _, result = _relapsing_to("a")
    relapse = 0.7 * 0.5 * (1 - np.exp(-0.5 * 30))
    b, c = 1 / 5, 1 / 2  # P(b + c <= 30) for exponential stays (hypoexponential)
    round_trip = 1 - (c * np.exp(-b * 30) - b * np.exp(-c * 30)) / (c - b)
    feedback = 0.7 * 0.5 * 0.5 * 0.25 * round_trip
    assert_agrees(
        "a's stays readmitted within 30 days",
        result.kpis["level_readmitted_within_30_days_share[level=a]"],
        relapse + feedback,
    )


def test_exits_by_reason_keep_their_shares_and_their_own_stays():
    """Level a: 20% drop out after a day on average (their own stays), 70% go on to b after
    the level's 3 days, the rest complete. The exit mix is the routes' shares, the mean stay
    their mixture, and a's census its throughput times that mean (M/G/infinity)."""
    sc = scenarios.apply_overrides(
        JACKSON,
        [
            'levels.a.routes=[{to = "b", share = 0.7}, {to = "discharge", share = 0.2, '
            'reason = "dropped_out", stay_days = {dist = "exponential", mean = 1.0}}]'
        ],
    )
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    k = result.kpis
    stay = 0.2 * 1.0 + 0.8 * 3.0
    lam = _traffic(sc, {})
    assert_agrees("dropped out of a", k["level_dropped_out_share[level=a]"], 0.2)
    assert_agrees("completed at a", k["level_completed_share[level=a]"], 0.8)
    assert_agrees("stay at a (days)", k["level_stay_days_mean[level=a]"], stay)
    assert_agrees("mean in care at a", k["level_census_mean[level=a]"], lam["a"] * stay)
    assert (k["level_stepped_up_share[level=a]"] == 0).all()


def test_fewer_places_ahead_mean_more_relapses_while_waiting_outside():
    """Clients who wait outside care for level b relapse at a constant hazard: fewer places at
    b make longer waits and so more relapses (same seed: common random numbers)."""

    def relapses(places: int) -> float:
        sc = scenarios.apply_overrides(
            JACKSON,
            [
                f"levels.b.places={places}",
                'levels.a.relapse={to = "c", per_week = 0.7}',
                "horizon_weeks=60",
            ],
        )
        return (
            run_experiment(sc, replications=3, workers=2)
            .kpis["level_relapses_per_week[level=a]"]
            .mean()
        )

    few, many = relapses(8), relapses(14)
    assert few > many


def _continuum(*overrides: str):
    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("continuum")),
        [
            "warmup_weeks=4",
            "horizon_weeks=40",
            "iop.exit_shares.escalated=0.3",
            "iop.exit_shares.other=0.0",
            "iop.exit_shares.completed=0.44",
            *overrides,
        ],
    )
    model = invariants.simulate(sc)
    visits = visit_table(model.recorder)
    clients = {c.id: c for c in model.clients}
    return model, visits[(visits["came_from"] == "iop") & visits["admitted"].notna()], clients


def test_a_client_stepping_up_from_the_iop_is_attended_there_until_the_place_is_theirs():
    """(A client who must step up waits for the higher place while still attended at the
    lower one.) With 4 PHP places, their IOP stay ends the moment the PHP place is theirs,
    and they are expected at every session of their IOP group that runs while they wait
    (attended or absent); with
    ``escalate_when_full = "wait_outside"`` they leave the IOP when they join the PHP's
    queue."""
    model, up, clients = _continuum("levels.php.places=4")
    ended = np.array([clients[i].iop_end for i in up["client_id"]])
    assert ended == pytest.approx(up["admitted"].to_numpy(), abs=1e-9)
    waited = up[up["admitted"] > up["queued"] + 4 * 24]
    assert len(waited) >= 3  # (the PHP was full for some: the check is not of zeros)
    expected = [r[:2] for r in model.recorder.attendance if r is not None and r[2] == "group"]
    expected += model.recorder.absences
    held = [(s[0], s[1]) for s in model.recorder.sessions if s[3]]  # (track, time) that ran
    checked = 0
    for _, row in waited.iterrows():
        track = clients[row["client_id"]].track
        ran = [t for name, t in held if name == track and row["queued"] < t < row["admitted"]]
        seen = [t for cid, t in expected if cid == row["client_id"] and t in ran]
        assert len(seen) == len(ran), (
            f"client {row['client_id']} missing from sessions of their group while waiting to "
            "step up"
        )
        checked += len(ran)
    assert checked >= 3  # (sessions ran during the waits: the check is not of nothing)

    _, outside, clients = _continuum("levels.php.places=4", 'iop.escalate_when_full="wait_outside"')
    ended = np.array([clients[i].iop_end for i in outside["client_id"]])
    assert ended == pytest.approx(outside["queued"].to_numpy(), abs=1e-9)
    assert (outside["admitted"] > outside["queued"] + 4 * 24).any()


@pytest.mark.parametrize(
    "override, message",
    [
        (
            'levels.a.step_up={to = "nowhere", per_week = 1}',
            "levels.a.step_up.to: 'nowhere' is not a level (levels: a, b, c; or 'iop')",
        ),
        (
            'levels.a.relapse={to = "nowhere", per_week = 1}',
            "levels.a.relapse.to: 'nowhere' is not a level",
        ),
        ('levels.a.step_up={to = "a", per_week = 1}', "cannot step up to itself"),
        ('levels.a.step_up={to = "b", per_week = 0}', "per_week"),
        (
            'levels.a.routes=[{to = "b", share = 0.3}, {to = "b", share = 0.3}]',
            "one route per destination and reason",
        ),
        ('levels.a.routes=[{to = "b", share = 0.3, reason = "bored"}]', "reason"),
    ],
)
def test_a_transition_that_cannot_be_is_refused_with_its_key(override, message):
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.apply_overrides(JACKSON, [override])
    assert message in str(caught.value)
