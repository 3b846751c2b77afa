"""Figures of what is uncertain: forecast fans, tornado and regression bars of sensitivity, and the robust plans' frontier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from simulation.dashboard.figures.common import LAYOUT, STAGE_COLOURS, _interval_bars, _rgba, label
from simulation.kpis import describe
from simulation.results.forecast import series_name


def fan(bands: pd.DataFrame, series: str, observed: pd.DataFrame | None = None) -> go.Figure:
    """A forecast fan: the 90% and 50% prediction bands and the median week by week, with
    what actually happened over it when known (a back-test)."""
    b = bands[bands["series"] == series].sort_values("week")
    colour = STAGE_COLOURS.get(series, "#4e79a7")
    fig = go.Figure()
    for low, high, alpha, name in (
        ("p5", "p95", 0.18, "90% band"),
        ("p25", "p75", 0.35, "50% band"),
    ):
        fig.add_trace(
            go.Scatter(
                x=b["date"],
                y=b[high],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=b["date"],
                y=b[low],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=_rgba(colour, alpha),
                name=name,
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=b["date"], y=b["p50"], mode="lines", line={"color": colour, "width": 2}, name="median"
        )
    )
    if observed is not None and series in observed:
        fig.add_trace(
            go.Scatter(
                x=observed["date"],
                y=observed[series],
                mode="lines+markers",
                line={"color": "#222222", "width": 2},
                marker={"size": 6},
                name="what happened",
            )
        )
    fig.update_layout(
        title=f"{series_name(series)}: forecast week by week",
        xaxis_title="Week starting",
        yaxis_title=series_name(series),
        **LAYOUT,
    )
    return fig


def tornado(oat: pd.DataFrame, kpi: str, ranked: list[str], top: int = 15) -> go.Figure:
    """One KPI's change when each uncertain input goes to its low or its high value (the rest
    as in the scenario), the ``top`` inputs of ``ranked`` (largest swing first) drawn from the
    top down, 95% CIs as error bars."""
    rows = oat[oat["kpi"] == kpi]
    order = list(reversed(ranked[:top]))  # bars are drawn from the bottom up
    fig = go.Figure()
    for level, colour, name in (
        ("low", "#4e79a7", "input at its low"),
        ("high", "#e15759", "input at its high"),
    ):
        part = rows[rows["level"] == level].set_index("input").reindex(order)
        fig.add_trace(
            go.Bar(
                y=[label(i) for i in order],
                x=part["delta"],
                orientation="h",
                name=name,
                marker_color=colour,
                customdata=np.column_stack([part["value"], part["ci_low"], part["ci_high"]]),
                error_x=_interval_bars(part["ci_low"], part["delta"], part["ci_high"]),
                hovertemplate="%{y} = %{customdata[0]:.4g}: change %{x:.3g} "
                "(95% CI %{customdata[1]:.3g} to %{customdata[2]:.3g})<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"{label(describe(kpi).description)}: change from the scenario's value",
        barmode="overlay",
        xaxis_title=f"change in {label(describe(kpi).description)}",
        height=max(320, 60 + 28 * len(order)),
        margin=dict(l=260, r=20, t=60, b=50),
        hovermode="closest",
    )
    fig.add_vline(x=0, line_color="#444", line_width=1)
    return fig


def regression_bars(src: pd.DataFrame, kpi: str, top: int = 15) -> go.Figure:
    """Standardised regression coefficients of one KPI on all inputs varied together."""
    rows = src[src["kpi"] == kpi].copy()
    rows = rows.reindex(rows["src"].abs().sort_values().index)[-top:]
    r2 = float(rows["r2"].iloc[0]) if len(rows) else float("nan")
    fig = go.Figure(
        go.Bar(
            y=[label(i) for i in rows["input"]],
            x=rows["src"],
            orientation="h",
            marker_color=np.where(rows["src"] >= 0, "#e15759", "#4e79a7"),
            error_x=_interval_bars(rows["ci_low"], rows["src"], rows["ci_high"]),
            hovertemplate="%{y}: %{x:.2f} sd of the KPI per sd of the input<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{label(describe(kpi).description)}: all inputs varied together (R² {r2:.2f})",
        xaxis_title="standardised regression coefficient",
        height=max(320, 60 + 28 * len(rows)),
        margin=dict(l=260, r=20, t=60, b=50),
        hovermode="closest",
    )
    fig.add_vline(x=0, line_color="#444", line_width=1)
    return fig


def robust_frontier(table: pd.DataFrame, required: float) -> go.Figure:
    """Cost against the share of futures in which every target holds, per simulated
    combination, with the required share as a line and the recommendation starred."""
    rows = (
        table[table["futures_met_share"].notna()]
        if "futures_met_share" in table
        else table.iloc[:0]
    )
    columns = list(table.columns)  # the plan table starts with the factors, then the cost
    factor_columns = columns[: columns.index("cost_per_week")] if "cost_per_week" in columns else []
    text = (
        rows[factor_columns].astype(str).agg(", ".join, axis=1)
        if factor_columns
        else rows.index.astype(str)
    )
    ok = rows["futures_met_share"] >= required
    fig = go.Figure(
        go.Scatter(
            x=rows["futures_met_share"],
            y=rows["cost_per_week"],
            mode="markers",
            marker=dict(size=11, color=np.where(ok, "#59a14f", "#e15759")),
            error_x=_interval_bars(
                rows["futures_met_ci_low"], rows["futures_met_share"], rows["futures_met_ci_high"]
            ),
            text=[label(t) for t in text],
            hovertemplate="%{text}<br>targets hold in %{x:.0%} of futures<br>$%{y:,.0f} a week<extra></extra>",
            name="combinations",
        )
    )
    best = rows[rows["recommended"]] if "recommended" in rows else rows.iloc[:0]
    if len(best):
        fig.add_trace(
            go.Scatter(
                x=best["futures_met_share"],
                y=best["cost_per_week"],
                mode="markers",
                marker=dict(symbol="star", size=20, color="#f28e2b"),
                name="recommended",
                hoverinfo="skip",
            )
        )
    fig.add_vline(x=required, line_dash="dash", line_color="#444")
    fig.update_layout(
        title=f"Cost against the share of plausible futures in which every target holds (required {required:.0%})",
        xaxis=dict(
            title="share of futures in which every target holds",
            tickformat=".0%",
            range=[-0.02, 1.02],
        ),
        yaxis_title="cost per week ($)",
        hovermode="closest",
    )
    return fig
