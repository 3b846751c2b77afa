"""The bundled network and its what-ifs answer the network questions the way a planner would
check them by hand (common random numbers, short runs): a pooled intake queue shortens the
wait for an assessment; closing the rural site sends its county's clients further and nobody
is seen there; each site's and region's KPIs are reported, and every client is seen at a site
that exists or, for the virtual group, by video."""

from __future__ import annotations

import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment

SHORT = ["warmup_weeks=20", "horizon_weeks=40"]


@pytest.fixture(scope="module")
def runs():
    out = {}
    for name in ("network", "pooled_intake", "close_rural_site"):
        sc = scenarios.apply_overrides(scenarios.load(scenarios.bundled(name)), SHORT)
        out[name] = run_experiment(sc, replications=3, workers=2)
    return out


def test_a_pooled_intake_queue_shortens_the_wait_for_an_assessment(runs):
    network = runs["network"].kpis["wait_to_intake_days_mean"]
    pooled = runs["pooled_intake"].kpis["wait_to_intake_days_mean"]
    assert (pooled < network).all()


def test_closing_the_rural_site_sends_county_clients_further(runs):
    network, closed = runs["network"], runs["close_rural_site"]
    assert closed.kpis["travel_minutes_mean"].mean() > network.kpis["travel_minutes_mean"].mean()
    assert "admissions_per_week[site=rural]" in network.kpis
    assert "admissions_per_week[site=rural]" not in closed.kpis
    clients = closed.tables["clients"]
    assert not (clients["site"] == "rural").any()


def test_every_client_is_seen_at_a_site_of_their_region_s_network(runs):
    result = runs["network"]
    clients = result.tables["clients"]
    started = clients[clients["iop_start"].notna()]
    assert set(started["site"]) <= {"urban", "suburban", "rural"}
    assert set(clients["region"]) == {"city", "suburbs", "county"}
    tracks = {t.name: t.site for t in result.scenario.tracks}
    # a client's seat is at their own site, or in the network-wide virtual group
    placed = started[started["track"] != ""]
    assert all(tracks[t] in (None, s) for t, s in zip(placed["track"], placed["site"], strict=True))
    for site in ("urban", "suburban", "rural"):
        assert result.kpis[f"admissions_per_week[site={site}]"].mean() > 0
    for region in ("city", "suburbs", "county"):
        assert f"referral_to_iop_days_mean[region={region}]" in result.kpis
