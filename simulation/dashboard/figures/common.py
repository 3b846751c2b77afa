"""What every figure shares: the stage colours and names, the palette and layout, labels, bands across replications and the warm-up shading."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from scipy.special import stdtrit

from simulation.kpis import describe

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


def scenario_colours(labels: list[str]) -> dict[str, str]:
    """One colour per scenario in the order given (the first is the reference)."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def describe_unit(kpi: str) -> str:
    return describe(kpi).unit


def _lower_better(kpi: str) -> bool:
    return describe(kpi).better != "higher"


def _short(value, unit: str) -> str:
    from simulation.kpis import fmt

    return fmt(value, unit, weeks=False)


def _interval_bars(low: pd.Series, centre: pd.Series, high: pd.Series) -> dict:
    """Error bars drawing a (possibly asymmetric) interval around each value."""
    return dict(
        type="data",
        symmetric=False,
        array=(high - centre).clip(lower=0).fillna(0),
        arrayminus=(centre - low).clip(lower=0).fillna(0),
        thickness=1,
    )


def _stacked_bars(x: list[str], series, hover: str) -> go.Figure:
    """A figure with one bar trace per (values, name, colour) over the same categories."""
    fig = go.Figure()
    for values, name, colour in series:
        fig.add_trace(go.Bar(x=x, y=values, name=name, marker_color=colour, hovertemplate=hover))
    return fig
