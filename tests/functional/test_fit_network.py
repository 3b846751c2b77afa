"""A network's records fit its routing: an extract with site and region columns gives each
region's shares of sites (what the clients' choice by travel time produced, within the fit's
intervals) and the regions' shares; the state on a date keeps each client's site and region,
and a run from it reports every site."""

from __future__ import annotations

import math

import pytest

from simulation import config as scenarios
from simulation.data.extract import read_episodes
from simulation.data.synth import synthesize
from simulation.experiment import run_experiment
from simulation.fit import clinic as fitting
from tests.functional.test_fit_levels import covers


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    truth = scenarios.load(scenarios.bundled("network"))
    table, _ = synthesize(truth, 2.0, 4)
    path = tmp_path_factory.mktemp("network") / "extract.csv"
    table.to_csv(path, index=False)
    return truth, *fitting.fitted_scenario(read_episodes(path), truth, with_state=True)


def _choice(truth, region) -> dict[str, float]:
    """The share of a region's referrals each site draws under choice routing."""
    decay = truth.network.distance_decay_per_minute
    weights = {s: math.exp(-decay * m) for s, m in region.travel_minutes.items()}
    return {s: w / sum(weights.values()) for s, w in weights.items()}


def test_the_routing_the_records_show_is_the_clients_choice(fitted):
    truth, scenario, result, _ = fitted
    evidence = {e.key: e for e in result.evidence}
    assert scenario.network.routing == "split"
    assert any("the records show where referrals went" in n for n in result.notes)
    for region in truth.network.regions:
        for site, share in _choice(truth, region).items():
            assert covers(evidence[f"network.regions.{region.name}.split.{site}"], share)
        assert covers(evidence[f"network.regions.{region.name}.share"], region.share)
    for region in scenario.network.regions:
        assert sum(region.split.values()) == pytest.approx(1.0, abs=1e-9)


def test_the_state_keeps_each_clients_site_and_a_run_from_it_reports_every_site(fitted):
    _, scenario, _, _ = fitted
    clients = scenario.state.clients
    assert clients and all(c.site in {"urban", "suburban", "rural"} for c in clients)
    assert all(c.region in {"city", "suburbs", "county"} for c in clients)
    run = scenarios.apply_overrides(scenario, ["horizon_weeks=8"])
    kpis = run_experiment(run, replications=1, workers=1).kpis
    for site in ("urban", "suburban", "rural"):
        assert f"iop_census_mean[site={site}]" in kpis
        assert kpis[f"iop_census_mean[site={site}]"].iloc[0] > 0  # (those in care at the start)


def test_a_site_the_template_lacks_is_left_out_of_everything_fitted(tmp_path):
    """A fifth of the referrals at a site the template lacks: kept, they were counted in the
    referral rate and sent to the template's sites by the routing (loading them by a
    quarter), and their clients filled the state. The fit now equals the fit of the extract
    without them (rate, routing, state), and says how many rows it left out."""
    truth = scenarios.load(scenarios.bundled("network"))
    table, _ = synthesize(scenarios.apply_overrides(truth, ["horizon_weeks=30"]), 1.0, 5)
    harbour = table.index[table["site"] == "rural"]
    table.loc[harbour, "site"] = "harbour"
    path, without = tmp_path / "extract.csv", tmp_path / "without.csv"
    table.to_csv(path, index=False)
    table.drop(harbour).to_csv(without, index=False)
    read = read_episodes(path)
    on = read.table["iop_start_date"].dropna().max()  # a date with clients in care
    scenario, result, _ = fitting.fitted_scenario(
        read_episodes(path, as_of=on), truth, with_state=True
    )
    alone, _, _ = fitting.fitted_scenario(read_episodes(without, as_of=on), truth, with_state=True)
    (note,) = [n for n in result.notes if "not in the template: harbour" in n]
    assert f"({len(harbour)} of {len(table)} rows): left out of everything fitted" in note
    assert scenario.referrals.per_week == alone.referrals.per_week
    assert [r.split for r in scenario.network.regions] == [r.split for r in alone.network.regions]
    assert scenario.state.clients == alone.state.clients
    assert {c.site for c in scenario.state.clients} <= {"urban", "suburban"}


def test_drawing_the_fitted_values_draws_the_regions_within_their_rules(fitted):
    """A back-test draws each replication's fitted values from their intervals: a network's
    region shares and each region's split among sites (it stopped with a traceback: the
    regions are a list, not a table). Each draw stays a valid clinic: shares add up to 1."""
    from simulation.fit.uncertainty import scenario_draws

    _, scenario, result, _ = fitted
    draws = scenario_draws(scenario, result.evidence, 6, scenario.seed)
    shares = {
        r.name: {d.network.regions[i].share for d in draws}
        for i, r in enumerate(scenario.network.regions)
    }
    assert all(len(s) == 6 for s in shares.values())  # (each draw its own)
    for d in draws:
        assert math.isclose(sum(r.share for r in d.network.regions), 1.0)
        for r in d.network.regions:
            assert math.isclose(sum(r.split.values()), 1.0)
