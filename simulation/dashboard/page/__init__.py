"""The dashboard page: one self-contained HTML file that works offline.

plotly.js is inlined once at the top of the page; each figure is a div with its JSON. Every
user-supplied text (scenario name and description, track, staff and room names) is escaped
before it reaches the page.


This face exports what the rest of iopsim uses from its modules."""

from simulation.dashboard.page.frame import (
    CSS,
    FIGURE_TEXT,
    brief_section,
    comparison_section,
    figure_text,
    group_table,
    kpi_table,
    limits_section,
    render,
    scenario_target_kpis,
)
from simulation.dashboard.page.records import backtest_page, fit_report, forecast_page
from simulation.dashboard.page.run import (
    build_figures,
    rebuild,
    run_dashboard,
    warmup_page,
    write_pngs,
)
from simulation.dashboard.page.studies import (
    EXPLORED,
    EXPLORER_JS,
    comparison_page,
    explorer_page,
    plan_page,
    sensitivity_page,
    sweep_page,
)

__all__ = [
    "CSS",
    "EXPLORED",
    "EXPLORER_JS",
    "FIGURE_TEXT",
    "backtest_page",
    "brief_section",
    "build_figures",
    "comparison_page",
    "comparison_section",
    "explorer_page",
    "figure_text",
    "fit_report",
    "forecast_page",
    "group_table",
    "kpi_table",
    "limits_section",
    "plan_page",
    "rebuild",
    "render",
    "run_dashboard",
    "scenario_target_kpis",
    "sensitivity_page",
    "sweep_page",
    "warmup_page",
    "write_pngs",
]
