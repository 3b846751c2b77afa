"""Pages of a clinic's own records: the fit report, forecasts and back tests."""

from __future__ import annotations

import pandas as pd

from simulation.config import Scenario
from simulation.dashboard import figures
from simulation.dashboard.page.frame import PARTS, kpi_table, render


def fit_report(scenario: Scenario, result, episodes) -> str:
    """What was fitted from the extract, with its evidence, and observed against fitted."""
    import numpy as np
    import plotly.graph_objects as go

    table = PARTS.table(
        ["Scenario key", "Estimate, 95% CI, n, method"],
        [[e.key, e.comment()] for e in result.evidence],
        id="fit-table",
    )
    sections = [
        PARTS.section(
            "Fitted values",
            table,
            howto="Values not listed keep the template's estimate and are marked [E] in the "
            "scenario file.",
        )
    ]
    sections += [PARTS.warning(n) for n in result.notes]
    figs = []
    weekly = result.curves.get("weekly_referrals")
    if weekly is not None and len(weekly):
        fig = go.Figure(
            go.Bar(x=list(weekly.index), y=weekly.to_numpy(), name="referrals each week")
        )
        fig.add_hline(y=float(weekly.mean()), line_dash="dash", annotation_text="fitted rate")
        fig.update_layout(
            title="Referrals by week: observed, with the fitted rate",
            xaxis_title="Week of the extract",
            yaxis_title="Referrals",
            **figures.LAYOUT,
        )
        figs.append(("referrals", "Referrals", fig))
    stay = result.curves.get("stay")
    if stay is not None:
        from simulation.fit.survival import _logpdf_logsf, cumulative_incidence, params_of

        durations, reasons, joint = stay
        labels = list(joint.shares)
        times, cif = cumulative_incidence(durations, reasons, labels)
        fig = go.Figure()
        grid = np.linspace(0.5, float(np.max(durations)), 200)
        for i, label in enumerate(labels):
            colour = figures.PALETTE[i % len(figures.PALETTE)]
            fig.add_trace(
                go.Scatter(
                    x=times,
                    y=cif[label],
                    mode="lines",
                    line={"shape": "hv", "color": colour},
                    name=f"{label}: observed (Aalen-Johansen)",
                )
            )
            params = params_of(joint.stays[label])
            _, logsf = _logpdf_logsf(joint.family, params, grid)
            fig.add_trace(
                go.Scatter(
                    x=grid,
                    y=joint.shares[label] * (1 - np.exp(logsf)),
                    mode="lines",
                    line={"dash": "dash", "color": colour},
                    name=f"{label}: fitted",
                )
            )
        fig.update_layout(
            title="Leaving the IOP: share who left by each reason within t days (stays still running are censored)",
            xaxis_title="Days in the IOP",
            yaxis_title="Cumulative share",
            **figures.LAYOUT,
        )
        figs.append(("stays", "Stays and exit reasons", fig))
    header = [
        PARTS.h1(f"Fit report: {scenario.name}"),
        PARTS.p(
            f"{len(episodes.table)} referrals up to {episodes.as_of.date()}; "
            f"{episodes.dropped_rows} bad rows left out. No identifier from the extract is shown."
        ),
    ]
    return render(f"iopsim fit: {scenario.name}", header, sections, figs)


def forecast_page(scenario: Scenario, bands: pd.DataFrame, summary, targets, info: dict) -> str:
    """The forecast: a fan chart per series, the KPIs over the forecast weeks."""
    from simulation.results import series_name

    figs = [  # (a continuum's levels and a network's sites after the IOP's series)
        (f"fan-{s}", series_name(s), figures.fan(bands, s)) for s in bands["series"].unique()
    ]
    state = scenario.state
    header = [
        PARTS.h1(f"Forecast: {scenario.name}"),
        PARTS.p(
            f"From the clinic's state on {state.as_of if state else scenario.start_date} "
            f"({len(state.clients) if state else 0} clients on the books), "
            f"{scenario.horizon_weeks} weeks, {int(info.get('replications', 0))} replications, "
            f"seed {info.get('seed', '')}."
        ),
    ]
    sections = [PARTS.section("Over the forecast weeks", kpi_table(summary, targets))]
    return render(f"iopsim forecast: {scenario.name}", header, sections, figs)


def backtest_page(scenario: Scenario, bands, observed, table, lines: list[str]) -> str:
    """The back-test: what happened drawn over the forecast's fan, and the coverage table."""
    from simulation.results import backtest_series, series_name

    figs = [
        (f"fan-{s}", series_name(s), figures.fan(bands, s, observed))
        for s in backtest_series(observed)
    ]
    rows = [
        [
            r.series,
            {"text": f"{100 * r.coverage_50:.0f}%", "cls": "num"},
            {"text": f"{100 * r.coverage_90:.0f}%", "cls": "num"},
            {"text": f"{r.mae_model:.2f}", "cls": "num"},
            {"text": f"{r.mae_naive:.2f}", "cls": "num"},
            "model" if r.model_better else "NAIVE",
        ]
        for r in table.itertuples()
    ]
    headers = [
        "Series",
        "Weeks in the 50% band",
        "Weeks in the 90% band",
        "Mean abs. error (model median)",
        "Mean abs. error (last value carried forward)",
        "Better",
    ]
    attrs = [{"data-series": r.series} for r in table.itertuples()]
    sections = [
        PARTS.section(
            "How well the model would have predicted",
            PARTS.table(headers, rows, id="backtest-table", row_attrs=attrs),
            howto="A well-calibrated model has about half the weeks in its 50% band and nine "
            "in ten in its 90% band.",
        )
    ]
    # the table lines of the terminal's output are the table above: the header keeps the
    # sentences
    sentences = [x for x in lines if not x.startswith("  ")]
    header = [PARTS.h1(f"Back-test: {scenario.name}"), *(PARTS.p(x) for x in sentences)]
    return render(f"iopsim backtest: {scenario.name}", header, sections, figs)
