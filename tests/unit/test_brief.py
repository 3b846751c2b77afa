"""The decision brief of a run: where each sentence goes."""

from __future__ import annotations

from simulation.experiment import run_experiment
from tests.conftest import short


def test_the_brief_puts_a_cost_left_out_beside_the_margin():
    """Warnings about money go under Money, next to the margin they qualify; others stay in
    the flow."""
    from simulation.brief import run_brief

    summary = run_experiment(short(), replications=2, workers=1).summary
    cost = "staff.intake.annual_cost: not set (0), so the cost leaves out the pay of 1 person"
    timetable = "tracks.morning: its week offers 9.83 h against the 9-hour rule for adults"
    sections = dict(run_brief(summary, [], notes=[cost, timetable]))
    assert sections["Money"][0].startswith("Revenue") and sections["Money"][1] == cost
    assert timetable in sections["Flow"] and cost not in sections["Flow"]


def test_the_brief_says_whether_clients_get_their_hours_and_appointments():
    """The hours rule met, appointments that found no slot and evaluations in time, in the
    summary's own numbers; the group furthest under the hours share is named."""
    from simulation.brief import run_brief
    from simulation.kpis import describe, fmt

    summary = run_experiment(short(), replications=2, workers=1).summary
    by = summary.set_index("kpi")["mean"]
    care = dict(run_brief(summary, []))["Care clients get"]
    for kpi in ("client_weeks_meeting_hours_share", "individual_sessions_unbooked_share"):
        (line,) = [x for x in care if x.startswith(describe(kpi).description)]
        assert f": {fmt(by[kpi], 'share')} (95% CI" in line
    worse = summary.copy()
    row = worse["kpi"] == "client_weeks_meeting_hours_share[track=evening]"
    worse.loc[row, "mean"] = by["client_weeks_meeting_hours_share"] - 0.2
    (hours,) = [x for x in dict(run_brief(worse, []))["Care clients get"] if "9+ hours" in x]
    assert hours.endswith(
        f"Lowest: track evening ({fmt(worse.loc[row, 'mean'].iloc[0], 'share')})."
    )


def test_the_brief_names_the_track_whose_appointments_find_no_slot():
    """The baseline's evening clients, at work by day, can be seen only in the hours around
    their groups: their individual sessions find no slot far more often than the morning's
    (measured 49% against 0%), and the brief names the track, by the per-track KPIs."""
    from simulation import config as scenarios
    from simulation.brief import run_brief
    from simulation.kpis import fmt

    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("baseline")), ["warmup_weeks=12", "horizon_weeks=16"]
    )
    result = run_experiment(sc, replications=2, workers=1)
    kpis = result.kpis.mean()
    base = "individual_sessions_unbooked_share"
    evening, morning = kpis[f"{base}[track=evening]"], kpis[f"{base}[track=morning]"]
    assert evening > morning + 0.2  # (a difference of tens of points, not chance)
    assert morning <= kpis[base] <= evening  # the whole lies between its tracks
    care = dict(run_brief(result.summary, []))["Care clients get"]
    (line,) = [x for x in care if x.startswith("Share of due individual sessions")]
    by = result.summary.set_index("kpi")["mean"]
    assert line.endswith(f"Highest: track evening ({fmt(by[f'{base}[track=evening]'], 'share')}).")


def test_the_brief_says_how_stays_end_and_which_payers_reviews_cut_them_short():
    """Stays ended by a payer's refused extension are said beside completions and dropouts
    (the shares add up to the whole with transfers and other reasons), and the payer that
    refused most is named; a clinic without reviews says no word of them."""
    from simulation.brief import stays_sentence
    from simulation.kpis import fmt

    summary = run_experiment(
        short(
            'payers=[{name = "strict", share = 0.5, authorised_days = 10, '
            'extension_probability = 0.0}, {name = "open", share = 0.5}]'
        ),
        replications=2,
        workers=1,
    ).summary
    by = summary.set_index("kpi")["mean"]
    (line,) = stays_sentence(summary.set_index("kpi"))
    assert line.startswith(f"IOP stays ended: {fmt(by['completion_share'], 'share')} completed")
    ended = fmt(by["authorisation_ended_share"], "share")
    assert f"{ended} ended when a payer's review refused an extension" in line
    refused = fmt(by["extensions_refused_share[payer=strict]"], "share")
    assert f"Payer strict refused an extension to {refused} of its clients" in line
    plain = run_experiment(short(), replications=2, workers=1).summary
    (line,) = stays_sentence(plain.set_index("kpi"))
    assert "review" not in line and "Payer" not in line
    assert f"{fmt(plain.set_index('kpi').loc['dropout_share', 'mean'], 'share')} dropped" in line
