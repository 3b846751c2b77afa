"""Figures that set scenarios side by side: waitlists and utilisation compared, paired differences, target margins, sweep heatmaps and the frontier of plans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from simulation.dashboard.figures.common import (
    LAYOUT,
    SUSTAINABLE,
    _shade_warmup,
    _short,
    describe_unit,
    label,
    scenario_colours,
)


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
    for status, colour, name in (
        ("met", "#59a14f", "targets met"),
        ("not met", "#e15759", "targets not met"),
        ("overloaded", "#f28e2b", "targets met, a queue climbs without end"),
    ):
        rows = table[table["status"] == status]
        if rows.empty or f"{kpi}_mean" not in rows:
            continue
        labels = rows.drop(
            columns=[c for c in rows.columns if c.endswith(("_mean", "_ci_low", "_ci_high"))]
            + ["status", "recommended", "cost_per_week", "queues_without_end"],
            errors="ignore",
        ).astype(str)
        text = labels.apply(lambda r: ", ".join(f"{label(k)}={v}" for k, v in r.items()), axis=1)
        fig.add_trace(
            go.Scatter(
                x=rows["cost_per_week"],
                y=rows[f"{kpi}_mean"],
                mode="markers",
                name=name,
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
