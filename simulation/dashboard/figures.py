"""Dashboard figures: one function per figure, result tables in, ``go.Figure`` out.

Figures never simulate and never read files. Every user-supplied name that reaches a figure
goes through ``label()``, which escapes it so Plotly shows it as text (Plotly reads a few
HTML-like tags in labels; escaped, they are shown literally).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from scipy.special import stdtrit

from simulation.clock import HOURS_PER_DAY, WEEKDAYS
from simulation.kpis import UTILISATION_PREFIX, describe

STAGE_COLOURS = {
    "intake_waitlist": "#f28e2b",
    "iop_waitlist": "#e15759",
    "iop_census": "#4e79a7",
    "blocked": "#b07aa1",
    "op_waitlist": "#edc948",
    "op_census": "#59a14f",
}
STAGE_NAMES = {
    "intake_waitlist": "Waiting for intake",
    "iop_waitlist": "Waiting for IOP",
    "iop_census": "In IOP",
    "blocked": "In IOP, waiting for step-down",
    "op_waitlist": "Waiting for outpatient",
    "op_census": "In outpatient step-down",
}
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]
SUSTAINABLE = (0.75, 0.85)  # sustainable utilisation band [S2]
# Figures carry no template: copying one into every figure cost half the dashboard's build time.
# The page applies TEMPLATE once to every figure in the browser (see page.py); PNG export sets it.
pio.templates.default = "none"
TEMPLATE = "plotly_white"
LAYOUT = {
    "height": 420,
    "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
    "hovermode": "x unified",
}


def label(text: str) -> str:
    """A user-supplied name made safe to show in a figure."""
    return html.escape(str(text), quote=True)


def resource_colours(names: list[str]) -> dict[str, str]:
    """One colour per resource, the same in every figure (assigned in sorted-name order)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}


def _mean_band(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per-week mean across replications with a 95% t band."""
    g = frame.groupby("date")[column]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.count()})
    tq = stdtrit(np.maximum(out["n"] - 1, 1), 0.975)
    half = np.where(out["n"] > 1, tq * out["std"] / np.sqrt(out["n"]), 0.0)
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.reset_index()


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _band_traces(fig: go.Figure, band: pd.DataFrame, name: str, colour: str, hover: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=list(band["date"]) + list(band["date"][::-1]),
            y=list(band["high"]) + list(band["low"][::-1]),
            fill="toself",
            fillcolor=_rgba(colour, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=band["date"],
            y=band["mean"],
            name=name,
            line={"color": colour, "width": 2},
            hovertemplate=hover,
            legendgroup=name,
        )
    )


def _shade_warmup(fig: go.Figure, weekly: pd.DataFrame) -> None:
    warm = weekly[weekly["warmup"]]
    if not warm.empty:
        start = weekly["date"].min()
        end = warm["date"].max() + pd.Timedelta(days=7)
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor="#999999",
            opacity=0.15,
            line_width=0,
            annotation_text="warm-up (not in KPIs)",
            annotation_position="top left",
        )


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
    """Mean IOP caseload of each primary therapist (95% CI across replications) and the cap."""
    stats_ = table.groupby(["therapist", "pool", "cap"], sort=False)["mean_caseload"].agg(
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
        title="Primary-therapist caseloads: mean IOP clients held against the cap",
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


def flow(clients: pd.DataFrame, warmup_hours: float, years: float, replications: int) -> go.Figure:
    """6. Flow per year: referral -> intake -> IOP -> step-down -> discharge reasons (Sankey)."""
    c = clients[clients["referred"] >= warmup_hours]
    scale = 1.0 / max(years * replications, 1e-9)
    nodes = [
        "Referred",
        "Referred again",
        "Assessed",
        "IOP waitlist",
        "Started IOP",
        "Completed",
        "Outpatient step-down",
        "Lost before assessment",
        "Turned away",
        "Waiting for intake at end",
        "Referred on (other care)",
        "Lost from IOP waitlist",
        "Waiting for IOP at end",
        "Dropped out",
        "Escalated",
        "Other exit",
        "Authorisation ended",
        "In IOP at end",
        "Discharged",
    ]
    idx = {n: i for i, n in enumerate(nodes)}
    links: dict[tuple[str, str], float] = {}

    def add(a: str, b: str, n: int) -> None:
        if n:
            links[(a, b)] = links.get((a, b), 0) + n * scale

    assessed = c["assessed"].notna()
    again = (
        c["readmission_of"].to_numpy() >= 0
        if "readmission_of" in c
        else np.zeros(len(c), dtype=bool)
    )
    for origin, mine in (("Referred", ~again), ("Referred again", again)):
        add(origin, "Assessed", int((assessed & mine).sum()))
        not_assessed = c[~assessed & mine]
        add(origin, "Lost before assessment", int((not_assessed["status"] == "lost").sum()))
        add(origin, "Turned away", int((not_assessed["status"] == "turned_away").sum()))
        add(
            origin,
            "Waiting for intake at end",
            int((not_assessed["status"] == "intake_waitlist").sum()),
        )
    a = c[assessed]
    add("Assessed", "Referred on (other care)", int((a["outcome"] != "iop").sum()))
    w = a[a["outcome"] == "iop"]
    add("Assessed", "IOP waitlist", int(w["iop_waitlisted"].notna().sum()))
    add(
        "Assessed",
        "Turned away",
        int(((w["status"] == "turned_away") & w["iop_waitlisted"].isna()).sum()),
    )
    started = w["iop_start"].notna()
    add("IOP waitlist", "Started IOP", int(started.sum()))
    add("IOP waitlist", "Lost from IOP waitlist", int(((w["status"] == "lost") & ~started).sum()))
    add("IOP waitlist", "Waiting for IOP at end", int((w["status"] == "iop_waitlist").sum()))
    s = w[started]
    left = s["iop_end"].notna()
    for reason, node in [
        ("completed", "Completed"),
        ("dropped_out", "Dropped out"),
        ("escalated", "Escalated"),
        ("other", "Other exit"),
        ("authorisation_ended", "Authorisation ended"),
    ]:
        add("Started IOP", node, int((left & (s["exit_reason"] == reason)).sum()))
    add("Started IOP", "In IOP at end", int((~left).sum()))
    done = s[left & (s["exit_reason"] == "completed")]
    add("Completed", "Outpatient step-down", int(done["op_start"].notna().sum()))
    add("Completed", "Discharged", int(done["op_start"].isna().sum()))
    cut = s[left & (s["exit_reason"] == "authorisation_ended")]
    add("Authorisation ended", "Outpatient step-down", int(cut["op_start"].notna().sum()))
    stepped = s[left & s["op_start"].notna()]
    add("Outpatient step-down", "Discharged", int(stepped["op_end"].notna().sum()))
    keys = list(links)
    # Columns left to right follow the pathway; nodes with no flow are left out.
    column = {
        "Referred": 0.0,
        "Referred again": 0.0,
        "Assessed": 0.22,
        "Lost before assessment": 1.0,
        "Turned away": 1.0,
        "Waiting for intake at end": 1.0,
        "Referred on (other care)": 1.0,
        "IOP waitlist": 0.42,
        "Lost from IOP waitlist": 1.0,
        "Waiting for IOP at end": 1.0,
        "Started IOP": 0.6,
        "Completed": 0.78,
        "Dropped out": 1.0,
        "Escalated": 1.0,
        "Other exit": 1.0,
        "Authorisation ended": 0.78,
        "In IOP at end": 1.0,
        "Outpatient step-down": 0.9,
        "Discharged": 1.0,
    }
    if not keys:
        fig = go.Figure()
        fig.add_annotation(
            text="No referrals after the warm-up", showarrow=False, font={"size": 16}
        )
        fig.update_layout(
            title="Where referrals go: clients a year",
            xaxis_visible=False,
            yaxis_visible=False,
            **LAYOUT,
        )
        return fig
    nodes = [n for n in nodes if any(n in k for k in keys)]
    idx = {n: i for i, n in enumerate(nodes)}
    colours = {
        "Lost before assessment": "#e15759",
        "Lost from IOP waitlist": "#e15759",
        "Turned away": "#e15759",
        "Dropped out": "#f28e2b",
        "Escalated": "#b07aa1",
        "Authorisation ended": "#edc948",
        "Completed": "#59a14f",
    }
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": nodes,
                "pad": 14,
                "thickness": 14,
                "color": [colours.get(n, "#4e79a7") for n in nodes],
                "x": [max(0.001, min(0.999, column[n])) for n in nodes],
                "y": _column_positions(nodes, column, links),
            },
            link={
                "source": [idx[a] for a, _ in keys],
                "target": [idx[b] for _, b in keys],
                "value": [round(links[k], 2) for k in keys],
                "hovertemplate": "%{value:.1f} clients a year<extra></extra>",
            },
        )
    )
    fig.update_layout(
        title="Where referrals go: clients a year (mean over replications, after warm-up)",
        **{**LAYOUT, "height": 480, "hovermode": "closest"},
    )
    return fig


_MIDDLE_Y = {
    "Referred": 0.4,
    "Referred again": 0.9,
    "Assessed": 0.55,
    "IOP waitlist": 0.6,
    "Started IOP": 0.65,
    "Completed": 0.85,
    "Outpatient step-down": 0.9,
}


def _column_positions(
    nodes: list[str], column: dict[str, float], links: dict[tuple[str, str], float]
) -> list[float]:
    """Sankey node heights: pathway nodes by hand; the final column stacked in order by the
    size of each node with a minimum gap, so that no two labels overlap."""
    final = [n for n in nodes if column[n] == 1.0]
    size = {n: sum(v for (_, b), v in links.items() if b == n) for n in final}
    total = sum(size.values()) or 1.0
    gap = 0.06  # about a label's height at 480 px
    centres, used = [], 0.0
    for n in final:
        share = size[n] / total * (1 - gap * max(len(final) - 1, 0))
        centre = used + share / 2
        if centres:
            centre = max(centre, centres[-1] + gap)
        centres.append(centre)
        used = centre + share / 2 + gap / 2
    top = max(centres[-1], 0.98) if centres else 1.0
    y = {n: max(0.01, min(0.99, c / top * 0.98)) for n, c in zip(final, centres, strict=True)}
    return [y.get(n, _MIDDLE_Y.get(n, 0.5)) for n in nodes]


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


def _stacked_bars(x: list[str], series, hover: str) -> go.Figure:
    """A figure with one bar trace per (values, name, colour) over the same categories."""
    fig = go.Figure()
    for values, name, colour in series:
        fig.add_trace(go.Bar(x=x, y=values, name=name, marker_color=colour, hovertemplate=hover))
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


# ---------------------------------------------------------------------------------------------
# Comparisons, sweeps and plans
# ---------------------------------------------------------------------------------------------


def scenario_colours(labels: list[str]) -> dict[str, str]:
    """One colour per scenario in the order given (the first is the reference)."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def compare_waitlists(weekly: dict[str, pd.DataFrame]) -> go.Figure:
    """IOP (solid) and intake (dotted) waitlists of each scenario, overlaid."""
    fig = go.Figure()
    colours = scenario_colours(list(weekly))
    for name, table in weekly.items():
        means = table.groupby("date")[["iop_waitlist", "intake_waitlist"]].mean().reset_index()
        fig.add_trace(
            go.Scatter(
                x=means["date"],
                y=means["iop_waitlist"],
                name=f"{label(name)}: IOP",
                line={"color": colours[name], "width": 2},
                hovertemplate="%{y:.1f} clients",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=means["date"],
                y=means["intake_waitlist"],
                name=f"{label(name)}: intake",
                line={"color": colours[name], "width": 1.5, "dash": "dot"},
                hovertemplate="%{y:.1f} clients",
            )
        )
    first = next(iter(weekly.values()))
    _shade_warmup(fig, first)
    fig.update_layout(
        title="Waitlists by scenario: IOP (solid) and intake (dotted), weekly mean over replications",
        xaxis_title="Week starting",
        yaxis_title="Clients waiting",
        **LAYOUT,
    )
    return fig


COMPARED_UTILISATION = [
    "therapist_utilisation",
    "prescriber_utilisation",
    "intake_utilisation",
    "room_utilisation",
    "seat_occupancy",
]


def compare_utilisation(table: pd.DataFrame, labels: list[str]) -> go.Figure:
    """Utilisation KPIs side by side per scenario, with 95% CI error bars."""
    fig = go.Figure()
    colours = scenario_colours(labels)
    rows = table[table["kpi"].isin(COMPARED_UTILISATION)]
    for name in labels:
        r = rows[rows["scenario"] == name].set_index("kpi").reindex(COMPARED_UTILISATION)
        fig.add_trace(
            go.Bar(
                x=[k.replace("_", " ") for k in COMPARED_UTILISATION],
                y=r["mean"] * 100,
                name=label(name),
                marker_color=colours[name],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (r["ci_high"] - r["mean"]) * 100,
                    "arrayminus": (r["mean"] - r["ci_low"]) * 100,
                },
                hovertemplate="%{x}: %{y:.1f}%<extra>" + label(name) + "</extra>",
            )
        )
    fig.add_hrect(
        y0=SUSTAINABLE[0] * 100,
        y1=SUSTAINABLE[1] * 100,
        fillcolor="#59a14f",
        opacity=0.12,
        line_width=0,
    )
    fig.update_layout(
        title="Utilisation by scenario (% with 95% CI; green: sustainable 75-85%)",
        barmode="group",
        yaxis_title="%",
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def compare_differences(table: pd.DataFrame, labels: list[str], kpis: list[str]) -> go.Figure:
    """Paired difference of each KPI to the first scenario, as % of its value, with 95% CI."""
    fig = go.Figure()
    colours = scenario_colours(labels)
    base = table[table["scenario"] == labels[0]].set_index("kpi")["mean"]
    for name in labels[1:]:
        r = (
            table[(table["scenario"] == name) & table["kpi"].isin(kpis)]
            .set_index("kpi")
            .reindex(kpis)
        )
        scale = 100 / base.reindex(kpis).abs().replace(0, np.nan)
        fig.add_trace(
            go.Scatter(
                y=[k.replace("_", " ") for k in kpis],
                x=r["difference"] * scale,
                mode="markers",
                name=label(name),
                marker={"color": colours[name], "size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (r["difference_ci_high"] - r["difference"]) * scale,
                    "arrayminus": (r["difference"] - r["difference_ci_low"]) * scale,
                },
                hovertemplate="%{y}: %{x:+.1f}% of the first scenario<extra>"
                + label(name)
                + "</extra>",
            )
        )
    fig.add_vline(x=0, line_color="#333333")
    fig.update_layout(
        title=f"Difference to {label(labels[0])} (% of its value, paired 95% CI)",
        xaxis_title="% difference",
        **{**LAYOUT, "height": 120 + 28 * len(kpis), "hovermode": "closest"},
    )
    return fig


MET_SCALE = [
    [0.0, "#8b1a1a"],
    [0.4999, "#f4b6b6"],
    [0.5, "#c7e9c0"],
    [1.0, "#1a7f37"],
]
"""Red for a target missed (darker: further from it), green for met (darker: more margin)."""


def target_margin(rows: pd.DataFrame, target: tuple[str, float]) -> pd.Series:
    """How far each row's pessimistic CI end is on the good side of the target, as a share
    of the bound (negative: missed), clipped to [-1, 1]; the mean when there is no CI."""
    op, bound = target
    worst = (rows["ci_high"] if op == "<=" else rows["ci_low"]).fillna(rows["mean"])
    gap = (bound - worst) if op == "<=" else (worst - bound)
    return (gap / max(abs(bound), 1e-9)).clip(-1, 1)


def sweep_heatmap(
    table: pd.DataFrame, keys: list[str], kpi: str, target: tuple[str, float] | None
) -> go.Figure:
    """A KPI over the swept factors: a line for one factor, a heatmap for two, and one
    heatmap per combination of the others for three or more (never averaged over a factor).
    With a target, colours say met (green) or missed (red) at the pessimistic end of the
    95% CI, darker the further from the bound; infeasible cells are blank and labelled."""
    from plotly.subplots import make_subplots

    rows = table[table["kpi"] == kpi].copy()
    unit = describe_unit(kpi)
    rows["shown"] = [
        "infeasible" if str(st).startswith("infeasible") else _short(m, unit)
        for st, m in zip(rows["status"], rows["mean"], strict=True)
    ]
    if target is not None:
        rows["margin"] = target_margin(rows, target)
        rows["verdict"] = np.where(
            rows["margin"].isna(), "", np.where(rows["margin"] >= 0, "met", "not met")
        )
    met_any = target is not None and (rows["margin"] >= 0).any()
    goal = f"{target[0]} {target[1]:g}" if target is not None else ""
    if target is None:
        headline = f"{kpi} ({unit}): no target, colours show the value only"
    elif met_any:
        headline = f"{kpi} ({unit}): green cells meet the target {goal} with confidence"
    else:
        headline = f"{kpi} ({unit}): NO cell meets the target {goal}"
    if len(keys) == 1:
        return _sweep_line(rows, keys[0], kpi, target, headline)
    x_key, y_key, rest = keys[0], keys[1], keys[2:]
    facets = [((), rows)] if not rest else list(rows.groupby(rest, sort=True))
    shown = facets[:MAX_FACETS]
    columns = min(len(shown), 3)
    fig = make_subplots(
        rows=-(-len(shown) // columns),
        cols=columns,
        subplot_titles=[
            ", ".join(f"{label(k)}={v}" for k, v in zip(rest, np.atleast_1d(values), strict=True))
            for values, _ in shown
        ]
        if rest
        else None,
        horizontal_spacing=0.08,
        vertical_spacing=0.12,
    )
    for i, (_, part) in enumerate(shown):
        grid_rows = part.drop_duplicates([x_key, y_key])
        xs = sorted(grid_rows[x_key].unique())
        ys = sorted(grid_rows[y_key].unique())
        cell = grid_rows.set_index([y_key, x_key])
        z, text = [], []
        for y in ys:
            z_row, t_row = [], []
            for x in xs:
                r = cell.loc[(y, x)] if (y, x) in cell.index else None
                if r is None:
                    z_row.append(None)
                    t_row.append("")
                    continue
                value = r["margin"] if target is not None else r["mean"]
                z_row.append(None if pd.isna(value) else float(value))
                verdict = f"<br>{r['verdict']}" if target is not None and r["verdict"] else ""
                t_row.append(f"{r['shown']}{verdict}")
            z.append(z_row)
            text.append(t_row)
        trace = {
            "z": z,
            "x": [str(v) for v in xs],
            "y": [str(v) for v in ys],
            "text": text,
            "texttemplate": "%{text}",
            "hovertemplate": f"{label(x_key)}=%{{x}}<br>{label(y_key)}=%{{y}}<br>{label(kpi)}: "
            "%{text}<extra></extra>",
            "showscale": i == 0,
        }
        if target is not None:
            trace.update(
                colorscale=MET_SCALE,
                zmin=-1,
                zmax=1,
                colorbar={
                    "title": "margin",
                    "tickvals": [-1, 0, 1],
                    "ticktext": ["missed by 100%+", "at target", "100% spare"],
                },
            )
        else:
            trace.update(colorscale="Blues", colorbar={"title": unit})
        fig.add_trace(go.Heatmap(**trace), row=i // columns + 1, col=i % columns + 1)
    if len(facets) > MAX_FACETS:
        headline += f" (first {MAX_FACETS} of {len(facets)} panels; all cells in sweep.csv)"
    fig.update_xaxes(title_text=label(x_key), type="category")
    fig.update_yaxes(title_text=label(y_key), type="category")
    fig.update_layout(
        title=headline,
        **{**LAYOUT, "height": 420 * (-(-len(shown) // columns)), "hovermode": "closest"},
    )
    return fig


MAX_FACETS = 12


def _short(value, unit: str) -> str:
    from simulation.kpis import fmt

    return fmt(value, unit, weeks=False)


def _sweep_line(rows: pd.DataFrame, x_key: str, kpi: str, target, headline: str) -> go.Figure:
    rows = rows.sort_values(x_key)
    colours = (
        np.where(rows["margin"] >= 0, "#1a7f37", "#c0392b") if target is not None else "#4e79a7"
    )
    fig = go.Figure(
        go.Scatter(
            x=rows[x_key].astype(str),
            y=rows["mean"],
            mode="lines+markers+text",
            text=["infeasible" if v == "infeasible" else "" for v in rows["shown"].tolist()],
            textposition="top center",
            marker={"color": colours, "size": 11},
            name=label(kpi),
            error_y={
                "type": "data",
                "symmetric": False,
                "array": rows["ci_high"] - rows["mean"],
                "arrayminus": rows["mean"] - rows["ci_low"],
            },
        )
    )
    if target is not None:
        fig.add_hline(
            y=target[1], line_dash="dash", annotation_text=f"target {target[0]} {target[1]:g}"
        )
    fig.update_xaxes(type="category")
    fig.update_layout(title=headline, xaxis_title=label(x_key), yaxis_title=label(kpi), **LAYOUT)
    return fig


def frontier(table: pd.DataFrame, kpi: str) -> go.Figure:
    """Plan: cost against a KPI for every evaluated combination; the recommendation marked."""
    fig = go.Figure()
    evaluated = table[table["status"].isin(["met", "not met"])]
    for status, colour in (("met", "#59a14f"), ("not met", "#e15759")):
        rows = evaluated[evaluated["status"] == status]
        if rows.empty or f"{kpi}_mean" not in rows:
            continue
        labels = rows.drop(
            columns=[c for c in rows.columns if c.endswith(("_mean", "_ci_low", "_ci_high"))]
            + ["status", "recommended", "cost_per_week"]
        ).astype(str)
        text = labels.apply(lambda r: ", ".join(f"{label(k)}={v}" for k, v in r.items()), axis=1)
        fig.add_trace(
            go.Scatter(
                x=rows["cost_per_week"],
                y=rows[f"{kpi}_mean"],
                mode="markers",
                name=f"targets {status}",
                marker={"color": colour, "size": 10},
                text=text,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": rows[f"{kpi}_ci_high"] - rows[f"{kpi}_mean"],
                    "arrayminus": rows[f"{kpi}_mean"] - rows[f"{kpi}_ci_low"],
                },
                hovertemplate="%{text}<br>$%{x:,.0f}/wk: %{y:.2f}<extra></extra>",
            )
        )
    best = table[table["recommended"]]
    if not best.empty and f"{kpi}_mean" in best:
        fig.add_trace(
            go.Scatter(
                x=best["cost_per_week"],
                y=best[f"{kpi}_mean"],
                mode="markers",
                name="recommended",
                marker={
                    "symbol": "star",
                    "size": 22,
                    "color": "#f2c12e",
                    "line": {"width": 1, "color": "#333"},
                },
            )
        )
    fig.update_layout(
        title=f"Cost against {kpi}: every combination simulated (95% CI); star: the cheapest meeting all targets",
        xaxis_title="Staff and room cost ($ per week)",
        yaxis_title=kpi,
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def describe_unit(kpi: str) -> str:
    return describe(kpi).unit


def _lower_better(kpi: str) -> bool:
    return describe(kpi).better != "higher"


FAN_NAMES = {
    "iop_census": "Clients in the IOP",
    "iop_waitlist": "Waiting for an IOP place",
    "intake_waitlist": "Waiting for intake",
    "admissions": "IOP admissions a week",
    "discharges": "IOP discharges a week",
    "referrals": "Referrals a week",
}


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
        title=f"{FAN_NAMES.get(series, series)}: forecast week by week",
        xaxis_title="Week starting",
        yaxis_title=FAN_NAMES.get(series, series),
        **LAYOUT,
    )
    return fig


def _interval_bars(low: pd.Series, centre: pd.Series, high: pd.Series) -> dict:
    """Error bars drawing a (possibly asymmetric) interval around each value."""
    return dict(
        type="data",
        symmetric=False,
        array=(high - centre).clip(lower=0).fillna(0),
        arrayminus=(centre - low).clip(lower=0).fillna(0),
        thickness=1,
    )


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
