"""A provider's network of sites against queueing theory: two sites each with c seats, Poisson
referrals split between them, are two M/M/c queues; pooled into one network queue they are one
M/M/2c (Erlang C: pooling cuts the wait); routing each referral to the site with the shortest
queue never waits longer than the fixed split on the same draws. Listing sites and regions in
another order changes no number."""

from __future__ import annotations

import pytest

from simulation import config as scenarios
from simulation import results
from simulation.experiment import run_experiment
from tests.verification.test_queueing_theory import REPLICATIONS, assert_agrees, per_replication
from tests.verification.theory import mmc

# load 0.8 at each site: lambda 4 a day in all, mu 0.5 a day, 5 seats a site
TWO_SITES = scenarios.apply_overrides(
    scenarios.load("scenarios/verification/two_sites.toml"),
    ["referrals.per_week=28", "horizon_weeks=200"],
)


def _run(routing: str, replications: int = REPLICATIONS):
    sc = scenarios.apply_overrides(TWO_SITES, [f'network.routing="{routing}"'])
    return run_experiment(sc, replications=replications, workers=2)


def _agrees_with_erlang_c(result, lam: float, seats: int) -> None:
    theory = mmc(lam, 0.5, seats)
    waits, p_wait = per_replication(result, "iop_waitlisted", "iop_start")
    assert_agrees("mean wait (days)", waits, theory["wq"])
    assert_agrees("probability of waiting", p_wait, theory["p_wait"])


def test_two_sites_with_a_fixed_split_are_two_mmc_queues():
    result = _run("split")
    _agrees_with_erlang_c(result, 2.0, 5)
    for site in ("east", "west"):
        assert_agrees(
            f"admissions at {site} a week", result.kpis[f"admissions_per_week[site={site}]"], 14.0
        )


def test_a_pooled_network_queue_is_one_mm2c_queue_and_waits_less():
    _agrees_with_erlang_c(_run("pooled"), 4.0, 10)
    assert mmc(4.0, 0.5, 10)["wq"] < mmc(2.0, 0.5, 5)["wq"]  # (what pooling buys, in theory)


def test_routing_to_the_shortest_queue_never_waits_longer_than_a_fixed_split():
    """Common random numbers: the same referrals and stays under both rules, replication by
    replication."""
    split, shortest = _run("split", 5), _run("shortest_wait", 5)
    a, _ = per_replication(split, "iop_waitlisted", "iop_start")
    b, _ = per_replication(shortest, "iop_waitlisted", "iop_start")
    assert all(y <= x for x, y in zip(a, b, strict=True)), (a, b)


def test_listing_sites_and_regions_in_another_order_changes_nothing():
    data = scenarios.to_data(
        scenarios.apply_overrides(
            TWO_SITES,
            [
                "horizon_weeks=30",
                'network.regions=[{name = "north", share = 0.3, travel_minutes = {east = 10, '
                'west = 40}, split = {east = 0.8, west = 0.2}}, {name = "south", share = 0.7, '
                "travel_minutes = {east = 30, west = 5}, split = {east = 0.1, west = 0.9}}]",
            ],
        )
    )
    one = scenarios.validate(data)
    data["sites"] = list(reversed(data["sites"]))
    data["network"]["regions"] = list(reversed(data["network"]["regions"]))
    data["tracks"] = list(reversed(data["tracks"]))
    other = scenarios.validate(data)
    for routing in ("split", "choice", "nearest"):
        a = run_experiment(
            scenarios.apply_overrides(one, [f'network.routing="{routing}"']), 2, workers=1
        ).kpis
        b = run_experiment(
            scenarios.apply_overrides(other, [f'network.routing="{routing}"']), 2, workers=1
        ).kpis
        # (the same numbers; per-track columns follow the file's order of tracks)
        assert a.sort_index(axis=1).equals(b.sort_index(axis=1)), routing


def test_nearest_routing_sends_each_region_to_its_nearest_site():
    sc = scenarios.apply_overrides(
        TWO_SITES,
        [
            "horizon_weeks=20",
            'network.routing="nearest"',
            'network.regions=[{name = "north", share = 0.5, travel_minutes = {east = 10, '
            'west = 40}}, {name = "south", share = 0.5, travel_minutes = {east = 30, west = 5}}]',
        ],
    )
    result = run_experiment(sc, 1, workers=1)
    clients = result.tables["clients"]
    assert set(clients.loc[clients["region"] == "north", "site"]) == {"east"}
    assert set(clients.loc[clients["region"] == "south", "site"]) == {"west"}
    # travel: half the clients 10 minutes away, half 5
    assert result.kpis["travel_minutes_mean"].iloc[0] == pytest.approx(7.5, abs=1.0)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (['tracks."east iop".site="north"'], "tracks.east iop.site: 'north' is not a site"),
        (
            ['network.regions=[{name = "all", share = 0.6, split = {east = 1.0}}]'],
            "network.regions: shares add up to 0.6",
        ),
        (
            ['network.regions=[{name = "all", share = 1.0, split = {east = 0.5, west = 0.4}}]'],
            "split: shares add up to 0.9",
        ),
        (
            ['network.routing="nearest"', 'network.regions=[{name = "all", share = 1.0}]'],
            "network.regions.all.travel_minutes: routing 'nearest' needs the minutes to every site",
        ),
        (
            ['network.regions=[{name = "all", share = 1.0}]'],
            "network.regions.all.split: routing 'split' needs the region's shares of sites",
        ),
        (['network.routing="fastest"'], "network.routing"),
        (['targets={"admissions_per_week[site=north]" = ">= 1"}'], "no site 'north'"),
        (
            ['levels=[{name = "a", stay_days = 2, places_by_site = {north = 3}}]'],
            "levels.a.places_by_site: 'north' is not a site",
        ),
        (
            ['levels=[{name = "a", stay_days = 2, places = 4, places_by_site = {east = 3}}]'],
            "give places or places_by_site, not both",
        ),
    ],
)
def test_a_network_that_cannot_be_is_refused_with_its_key(overrides, message):
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.apply_overrides(TWO_SITES, overrides)
    assert message in str(caught.value)


def test_a_level_at_two_sites_is_an_mmc_station_at_each():
    """Level a with 5 places at each site, its referrals placed there directly (split half
    and half, exponential 2-day stays): each site's ward is M/M/5 with lambda 2 a day."""
    sc = scenarios.apply_overrides(
        TWO_SITES,
        [
            'levels=[{name = "a", places_by_site = {east = 5, west = 5}, '
            'stay_days = {dist = "exponential", mean = 2.0}}]',
            'referrals.sources=[{name = "community", share = 1.0, level = "a"}]',
        ],
    )
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    theory = mmc(2.0, 0.5, 5)
    for site in ("east", "west"):
        of = f"[level=a@{site}]"
        assert_agrees(f"wait at {site}", result.kpis["level_wait_days_mean" + of], theory["wq"])
        assert_agrees(f"in care at {site}", result.kpis["level_census_mean" + of], 2.0 * 2.0)
        assert (result.kpis["level_places" + of] == 5).all()
    assert_agrees("in care at the level", result.kpis["level_census_mean[level=a]"], 2 * 2.0 * 2.0)


def test_a_site_whose_queue_climbs_is_named_and_grows_as_the_fluid_limit_says():
    """Three seats at east (load 1.5 with half of lambda = 4.5 a day), five at west (0.9): east's
    waitlist grows by lambda/2 - 3 mu = 0.75 clients a day, and the run names east, not west."""
    sc = scenarios.apply_overrides(
        scenarios.load("scenarios/verification/two_sites.toml"),
        ["tracks.east iop.seats=3", "horizon_weeks=40"],
    )
    result = run_experiment(sc, replications=4, workers=2)
    weekly = result.tables["weekly"]
    report = weekly[~weekly["warmup"]]
    slopes = [
        float(results.queue_growth(rows["week"].to_numpy(), rows[["iop_waitlist[site=east]"]])[0])
        for _, rows in report.groupby("replication")
    ]
    assert_agrees("growth of east's waitlist a week", slopes, 7 * (2.25 - 3 * 0.5))
    named = [n for n in result.notes if n.startswith("OVERLOADED: the IOP waitlist at site")]
    assert len(named) == 1 and "at site east grows" in named[0]
    assert results.overloaded_queues(sc, weekly).get("iop_waitlist[site=east]")
    assert "iop_waitlist[site=west]" not in results.overloaded_queues(sc, weekly)
