"""Payers with their own rates and rules, authorisation and utilisation
review, denials and days to payment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import config as scenarios
from simulation import results
from simulation.experiment import run_experiment
from tests.conftest import baseline, run, short


def one_payer(**fields) -> str:
    body = ", ".join(f"{k} = {v}" for k, v in {"name": '"plan"', "share": 1.0, **fields}.items())
    return f"payers=[{{{body}}}]"


def _kpis(*overrides):
    return run_experiment(short(*overrides, "horizon_weeks=30"), replications=3).kpis.mean(
        numeric_only=True
    )


def test_an_authorisation_delay_lengthens_assessment_to_start_by_about_its_length():
    """Five days to authorise: the mean wait from assessment to the first IOP day grows by
    about five days (same draws; a few days either way as queues reshuffle)."""
    plain = _kpis(one_payer())
    delayed = _kpis(one_payer(authorisation_days=5.0))
    grew = delayed["wait_to_iop_days_mean"] - plain["wait_to_iop_days_mean"]
    assert 3.5 < grew < 6.5


def test_a_stricter_billable_day_lowers_revenue_and_changes_no_wait():
    plain, strict = run(short(one_payer())), run(short(one_payer(billable_day="{min_hours = 3.5}")))
    assert strict.kpis["revenue_per_week"] < plain.kpis["revenue_per_week"]
    assert strict.kpis["wait_to_iop_days_mean"] == plain.kpis["wait_to_iop_days_mean"]
    assert strict.kpis["iop_census_mean"] == plain.kpis["iop_census_mean"]


def test_denials_take_their_share_of_what_is_billed_and_payers_add_up():
    plain = run(short(one_payer())).kpis
    denied = run(short(one_payer(denial_share=0.1, days_to_payment=40.0))).kpis
    assert denied["revenue_per_week"] == pytest.approx(0.9 * plain["revenue_per_week"])
    assert denied["denied_revenue_per_week"] == pytest.approx(0.1 * plain["revenue_per_week"])
    assert denied["days_in_accounts_receivable"] == pytest.approx(40.0)
    two = run(
        short(
            'payers=[{name = "a", share = 0.6, iop_per_diem = 300.0}, '
            '{name = "b", share = 0.4, iop_per_diem = 200.0, denial_share = 0.2}]'
        )
    ).kpis
    parts = two["revenue_per_week[payer=a]"] + two["revenue_per_week[payer=b]"]
    assert parts == pytest.approx(two["revenue_per_week"])


def test_a_refused_extension_ends_the_stay_at_the_review():
    """Twenty days authorised and no extension: no stay runs past about 20 days (those who
    started in the IOP are all reviewed); with every extension granted, nothing changes."""
    never = run(short(one_payer(authorised_days=20, extension_probability=0.0)))
    ended = never.clients[never.clients["iop_end"].notna() & never.clients["iop_start"].notna()]
    stay = (ended["iop_end"] - ended["iop_start"]) / 24
    assert stay.max() <= 20.0 + 3.5  # (+ days blocked waiting for step-down)
    assert never.kpis["extensions_refused_share"] > 0.3
    always = run(short(one_payer(authorised_days=20, extension_probability=1.0))).kpis
    assert always["iop_census_mean"] == run(short(one_payer())).kpis["iop_census_mean"]


def test_each_reviewing_payer_reports_the_extensions_it_refused():
    """Two payers, one reviewing with no extension and one without reviews: the one refuses
    nearly every client who stays past its days, the other has no such KPI, and the
    clinic's share lies between the payer's and zero."""
    cut = run(
        short(
            'payers=[{name = "strict", share = 0.5, authorised_days = 10, '
            'extension_probability = 0.0}, {name = "open", share = 0.5}]'
        )
    ).kpis
    strict = cut["extensions_refused_share[payer=strict]"]
    assert strict > 0.5  # (most stays last past ten days; the shortest end before review)
    assert "extensions_refused_share[payer=open]" not in cut
    assert 0 < cut["extensions_refused_share"] <= strict


def test_payer_shares_must_add_up_to_one():
    base = baseline()
    with pytest.raises(scenarios.ScenarioError, match="add up to 1"):
        scenarios.apply_overrides(
            base, ['payers=[{name = "a", share = 0.6}, {name = "b", share = 0.3}]']
        )


def test_a_refused_extension_is_its_own_exit_not_a_completion():
    """Cutting authorised days cannot raise completion or cut dropout: those refused an
    extension leave as 'authorisation ended' whatever their planned reason, and every
    discharge still has exactly one reason."""
    plain = run(short(one_payer()))
    cut = run(short(one_payer(authorised_days=21, extension_probability=0.0)))
    k, p = cut.kpis, plain.kpis
    assert k["authorisation_ended_share"] > 0.2
    assert p["authorisation_ended_share"] == 0.0
    assert k["completion_share"] <= p["completion_share"]
    assert k["dropout_share"] <= p["dropout_share"] + 0.02  # (same draws; reshuffled queues)
    refused = cut.clients[cut.clients["review_denied"]]
    assert (refused["exit_reason"].isin(["authorisation_ended", "dropped_out"])).all()
    assert (refused["planned_exit"] != "").all()
    # only a stay the payer ended steps down as planned; a dropout after the refusal does not
    assert refused.loc[refused["exit_reason"] == "dropped_out", "op_start"].isna().all()
    shares = ["completion_share", "dropout_share", "escalation_share", "authorisation_ended_share"]
    assert sum(k[s] for s in shares) <= 1.0 + 1e-9


def _days(services, payer, client=0):
    n = len(services)
    return pd.DataFrame(
        {
            "client_id": [client] * n,
            "day": range(n),
            "services": services,
            "hours": [3.0] * n,
            "group": [True] * n,
            "billable": [True] * n,
            "payer": payer,
        }
    )


def test_a_payers_four_service_tier_pays_days_with_four_or_more_services():
    """The tier is a payer's rule: it pays that payer's 4+ days, and no other payer's."""
    sc = short(
        'payers=[{name = "medicare", share = 0.5, iop_per_diem = 260.0, iop_per_diem_4plus = 284.0},'
        ' {name = "other", share = 0.5, iop_per_diem = 200.0}]'
    )
    no_appointments = pd.DataFrame({"client_id": [], "time": [], "kind": [], "hours": []})
    c = results.claims(sc, _days([3, 4, 5, 4], [0, 0, 0, 1]), no_appointments)
    assert c["billed"].tolist() == [260.0, 284.0, 284.0, 200.0]


def test_a_telehealth_per_diem_pays_the_days_of_clients_who_join_by_video():
    sc = short(
        'payers=[{name = "plan", share = 1.0, iop_per_diem = 300.0, telehealth_per_diem = 250.0}]'
    )
    no_appointments = pd.DataFrame({"client_id": [], "time": [], "kind": [], "hours": []})
    days = pd.concat([_days([3, 3], [0, 0], client=0), _days([3], [0], client=1)])
    c = results.claims(sc, days, no_appointments, by_video=np.array([True, False]))
    assert c["billed"].tolist() == [250.0, 250.0, 300.0]
    hybrid = run(
        short(
            'payers=[{name = "plan", share = 1.0, telehealth_per_diem = 250.0}]',
            'tracks.evening.modality="hybrid"',
            "tracks.evening.hybrid_video_share=0.5",
        )
    )
    same = run(
        short(
            'payers=[{name = "plan", share = 1.0}]',
            'tracks.evening.modality="hybrid"',
            "tracks.evening.hybrid_video_share=0.5",
        )
    )
    assert hybrid.kpis["revenue_per_week"] < same.kpis["revenue_per_week"]


def test_payers_are_drawn_by_age_group_and_source():
    """No adolescent is drawn on a payer whose adolescent share is 0, whatever the overall
    share; the other payers take the adolescents in their own shares."""
    sc = scenarios.load(scenarios.bundled("adolescent_terms"))
    sc = scenarios.apply_overrides(sc, ["warmup_weeks=4", "horizon_weeks=20"])
    clients = run(sc).clients
    teens = clients[clients["age_group"] == "adolescent"]
    assert len(teens) > 30  # (with 15% on Medicare, none of 30 would happen 0.8% of the time)
    assert (teens["payer"] != "medicare").all()
    adults = clients[clients["age_group"] == "adult"]
    assert (adults["payer"] == "medicare").mean() > 0.08  # (15% of adults; n > 100)


def test_payer_shares_by_group_must_add_up_for_every_source():
    base = baseline()
    with pytest.raises(scenarios.ScenarioError, match="community.*add up to"):
        scenarios.apply_overrides(base, ["payers.0.shares_by_source={community = 0.9}"])
    with pytest.raises(scenarios.ScenarioError, match="'nowhere' is not a referral source"):
        scenarios.apply_overrides(base, ["payers.0.shares_by_source={nowhere = 0.5}"])


def test_the_payers_mix_is_fitted_from_the_payer_each_record_names(tmp_path):
    """A clinic whose clients are mostly Medicaid's, fitted with the baseline's template
    (commercial first): the fit kept the template's mix, and the revenue with it. Now each
    payer's share comes from the records, group by group as the template draws them (the
    adolescents' shares by age group stay the template's: the records have no adolescent)."""
    from simulation.data.extract import read_episodes
    from simulation.data.synth import synthesize_records
    from simulation.fit.clinic import fitted_scenario

    template = scenarios.load(scenarios.bundled("baseline"))
    truth = scenarios.apply_overrides(
        template,
        ["payers.commercial.share=0.2", "payers.medicaid.share=0.7", "payers.medicare.share=0.1"],
    )
    table, _, _ = synthesize_records(truth, 2.0, 3)
    table["payer"] = table["payer"].replace({"medicaid": "MEDICAID"})  # (spelt otherwise)
    path = tmp_path / "x.csv"
    table.to_csv(path, index=False)
    fitted, result, _ = fitted_scenario(read_episodes(path), template, with_state=False)
    evidence = {e.key: e for e in result.evidence}
    for payer in truth.payers:
        share = evidence[f"payers.{payer.name}.share"]
        assert share.low <= payer.share <= share.high, (payer.name, share)
        fitted_payer = next(p for p in fitted.payers if p.name == payer.name)
        assert fitted_payer.shares_by_age_group == payer.shares_by_age_group
    assert abs(sum(p.share for p in fitted.payers) - 1.0) < 1e-9
    # a payer the template lacks is said, with its share, and left out of the mix
    table["payer"] = table["payer"].replace({"commercial": "Blue Plan"})
    table.to_csv(path, index=False)
    _, result, _ = fitted_scenario(read_episodes(path), template, with_state=False)
    said = [n for n in result.notes if n.startswith("Payers not in the template")]
    assert len(said) == 1 and "'Blue Plan'" in said[0] and "perhaps" not in said[0]
    # one that holds a template payer's name is suggested as it (never applied)
    table["payer"] = table["payer"].replace({"Blue Plan": "commercial PPO"})
    table.to_csv(path, index=False)
    _, result, _ = fitted_scenario(read_episodes(path), template, with_state=False)
    said = [n for n in result.notes if n.startswith("Payers not in the template")]
    assert len(said) == 1 and 'perhaps "commercial PPO" = "commercial"' in said[0]
    table["payer"] = table["payer"].replace({"commercial PPO": "Blue Plan"})
    # a payer written with a member number is counted, never shown (it may identify someone)
    table["payer"] = table["payer"].replace({"Blue Plan": "BCBS 88231907"})
    table.to_csv(path, index=False)
    _, result, _ = fitted_scenario(read_episodes(path), template, with_state=False)
    said = [n for n in result.notes if n.startswith("Payers not in the template")]
    assert len(said) == 1 and "1 value(s) not shown" in said[0] and "88231907" not in said[0]
