"""The flow of clients through the pathway, as a Sankey diagram from referral to every exit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from simulation.dashboard.figures.common import LAYOUT, label


def level_flow(
    visits: pd.DataFrame, warmup_hours: float, years: float, replications: int
) -> go.Figure:
    """Flow per year between the levels of care: where stays at each level came from (the
    community, intake, the IOP or another level) and where they went (another level, the IOP,
    out of care, or still there at the end), for stays begun after the warm-up (Sankey)."""
    v = visits[visits["queued"] >= warmup_hours]
    scale = 1.0 / max(years * replications, 1e-9)
    # origins on the left, the levels in the middle, destinations on the right: a step from
    # one level to another is "to level b" on the right and "from level a" on the left, so
    # that feedback (a step back up) draws no cycle
    origin = {
        "community": "Referred to a level",
        "intake": "Intake: higher care",
        "iop": "IOP (step-up)",
        "relapse": "After a relapse out of care",
        "state": "There when the run began",
    }
    target = {
        "iop": "To the IOP",
        "discharge": "Out of care",
        "": "Still there",
        "relapsed": "Relapsed on the way on",
    }
    links: dict[tuple[str, str], float] = {}
    for (came_from, level), n in v.groupby(["came_from", "level"]).size().items():
        key = (origin.get(came_from, f"From level {came_from}"), f"Level {level}")
        links[key] = links.get(key, 0) + n * scale
    if "relapsed" in v:  # (runs before relapses were recorded have no such column)
        v = v.assign(to=v["to"].where(v["relapsed"].isna(), "relapsed"))
    for (level, to), n in v.groupby(["level", "to"]).size().items():
        key = (f"Level {level}", target.get(to, f"To level {to}"))
        links[key] = links.get(key, 0) + n * scale
    nodes = list(dict.fromkeys(name for pair in links for name in pair))
    idx = {n: i for i, n in enumerate(nodes)}
    fig = go.Figure(
        go.Sankey(
            node={"label": [label(n) for n in nodes], "pad": 14},
            link={
                "source": [idx[a] for a, _ in links],
                "target": [idx[b] for _, b in links],
                "value": list(links.values()),
                "hovertemplate": "%{value:.1f} a year<extra></extra>",
            },
        )
    )
    fig.update_layout(
        title="Flow between levels of care, stays a year (mean over replications)", **LAYOUT
    )
    return fig


def site_flow(
    clients: pd.DataFrame, sites: list[str], warmup_hours: float, years: float, replications: int
) -> go.Figure:
    """Where each region's clients were seen: IOP starts a year by region (rows) and site
    (columns), the network's flows as a matrix; clients of a network-wide virtual group by
    video are a column of their own."""
    c = clients[(clients["iop_start"] >= warmup_hours) & clients["iop_start"].notna()]
    scale = 1.0 / max(years * replications, 1e-9)
    video = "by video (any site)"
    where = c["site"].where(c["site"] != "", "no site")
    if "track_modality" in c:  # (not in the tables: virtual groups are told by the caller)
        where = where.where(c["track_modality"] != "virtual", video)
    regions = sorted(set(c["region"]))
    columns = [s for s in sites if s in set(where)] + sorted(set(where) - set(sites))
    counts = (
        pd.crosstab(c["region"], where).reindex(index=regions, columns=columns, fill_value=0)
        * scale
    )
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=[label(x) for x in columns],
            y=[label(y) for y in regions],
            colorscale="Blues",
            text=np.round(counts.to_numpy(), 1),
            texttemplate="%{text}",
            hovertemplate="%{y} to %{x}: %{z:.1f} IOP starts a year<extra></extra>",
        )
    )
    fig.update_layout(
        title="Where each region's clients were seen (IOP starts a year, mean over replications)",
        xaxis_title="site",
        yaxis_title="region",
        **LAYOUT,
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
