"""The dashboards' figures: one function per figure, result tables in, a Plotly figure out
(figures of one run, the flow, comparisons and sweeps, uncertainty), and what they share.

Figures never simulate and never read files. Every user-supplied name that reaches a figure
goes through ``label()``, which escapes it so Plotly shows it as text (Plotly reads a few
HTML-like tags in labels; escaped, they are shown literally)."""

from simulation.dashboard.figures.common import (
    LAYOUT,
    PALETTE,
    STAGE_COLOURS,
    STAGE_NAMES,
    SUSTAINABLE,
    TEMPLATE,
    describe_unit,
    label,
    resource_colours,
    scenario_colours,
)
from simulation.dashboard.figures.compare import (
    COMPARED_UTILISATION,
    MAX_FACETS,
    MET_SCALE,
    compare_differences,
    compare_utilisation,
    compare_waitlists,
    frontier,
    sweep_heatmap,
    target_margin,
)
from simulation.dashboard.figures.flow import flow, level_flow, site_flow
from simulation.dashboard.figures.run import (
    caseloads,
    census,
    group_sizes,
    hours_attended,
    levels,
    money,
    payer_money,
    staff_time,
    usage_heatmap,
    utilisation,
    waitlists,
    waits,
    warmup,
)
from simulation.dashboard.figures.uncertainty import (
    fan,
    regression_bars,
    robust_frontier,
    tornado,
)

__all__ = [
    "COMPARED_UTILISATION",
    "LAYOUT",
    "MAX_FACETS",
    "MET_SCALE",
    "PALETTE",
    "STAGE_COLOURS",
    "STAGE_NAMES",
    "SUSTAINABLE",
    "TEMPLATE",
    "caseloads",
    "census",
    "compare_differences",
    "compare_utilisation",
    "compare_waitlists",
    "describe_unit",
    "fan",
    "flow",
    "frontier",
    "group_sizes",
    "hours_attended",
    "level_flow",
    "site_flow",
    "levels",
    "label",
    "money",
    "payer_money",
    "regression_bars",
    "resource_colours",
    "robust_frontier",
    "scenario_colours",
    "staff_time",
    "sweep_heatmap",
    "target_margin",
    "tornado",
    "usage_heatmap",
    "utilisation",
    "waitlists",
    "waits",
    "warmup",
]
