"""The figures of one run: waitlists, utilisation, census, staff time, caseloads, waits, group sizes, hours attended, money and the warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.special import stdtrit

from simulation.clock import HOURS_PER_DAY, WEEKDAYS
from simulation.dashboard.figures.common import (
    LAYOUT,
    PALETTE,
    STAGE_COLOURS,
    STAGE_NAMES,
    SUSTAINABLE,
    _band_traces,
    _mean_band,
    _shade_warmup,
    _stacked_bars,
    label,
    resource_colours,
)
from simulation.kpis import UTILISATION_PREFIX


def waitlists(weekly: pd.DataFrame) -> go.Figure:
    """1. Waitlists over time (intake, IOP, outpatient): mean with a 95% band, warm-up shaded."""
    fig = go.Figure()
    for column in ("intake_waitlist", "iop_waitlist", "op_waitlist"):
        band = _mean_band(weekly, column)
        _band_traces(fig, band, STAGE_NAMES[column], STAGE_COLOURS[column], "%{y:.1f} clients")
    _shade_warmup(fig, weekly)
    fig.update_layout(
        title="Waitlists: clients waiting, weekly average (line: mean, band: 95% CI)",
        xaxis_title="Week starting",
        yaxis_title="Clients waiting",
        **LAYOUT,
    )
    return fig


def levels(weekly: pd.DataFrame, names: list[str]) -> go.Figure:
    """Each level of care over time: places held, clients waiting for a place and clients
    blocked (ready to go on, waiting for the next place), mean with a 95% band."""
    fig = go.Figure()
    dash = {"level_census": "solid", "level_waitlist": "dot", "level_blocked": "dash"}
    words = {"level_census": "in care", "level_waitlist": "waiting", "level_blocked": "blocked"}
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        for series in ("level_census", "level_waitlist", "level_blocked"):
            column = f"{series}[{name}]"
            if column not in weekly:
                continue
            band = _mean_band(weekly, column)
            _band_traces(fig, band, f"{label(name)}: {words[series]}", colour, "%{y:.1f} clients")
            fig.data[-1].line.dash = dash[series]
    _shade_warmup(fig, weekly)
    fig.update_layout(
        title="Levels of care: places held, waiting and blocked, weekly average (band: 95% CI)",
        xaxis_title="Week starting",
        yaxis_title="Clients",
        **LAYOUT,
    )
    return fig


def utilisation(weekly: pd.DataFrame, resources: list[str]) -> go.Figure:
    """2. Utilisation over time per staff pool and room, with the sustainable 75-85% band."""
    fig = go.Figure()
    colours = resource_colours(resources)
    for name in resources:
        column = f"{UTILISATION_PREFIX}{name}"
        if column not in weekly:
            continue
        band = _mean_band(weekly, column)
        for key in ("mean", "low", "high"):
            band[key] = band[key] * 100
        _band_traces(fig, band, label(name), colours[name], "%{y:.0f}%")
    fig.add_hrect(
        y0=SUSTAINABLE[0] * 100,
        y1=SUSTAINABLE[1] * 100,
        fillcolor="#59a14f",
        opacity=0.12,
        line_width=0,
        annotation_text="sustainable 75-85%",
        annotation_position="top right",
    )
    _shade_warmup(fig, weekly)
    fig.update_layout(
        title="Utilisation: client-facing hours as % of rostered (staff) or open (rooms) hours",
        xaxis_title="Week starting",
        yaxis_title="Utilisation (%)",
        yaxis_range=[0, 105],
        **LAYOUT,
    )
    return fig


def usage_heatmap(usage: pd.DataFrame) -> go.Figure:
    """3. Hour-of-week heatmap of use by resource: clashes and idle time."""
    mean = (
        usage.groupby(["resource", "hour_of_week"])[["busy_hours", "available_hours"]]
        .mean()
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean["share"] = np.where(
            mean["available_hours"] > 0, mean["busy_hours"] / mean["available_hours"], np.nan
        )
    grid = mean.pivot(index="resource", columns="hour_of_week", values="share").reindex(
        columns=range(168)
    )
    x = [f"{WEEKDAYS[h // 24].capitalize()} {h % 24:02d}:00" for h in range(168)]
    fig = go.Figure(
        go.Heatmap(
            z=(grid.to_numpy() * 100).round(1),
            x=x,
            y=[label(r) for r in grid.index],
            colorscale="YlOrRd",
            zmin=0,
            zmax=100,
            colorbar={"title": "% busy"},
            hovertemplate="%{y}<br>%{x}: %{z:.0f}% busy<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_layout(
        title="When resources are used: % of available capacity busy in each hour of the week (blank: not rostered or closed)",
        xaxis_title="Hour of the week",
        **{**LAYOUT, "hovermode": "closest"},
    )
    fig.update_xaxes(tickmode="array", tickvals=x[::12], ticktext=x[::12])
    return fig


def census(weekly: pd.DataFrame) -> go.Figure:
    """4. Census by stage over time, stacked."""
    means = weekly.groupby("date")[list(STAGE_COLOURS)].mean().reset_index()
    means["iop_census"] = means["iop_census"] - means["blocked"]  # stack blocked on top, not twice
    fig = go.Figure()
    for column, colour in STAGE_COLOURS.items():
        name = STAGE_NAMES[column] if column != "iop_census" else "In IOP (not blocked)"
        fig.add_trace(
            go.Scatter(
                x=means["date"],
                y=means[column],
                name=name,
                stackgroup="one",
                line={"color": colour, "width": 0.5},
                hovertemplate="%{y:.1f} clients",
            )
        )
    _shade_warmup(fig, weekly)
    fig.update_layout(
        title="Clients by stage of care, weekly average (stacked)",
        xaxis_title="Week starting",
        yaxis_title="Clients",
        **LAYOUT,
    )
    return fig


def staff_time(resources: pd.DataFrame, warmup_weeks: int) -> go.Figure:
    """Each staff pool's rostered week split into client-facing, indirect (notes, supervision,
    meetings) and free time (mean hours a week per pool, after warm-up)."""
    rows = resources[(resources["kind"] == "staff") & (resources["week"] >= warmup_weeks)]
    rows = rows.assign(indirect_hours=rows.get("indirect_hours", 0.0))  # older run folders
    means = rows.groupby("resource", sort=False)[
        ["busy_hours", "indirect_hours", "available_hours"]
    ].sum()
    weeks = max(rows["week"].nunique(), 1)
    means = means / weeks
    free = (means["available_hours"] - means["busy_hours"] - means["indirect_hours"]).clip(lower=0)
    names = [label(n) for n in means.index]
    fig = _stacked_bars(
        names,
        [
            (means["busy_hours"], "with clients", "#4e79a7"),
            (means["indirect_hours"], "indirect (notes, supervision, meetings)", "#f28e2b"),
            (free, "free", "#d9d9d9"),
        ],
        "%{x}: %{y:.1f} h a week<extra></extra>",
    )
    fig.update_layout(
        title="Staff time a week by pool: with clients, indirect, free (mean over the reporting weeks)",
        yaxis_title="Hours a week (all members)",
        barmode="stack",
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def caseloads(table: pd.DataFrame) -> go.Figure:
    """Mean IOP caseload of each primary therapist while in post (95% CI across
    replications) and the cap."""
    share = table.get("in_post_share", 1.0)  # (older folders: everyone in post throughout)
    held = table.assign(while_in_post=table["mean_caseload"] / share)
    stats_ = held.groupby(["therapist", "pool", "cap"], sort=False)["while_in_post"].agg(
        ["mean", "std", "count"]
    )
    stats_ = stats_.reset_index()
    half = (
        stdtrit(np.maximum(stats_["count"] - 1, 1), 0.975)
        * stats_["std"].fillna(0)
        / np.sqrt(stats_["count"])
    )
    colours = resource_colours(list(dict.fromkeys(stats_["pool"])))
    names = [label(t) for t in stats_["therapist"]]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=stats_["mean"],
            marker_color=[colours[p] for p in stats_["pool"]],
            error_y={"type": "data", "array": half},
            name="mean caseload",
            hovertemplate="%{x}: %{y:.1f} clients<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=stats_["cap"],
            mode="markers",
            marker={"symbol": "diamond", "size": 12, "color": "#333333"},
            name="caseload cap",
            hovertemplate="%{x}: cap %{y}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Primary-therapist caseloads: mean IOP clients held while in post, against the cap",
        yaxis_title="IOP clients",
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def waits(clients: pd.DataFrame, warmup_hours: float) -> go.Figure:
    """5. Distribution of waits (referral to intake, assessment to IOP start), 14-day line."""
    fig = go.Figure()
    pairs = [
        (
            "Referral to intake assessment",
            "referred",
            "intake_start",
            STAGE_COLOURS["intake_waitlist"],
        ),
        ("Assessment to first IOP day", "assessed", "iop_start", STAGE_COLOURS["iop_waitlist"]),
    ]
    top = 0.0
    for name, start, end, colour in pairs:
        rows = clients[(clients[start] >= warmup_hours) & clients[end].notna()]
        days = ((rows[end] - rows[start]) / HOURS_PER_DAY).to_numpy()
        if len(days) == 0:
            continue
        edges = np.arange(0, max(np.ceil(days.max()), 1) + 1)
        counts, _ = np.histogram(days, bins=edges)
        share = counts / counts.sum() * 100
        top = max(top, share.max())
        fig.add_trace(
            go.Bar(
                x=edges[:-1] + 0.5,
                y=share,
                name=name,
                marker_color=colour,
                opacity=0.75,
                hovertemplate="%{x:.0f} days: %{y:.1f}% of clients<extra>" + name + "</extra>",
            )
        )
    fig.add_vline(
        x=14, line_dash="dash", line_color="#333333", annotation_text="14 days (HEDIS initiation)"
    )
    fig.update_layout(
        title="How long clients wait (after warm-up; % of clients by days waited)",
        barmode="overlay",
        xaxis_title="Days waited",
        yaxis_title="% of clients",
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def group_sizes(sessions: pd.DataFrame, seats: dict[str, int]) -> go.Figure:
    """7. Attendees per group session held, per track, against the track's seats."""
    fig = go.Figure()
    colours = resource_colours(list(seats))
    held = sessions[sessions["held"]]
    for track, n_seats in seats.items():
        values = held.loc[held["track"] == track, "attendees"]
        counts = values.value_counts().reindex(range(n_seats + 1), fill_value=0)
        share = counts / max(counts.sum(), 1) * 100
        fig.add_trace(
            go.Bar(
                x=list(range(n_seats + 1)),
                y=share,
                name=f"{label(track)} ({n_seats} seats)",
                marker_color=colours[track],
                hovertemplate="%{x} attendees: %{y:.1f}% of sessions<extra></extra>",
            )
        )
    fig.update_layout(
        title="Group sizes: attendees per session held, by track (% of sessions; right end = seats)",
        xaxis_title="Clients attending the session",
        yaxis_title="% of sessions",
        barmode="group",
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def hours_attended(client_weeks: pd.DataFrame, warmup_weeks: int) -> go.Figure:
    """8. Hours attended per full client-week in IOP against the 9-hour (6 adolescent) rule."""
    rows = client_weeks[client_weeks["week"] >= warmup_weeks]
    fig = go.Figure()
    for rule, colour in ((9.0, "#4e79a7"), (6.0, "#76b7b2")):
        hours = rows.loc[rows["rule_hours"] == rule, "hours"].to_numpy()
        if len(hours) == 0:
            continue
        edges = np.arange(0, np.ceil(hours.max()) + 2)
        counts, _ = np.histogram(hours, bins=edges)
        met = (hours >= rule - 1e-9).mean() * 100
        name = (
            f"{'Adult' if rule == 9 else 'Adolescent'} tracks: {met:.0f}% of weeks meet {rule:g} h"
        )
        fig.add_trace(
            go.Bar(
                x=edges[:-1] + 0.5,
                y=counts / counts.sum() * 100,
                name=name,
                marker_color=colour,
                hovertemplate="%{x:.0f} h: %{y:.1f}% of client-weeks<extra></extra>",
            )
        )
        fig.add_vline(
            x=rule, line_dash="dash", line_color=colour, annotation_text=f"{rule:g} h rule"
        )
    fig.update_layout(
        title="Do clients get their hours? IOP hours attended per full week in the programme",
        xaxis_title="Hours attended in the week",
        yaxis_title="% of client-weeks",
        barmode="group",  # side by side: neither age group hides the other
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def money(weekly: pd.DataFrame) -> go.Figure:
    """9. Revenue, cost and margin per week (mean with 95% band)."""
    fig = go.Figure()
    for column, name, colour in (
        ("revenue", "Revenue", "#59a14f"),
        ("cost", "Cost", "#e15759"),
        ("margin", "Margin", "#4e79a7"),
    ):
        _band_traces(fig, _mean_band(weekly, column), name, colour, "$%{y:,.0f}")
    _shade_warmup(fig, weekly)
    fig.update_layout(
        title="Money per week: revenue (per diem, outpatient sessions), staff and room cost, margin ($)",
        xaxis_title="Week starting",
        yaxis_title="$ per week",
        **LAYOUT,
    )
    return fig


def payer_money(summary: pd.DataFrame) -> go.Figure:
    """Revenue collected and claims denied a week, by payer (stacked bars)."""
    by_kpi = summary.set_index("kpi")["mean"]
    payers = [
        k[len("revenue_per_week[payer=") : -1]
        for k in by_kpi.index
        if k.startswith("revenue_per_week[payer=")
    ]
    fig = _stacked_bars(
        [label(p) for p in payers],
        [
            ([float(by_kpi.get(f"{base}[payer={p}]", 0.0)) for p in payers], name, colour)
            for base, name, colour in (
                ("revenue_per_week", "Collected", "#59a14f"),
                ("denied_revenue_per_week", "Denied", "#e15759"),
            )
        ],
        "%{x}: $%{y:,.0f} a week<extra></extra>",
    )
    fig.update_layout(
        title="Money by payer: revenue collected and claims denied ($ a week)",
        yaxis_title="$ per week",
        barmode="stack",
        **LAYOUT,
    )
    return fig


def warmup(means: pd.DataFrame, suggestion: int, current: int, window: int) -> go.Figure:
    """Welch plot: replication-mean weekly series and their moving averages, with the MSER-5
    suggestion and the scenario's warm-up marked."""
    from simulation.results import moving_average

    fig = go.Figure()
    for column in ("iop_census", "iop_waitlist", "op_census"):
        if column not in means:
            continue
        colour = STAGE_COLOURS[column]
        fig.add_trace(
            go.Scatter(
                x=means["week"],
                y=means[column],
                name=f"{STAGE_NAMES[column]} (weekly mean)",
                line={"color": colour, "width": 1},
                opacity=0.45,
                hovertemplate="%{y:.1f}",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=means["week"],
                y=moving_average(means[column], window),
                name=f"{STAGE_NAMES[column]} ({2 * window + 1}-week moving average)",
                line={"color": colour, "width": 3},
                hovertemplate="%{y:.1f}",
            )
        )
    fig.add_vline(
        x=suggestion,
        line_dash="dash",
        line_color="#b3261e",
        annotation_text=f"suggested warm-up: {suggestion} weeks",
    )
    fig.add_vline(
        x=current,
        line_dash="dot",
        line_color="#333333",
        annotation_text=f"scenario: {current} weeks",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title="Warm-up: clients by stage from an empty clinic (seasonality off), with Welch moving averages",
        xaxis_title="Week of the run",
        yaxis_title="Clients",
        **LAYOUT,
    )
    return fig
