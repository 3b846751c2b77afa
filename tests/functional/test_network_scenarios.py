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
    for site in ("urban", "suburban", "rural"):  # (each site's own pools)
        assert (result.kpis[f"therapist_utilisation[site={site}]"].between(0.05, 1.0)).all()
    assert "prescriber_utilisation[site=rural]" not in result.kpis  # (she works for all)


def test_staff_of_several_sites_see_each_sites_clients_on_its_days_and_never_while_travelling():
    """The network's prescriber works at the urban site on Mondays and Thursday mornings, the
    suburban on Tuesdays and the rural on Thursday afternoons after a 70-minute drive: every
    medication visit of a client seated at a site falls in her hours there (clients by video
    in the network-wide group see her wherever she is), and nothing is booked in the drive."""
    from simulation.config.calendar import site_hours, travel_hours
    from tests import invariants

    sc = scenarios.apply_overrides(scenarios.load(scenarios.bundled("network")), SHORT)
    model = invariants.simulate(sc)
    roster = sc.staff["prescribers"].roster
    hours, drive = site_hours(roster), travel_hours(roster)
    clients = {c.id: c for c in model.clients}
    virtual = {t.name for t in sc.tracks if t.modality == "virtual"}
    seen = 0
    for cid, t, kind, length in (r for r in model.recorder.attendance if r is not None):
        if kind not in ("medication", "evaluation"):
            continue
        c = clients[cid]
        at = t % (7 * 24)
        assert not any(s <= at < e - 1e-6 for s, e in drive)  # (a visit may start as it ends)
        if c.track in virtual or not c.site:
            continue
        assert any(s - 1e-9 <= at and at + length <= e + 1e-9 for s, e in hours[c.site]), (
            c.site,
            at,
        )
        seen += 1
    assert seen >= 20  # (visits were checked: not a check of nothing)


@pytest.mark.parametrize(
    "roster, message",
    [
        (
            '[{days = ["mon"], start = "09:00", end = "17:00", site = "moon"}]',
            "staff.prescribers.roster: a shift at 'moon', which is not a site",
        ),
        (
            '[{days = ["mon"], start = "09:00", end = "10:00", site = "rural", '
            "travel_minutes = 60}]",
            "travel_minutes: 60 leaves no time of the shift",
        ),
    ],
)
def test_a_shift_at_a_site_that_cannot_be_is_refused_with_its_key(roster, message):
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.apply_overrides(
            scenarios.load(scenarios.bundled("network")), [f"staff.prescribers.roster={roster}"]
        )
    assert message in str(caught.value)


def test_a_pool_of_one_site_cannot_work_shifts_at_another():
    with pytest.raises(scenarios.ScenarioError, match="but the pool works at 'rural'"):
        scenarios.apply_overrides(
            scenarios.load(scenarios.bundled("network")),
            [
                'staff."rural therapists".roster=[{days = ["mon"], start = "08:00", '
                'end = "17:00", site = "urban"}]'
            ],
        )


def test_what_holds_admissions_up_is_reported_for_each_site():
    """A rural site given seats and therapist places to spare is never the binding constraint;
    the suburban site, full, is; the brief's limiting factors say so site by site."""
    from simulation import results

    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("network")),
        [
            *SHORT,
            'tracks."rural days".seats=40',
            'rooms."rural group room".seats=40',
            'staff."rural therapists".iop_caseload_cap=40',
        ],
    )
    result = run_experiment(sc, replications=2, workers=2)
    k = result.kpis
    assert (k["admission_blocked_share[site=rural]"] < 0.05).all()
    assert (k["admission_blocked_by_seats_share[site=suburban]"] > 0.2).all()
    lines = " ".join(results.limiting_factors(result.summary))
    assert "Site suburban: admissions held up" in lines
    assert "Site rural" not in lines


def test_a_regions_growth_scales_its_referrals_and_is_an_uncertain_input():
    """County growing x2 (a fifth of referrals): the network's expected referrals grow by the
    share-weighted mean of the regions' growth (1.2) and a third of referrals are the county's
    (0.4 / 1.2); the growth can be varied as an uncertain input for a robust plan."""
    from simulation.compiled import daily_rates
    from simulation.uncertainty import uncertain_inputs, with_values

    base = scenarios.apply_overrides(scenarios.load(scenarios.bundled("network")), SHORT)
    grown = scenarios.apply_overrides(base, ["network.regions.county.growth=2"])
    assert daily_rates(grown).sum() / daily_rates(base).sum() == pytest.approx(1.2, rel=1e-12)
    clients = run_experiment(grown, replications=3, workers=2).tables["clients"]
    # ~2,000 referrals: the county's share has a standard error of about 0.011
    assert (clients["region"] == "county").mean() == pytest.approx(1 / 3, abs=0.04)
    inputs = uncertain_inputs(base, None, vary=["network.regions.county.growth=1..1.5"])
    county = next(i for i in inputs if i.key == "network.regions.county.growth")
    varied = with_values(base, inputs, [i.high if i is county else i.base for i in inputs])
    assert next(r for r in varied.network.regions if r.name == "county").growth == 1.5


def test_a_sites_clients_book_the_offices_at_their_site_or_for_every_site():
    from simulation.compiled import compile_scenario
    from simulation.model.offices import Offices

    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("network")),
        [
            'offices=[{name = "urban office", count = 2, site = "urban"}, '
            '{name = "rural office", site = "rural"}, {name = "video room"}]'
        ],
    )
    offices = Offices(compile_scenario(sc), set())
    names = lambda units: sorted(u.name for u in units or [])  # noqa: E731
    assert names(offices.needed_for("individual", "rural")) == ["rural office", "video room"]
    assert names(offices.needed_for("intake", "urban")) == [
        "urban office 1",
        "urban office 2",
        "video room",
    ]
    assert len(offices.needed_for("family")) == 4  # (no site: any)
    with pytest.raises(scenarios.ScenarioError, match="offices.x.site: 'moon' is not a site"):
        scenarios.apply_overrides(sc, ['offices=[{name = "x", site = "moon"}]'])
    run = scenarios.apply_overrides(sc, SHORT)
    assert run_experiment(run, replications=1, workers=1).kpis["office_utilisation"].iloc[0] > 0


def test_a_site_closed_for_a_fortnight_holds_no_group_while_the_others_do():
    """The rural site shut for two weeks (its own closure): its group's sessions then are
    'closed' and its therapist books nothing; the urban site's groups run as usual."""
    from simulation.clock import HOURS_PER_DAY
    from tests import invariants

    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("network")),
        [
            "warmup_weeks=10",
            "horizon_weeks=20",
            'sites=[{name = "urban"}, {name = "suburban"}, {name = "rural", closure_weeks = '
            "[{from_date = 2027-04-05, to_date = 2027-04-18}]}]",
        ],
    )
    model = invariants.simulate(sc)
    first = 13 * 7 * HOURS_PER_DAY  # 2027-04-05: the Monday 13 weeks after 2027-01-04
    last = first + 14 * HOURS_PER_DAY
    sessions = model.recorder.session_table()
    during = sessions[(sessions["time"] >= first) & (sessions["time"] < last)]
    rural = during[during["track"] == "rural days"]
    assert len(rural) == 6 and set(rural["outcome"]) <= {"closed", "empty"}
    urban = during[during["track"] == "urban morning"]
    assert (urban["outcome"] == "held").sum() >= 6
    busy = [b for b in model.recorder.busy_log if b is not None]
    rural_people = {p.name for p in model.staff.pools["rural therapists"]}
    assert not any(r in rural_people and first <= s < last for r, s, _, _ in busy)


def test_a_region_with_its_own_seasons_changes_the_days_referrals_and_who_they_are():
    """The county's referrals double from January to June and halve after (its own pattern,
    instead of the network's months): a January day's expected referrals and the county's
    chance among them follow, and so does the share of the county's clients."""
    from simulation.compiled import compile_scenario, daily_rates

    base = scenarios.apply_overrides(scenarios.load(scenarios.bundled("network")), SHORT)
    county = next(r for r in base.network.regions if r.name == "county")
    seasons = "[2, 2, 2, 2, 2, 2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]"
    own = scenarios.apply_overrides(base, [f"network.regions.county.seasonality={seasons}"])
    january = base.referrals.seasonality[0]  # (the run starts on 2027-01-04, a Monday)
    county_weight = county.share * 2 / january
    scale = (1 - county.share) + county_weight
    assert daily_rates(own)[0] / daily_rates(base)[0] == pytest.approx(scale, rel=1e-12)
    chances = compile_scenario(own).region_chances  # (regions in name order: city, county, ...)
    assert chances[0, 1] == pytest.approx(county_weight / scale, rel=1e-12)
    assert chances[182, 1] < county.share  # (2027-07-05: the county's low season)


def test_each_sites_revenue_adds_up_to_the_networks_and_its_costs_are_its_own(runs):
    """The sites' revenues (their clients' claims less denials) add up to the network's (no
    level of care earns here); a site's own cost is its pools' pay and its room."""
    result = runs["network"]
    k = result.kpis
    sites = ("urban", "suburban", "rural")
    total = sum(k[f"site_revenue_per_week[site={s}]"] for s in sites)
    assert total.to_numpy() == pytest.approx(k["revenue_per_week"].to_numpy(), rel=1e-9)
    sc = result.scenario
    full_time = sc.finance.full_time_hours
    rural = (
        sum(
            p.annual_cost * p.paid_fte(full_time) * p.size
            for p in sc.staff.values()
            if p.site == "rural"
        )
        / 52.0
        + sc.finance.room_cost_per_week
    )
    assert k["site_direct_cost_per_week[site=rural]"].tolist() == pytest.approx([rural] * len(k))
    contribution = (
        k["site_revenue_per_week[site=rural]"] - k["site_direct_cost_per_week[site=rural]"]
    )
    assert (k["site_contribution_per_week[site=rural]"] == contribution).all()
