"""The dashboard page: one self-contained HTML file that works offline.

plotly.js is inlined once at the top of the page; each figure is a div with its JSON. Every
user-supplied text (scenario name and description, track, staff and room names) is escaped
before it reaches the page.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from simulation.config import Scenario
from simulation.dashboard import figures
from simulation.kpis import (
    HEADLINE,
    describe,
    fmt,
    fmt_interval,
    fmt_signed,
    kpi_label,
    split_group,
)

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:1.6em} header p{margin:2px 0;opacity:.9}
main{max-width:1280px;margin:0 auto;padding:12px 24px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:16px 0;padding:12px 16px}
h2{font-size:1.15em;margin:4px 0 8px}
.howto{color:#555;font-size:.92em;margin:4px 0 0}
table.kpis{border-collapse:collapse;width:100%;font-size:.92em}
table.kpis th,table.kpis td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left}
table.kpis td.num{text-align:right;font-variant-numeric:tabular-nums}
.met{color:#1b7e3c;font-weight:600}.notmet{color:#b3261e;font-weight:600}
.warning{background:#fff4e5;border-left:5px solid #f28e2b;padding:10px 14px;margin:12px 0}
.scroll{overflow-x:auto}
.grid{display:grid;grid-template-columns:1fr;gap:8px}
@media(min-width:1500px){.grid{grid-template-columns:1fr 1fr}}
section.brief{border-left:5px solid #1f3b57}
section.brief h3{font-size:1em;margin:10px 0 2px}
section.brief ul{margin:2px 0 4px 18px;padding:0}
@page{size:auto;margin:14mm}
@media print{
body{background:#fff;font-size:10pt}
header{background:none;color:#000;padding:0 0 4px}
header p.description,main>*:not(.brief),.print-hide{display:none!important}
main{max-width:none;padding:0}
section.brief{border:none;margin:0;padding:0;page-break-inside:avoid}
}
"""


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def kpi_table(summary: pd.DataFrame, targets: pd.DataFrame | None) -> str:
    """The KPI table: headline KPIs first, then the rest; mean, 95% CI and target verdict."""
    target_by_kpi = (
        {}
        if targets is None or targets.empty
        else {r["kpi"]: r for r in targets.to_dict("records")}
    )
    order = [k for k in HEADLINE if k in set(summary["kpi"])]
    order += [k for k in summary["kpi"] if k not in order and split_group(k)[1] is None]
    by_kpi = summary.set_index("kpi")
    rows = []
    for name in order:
        row = by_kpi.loc[name]
        unit = describe(name).unit
        ci = fmt_interval(row["mean"], row["ci_low"], row["ci_high"], unit)
        verdict = ""
        if name in target_by_kpi:
            t = target_by_kpi[name]
            met = t.get("met")
            if isinstance(met, float) and math.isnan(met):
                met = None
            cls, word = {True: ("met", "met"), False: ("notmet", "not met")}.get(
                met, ("", "no data")
            )
            verdict = f'<span class="{cls}">{_esc(t["target"])}: {word}</span>'
        rows.append(
            f"<tr data-kpi='{_esc(name)}'><td>{_esc(describe(name).description)}</td>"
            f"<td class='num' data-mean='{float(row['mean'])!r}'>{_esc(fmt(row['mean'], unit))}</td>"
            f"<td class='num'>{_esc(ci)}</td><td class='num'>{int(row['n'])}</td><td>{verdict}</td></tr>"
        )
    head = "<tr><th>Indicator (after warm-up)</th><th>Mean</th><th>95% CI</th><th>n</th><th>Target</th></tr>"
    return f"<table class='kpis' id='kpi-table'>{head}{''.join(rows)}</table>"


def group_table(summary: pd.DataFrame, targets: pd.DataFrame | None) -> str:
    """KPIs by track, age group and referral source: one row per group, one column per KPI,
    targets on a group marked met or not met."""
    verdicts = (
        {}
        if targets is None or targets.empty
        else {r["kpi"]: r.get("met") for r in targets.to_dict("records")}
    )
    by_kpi = summary.set_index("kpi")
    groups: dict[str, dict[str, str]] = {}
    bases: list[str] = []
    for name in summary["kpi"]:
        base, group = split_group(name)
        if group is None:
            continue
        if base not in bases:
            bases.append(base)
        row = by_kpi.loc[name]
        unit = describe(name).unit
        mark = ""
        if name in verdicts:
            met = verdicts[name]
            mark = " <span class='met'>met</span>" if met is True else ""
            mark = " <span class='notmet'>not met</span>" if met is False else mark
        groups.setdefault(group, {})[base] = (
            f"<td class='num' data-kpi='{_esc(name)}' data-mean='{float(row['mean'])!r}'>"
            f"{_esc(fmt(row['mean'], unit))}{mark}</td>"
        )
    if not groups:
        return ""
    head = (
        "<tr><th>Group</th>"
        + "".join(f"<th title='{_esc(b)}'>{_esc(kpi_label(b))}</th>" for b in bases)
        + "</tr>"
    )
    rows = [
        f"<tr><td>{_esc(group.replace('_', ' ').replace('=', ': '))}</td>"
        + "".join(cells.get(b, "<td></td>") for b in bases)
        + "</tr>"
        for group, cells in groups.items()
    ]
    return (
        "<section><h2>Who waits: by track, age group, referral source and payer</h2>"
        f"<div class='scroll'><table class='kpis' id='group-table'>{head}{''.join(rows)}</table></div>"
        "<p class='howto'>Means over replications. By track, only what happens once a client "
        "has a track (waits before placement belong to no track). Targets may name a group, "
        "e.g. <code>&quot;wait_to_iop_days_p90[age_group=adolescent]&quot; = &quot;&lt;= 14&quot;</code>."
        "</p></section>"
    )


def limits_section(summary: pd.DataFrame) -> str:
    """What held admissions up, in sentences (see limiting_factors)."""
    from simulation.results import limiting_factors

    lines = limiting_factors(summary)
    if not lines:
        return ""
    items = "".join(f"<li>{_esc(line)}</li>" for line in lines)
    return f"<section id='limits'><h2>What limits admissions</h2><ul>{items}</ul></section>"


def _figure_div(fig, div_id: str) -> str:
    # The figure JSON goes into a script tag; '<', '>' and '&' are written as \\u escapes so
    # no text inside it (a name such as '</script>') can close the tag.
    spec = pio.to_json(fig, validate=False)
    spec = spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        f"<div id='{div_id}' class='plot' style='width:100%;height:{fig.layout.height or 420}px'></div>"
        f"<script>(function(){{var f={spec};f.layout.template=IOPSIM_TEMPLATE;"
        f"Plotly.newPlot('{div_id}',f.data,f.layout,"
        "{responsive:true,displaylogo:false});})();</script>"
    )


FIGURE_TEXT = {
    "compare_waitlists": "Each colour is a scenario (same seed, so the same referrals arrive in each). Solid: IOP waitlist; dotted: intake waitlist.",
    "compare_utilisation": "Utilisation KPIs of each scenario with 95% CIs; the green band is the sustainable 75-85%.",
    "compare_differences": "How each scenario differs from the first, as % of the first's value. Paired by replication (common random numbers), so intervals are tight; an interval that crosses 0 is no clear difference.",
    "sweep": "The chosen KPI for every cell of the grid: its mean over replications is written in the cell. With a target, a cell is green only when the pessimistic end of its 95% CI meets the target (the same rule as everywhere in iopsim) and red when it does not; the darker, the further from the target. Blank cells are combinations that are not a valid clinic. A third factor gets one panel per value, never an average.",
    "frontier": "Every combination the planner simulated: cost against the KPI, green when all targets are met with confidence. The star is the recommendation. Combinations never simulated were known to fail (less capacity than a failure) or cost more.",
    "warmup": "Thin lines: weekly means over the pilot replications; thick: moving averages. The warm-up should end where the thick lines level off (red dashed line: MSER-5 suggestion).",
    "waitlists": "Line: mean weekly number waiting; band: 95% confidence interval across replications; grey: warm-up, left out of every KPI. A line that keeps climbing means demand exceeds capacity.",
    "utilisation": "Share of rostered staff hours (or open room hours) spent with clients (offices: hours booked for appointments). The green band is the sustainable 75-85%; above it, expect burnout and waits.",
    "heatmap": "Each row is a staff pool or room, each column an hour of the week; darker means busier. Dark cells show clashes, pale rostered cells show idle time.",
    "census": "How many clients are at each stage each week, stacked. The IOP layer is bounded by the seats and by the primary therapists' caseload places, whichever is fewer: the 'what limits admissions' table says which held admissions up.",
    "staff_time": "Each pool's rostered hours a week: with clients (what utilisation counts), indirect time the scenario reserves or the model books (notes after sessions; supervision, meetings and case management) and free time. Productivity is client-facing / paid hours.",
    "caseloads": "Mean IOP clients each primary therapist held (bars, 95% CI across replications) against their caseload cap (diamond). Bars at the cap mean caseloads, not seats, decide how many can be admitted.",
    "waits": "Share of clients by days waited, after warm-up. Bars to the right of the dashed line waited more than 14 days.",
    "flow": "Width is clients a year. Follow referrals through intake and the IOP to how they leave.",
    "groups": "How full the groups are: share of sessions by number attending. Bars near the seat count mean full groups.",
    "hours": "Hours each client attended in each full week of IOP (groups, individual, medication, family). The dashed line is the weekly minimum.",
    "payer_money": "Revenue collected and claims denied a week by payer (means over replications); each payer's per diem, billable-day rule, reviews and denial share decide them.",
    "robust": "Each combination the planner simulated: its cost against the share of plausible futures (draws of the uncertain inputs) in which every target holds, with a 95% interval for that share. Green: at or above the required share (dashed line). The star is the recommendation: the cheapest green one.",
    "tornado": "Each input goes to its low (blue) and its high (red) value while every other input keeps the scenario's value, with the same random draws (common random numbers): the bar is the change in the KPI, the whisker its 95% interval over replications. Inputs are sorted by how far they move the KPI; a zero bar means the KPI does not depend on that input.",
    "global": "Every input varied at once over its range (a Latin hypercube of points): how many standard deviations the KPI moves for one standard deviation of the input, with a 95% bootstrap interval. R² near 1: the one-at-a-time picture holds; well below 1: inputs interact or act non-linearly.",
    "fan": "The dark band holds the middle half of the simulated futures each week, the pale band nine in ten; the line is their median. On a back-test, the dots are what the clinic's records show: about half should fall in the dark band and nine in ten in the pale one.",
    "referrals": "Bars: referrals received each week of the extract; dashed line: the rate fitted from them (the model's weekly pattern and seasons come on top of it).",
    "stays": "Solid steps: the share of clients who had left by each reason within t days, from the records (stays still running are censored, not counted as ended); dashed: the same from the fitted exit mix and stays. Close lines mean the fit follows the records.",
    "money": "Weekly revenue (per diem per attended IOP day and outpatient sessions), cost (staff and rooms) and margin, with 95% bands.",
}


def build_figures(
    scenario: Scenario, tables: dict[str, pd.DataFrame], replications: int
) -> list[tuple[str, str, object]]:
    """(key, heading, figure) for every dashboard figure that has data."""
    warmup_hours = scenario.warmup_weeks * 168.0
    weekly = tables.get("weekly", pd.DataFrame())
    resources = [*scenario.staff, *[r.name for r in scenario.rooms]]
    resources += [o.name for o in scenario.offices]
    out = []
    if not weekly.empty:
        out.append(("waitlists", "Waitlists over time", figures.waitlists(weekly)))
        out.append(
            (
                "utilisation",
                "Utilisation of staff and rooms",
                figures.utilisation(weekly, resources),
            )
        )
    if "usage" in tables:
        out.append(
            ("heatmap", "Utilisation by hour of the week", figures.usage_heatmap(tables["usage"]))
        )
    if not weekly.empty:
        out.append(("census", "Clients by stage", figures.census(weekly)))
    if "resources" in tables:
        out.append(
            (
                "staff_time",
                "Staff time",
                figures.staff_time(tables["resources"], scenario.warmup_weeks),
            )
        )
    caseloads = tables.get("caseloads")
    if caseloads is not None and not caseloads.empty:
        out.append(("caseloads", "Caseloads of primary therapists", figures.caseloads(caseloads)))
    clients = tables.get("clients")
    if clients is not None:
        out.append(("waits", "Waits", figures.waits(clients, warmup_hours)))
        out.append(
            (
                "flow",
                "Flow of clients",
                figures.flow(clients, warmup_hours, scenario.horizon_weeks / 52.0, replications),
            )
        )
    if "sessions" in tables:
        seats = {t.name: t.seats for t in scenario.tracks}
        out.append(("groups", "Group sizes", figures.group_sizes(tables["sessions"], seats)))
    if "client_weeks" in tables:
        out.append(
            (
                "hours",
                "Hours attended per week",
                figures.hours_attended(tables["client_weeks"], scenario.warmup_weeks),
            )
        )
    if not weekly.empty:
        out.append(("money", "Money", figures.money(weekly)))
    return out


def _template_json() -> str:
    """The figures' template (colours, fonts, grid) once per page, as JSON safe in a script."""
    spec = json.dumps(pio.templates[figures.TEMPLATE].to_plotly_json(), cls=PlotlyJSONEncoder)
    return spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def figure_text(key: str) -> str:
    """How to read the figure ``key`` ('fan-iop_census' reads as 'fan'); every figure has one."""
    return FIGURE_TEXT.get(key) or FIGURE_TEXT[key.split("-")[0]]


def render(
    title: str,
    header_lines: list[str],
    sections: list[str],
    figures_list: list[tuple[str, str, object]],
) -> str:
    """A whole page: header lines and sections are HTML already escaped by the caller."""
    body = []
    for key, heading, fig in figures_list:
        body.append(
            f"<section class='figure' data-figure='{_esc(key)}'><h2>{_esc(heading)}</h2>"
            f"{_figure_div(fig, 'fig-' + key)}<p class='howto'>How to read this: "
            f"{_esc(figure_text(key))}</p></section>"
        )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_esc(title)}</title><style>{CSS}</style>"
        f"<script>{get_plotlyjs()}</script><script>var IOPSIM_TEMPLATE={_template_json()};</script>"
        "</head><body>"
        f"<header>{''.join(header_lines)}</header><main>{''.join(sections)}"
        f"<div class='grid'>{''.join(body)}</div></main></body></html>"
    )


def brief_section(brief, title: str = "Decision brief") -> str:
    """The brief at the top of a page (and all that a printed page shows)."""
    parts = [f"<section class='brief' id='brief'><h2>{_esc(title)}</h2>"]
    for heading, lines in brief:
        items = "".join(
            f"<li class='{'sub' if line.startswith('  ') else ''}'>{_esc(line.strip())}</li>"
            for line in lines
        )
        parts.append(f"<h3>{_esc(heading)}</h3><ul>{items}</ul>")
    parts.append(
        "<p class='howto print-hide'>Printing this page prints this brief alone, on one page.</p>"
        "</section>"
    )
    return "".join(parts)


def run_dashboard(
    scenario: Scenario,
    summary: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    targets: pd.DataFrame | None,
    notes: list[str],
    info: dict,
    hinges: list[str] | None = None,
    fix: list[str] | None = None,
) -> str:
    """The dashboard of one run as an HTML string (``hinges``: a sensitivity run's findings,
    ``fix``: a plan's recommendation, for the brief)."""
    from simulation.brief import run_brief

    header = [
        f"<h1>{_esc(scenario.name)}</h1>",
        f"<p class='description'>{_esc(scenario.description)}</p>",
        f"<p>Run {_esc(info.get('started', ''))} &middot; {int(info.get('replications', 0))} replications &middot; "
        f"seed {_esc(info.get('seed', ''))} &middot; {scenario.horizon_weeks} weeks measured after "
        f"{scenario.warmup_weeks} weeks warm-up &middot; starting {_esc(scenario.start_date.isoformat())}</p>",
    ]
    sections = [brief_section(run_brief(summary, scenario.target_list(), notes, hinges, fix))]
    sections += [f"<div class='warning'>{_esc(note)}</div>" for note in notes]
    sections.append(
        f"<section><h2>Key indicators</h2>{kpi_table(summary, targets)}"
        "<p class='howto'>Means over replications with 95% confidence intervals (Student t). "
        "A target is met only when the whole interval is on the right side of it.</p></section>"
    )
    sections += [limits_section(summary), group_table(summary, targets)]
    figs = build_figures(scenario, tables, int(info.get("replications", 1)))
    if scenario.payers:
        figs.append(("payer_money", "Money by payer", figures.payer_money(summary)))
    return render(f"iopsim: {scenario.name}", header, sections, figs)


def rebuild(
    run_data, png: bool = False, hinges: list[str] | None = None, fix: list[str] | None = None
) -> Path:
    """Rewrite a run folder's dashboard.html and brief.md from its tables (and PNGs with
    ``png``; ``hinges``: a sensitivity run's findings, ``fix``: a plan's recommendation, for
    the brief)."""
    from simulation.brief import as_markdown, run_brief
    from simulation.outputs import write_file_atomic
    from simulation.results import target_status

    targets = target_status(run_data.scenario, run_data.summary)
    m = run_data.manifest
    info = {
        "started": m.get("started", ""),
        "replications": m.get("replications", 0),
        "seed": m.get("seed", ""),
    }
    notes = m.get("notes", [])
    sc = run_data.scenario
    page = run_dashboard(sc, run_data.summary, run_data.tables, targets, notes, info, hinges, fix)
    brief = run_brief(run_data.summary, sc.target_list(), notes, hinges, fix)
    write_file_atomic(Path(run_data.folder) / "brief.md", as_markdown(f"Brief: {sc.name}", brief))
    path = write_file_atomic(Path(run_data.folder) / "dashboard.html", page)
    if png:
        write_pngs(run_data)
    return path


def write_pngs(run_data) -> list[Path]:
    """Each figure as a PNG in the run folder (kaleido with the system chromium, one browser
    for all figures)."""
    import os

    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")  # kaleido finds Chrome through this
    figs = build_figures(
        run_data.scenario, run_data.tables, int(run_data.manifest.get("replications", 1))
    )
    for _, _, fig in figs:
        fig.update_layout(template=figures.TEMPLATE)  # the page applies it in the browser
    paths = [Path(run_data.folder) / f"figure-{key}.png" for key, _, _ in figs]
    pio.write_images(
        [fig for _, _, fig in figs],
        [str(p) for p in paths],
        width=1200,
        height=[fig.layout.height or 420 for _, _, fig in figs],
    )
    return paths


# ---------------------------------------------------------------------------------------------
# Pages of the other commands: warm-up, comparison, sweep, plan
# ---------------------------------------------------------------------------------------------


def warmup_page(
    scenario: Scenario, means: pd.DataFrame, suggestion: int, replications: int, window: int
) -> str:
    """The Welch plot page of ``iopsim warmup``."""
    fig = figures.warmup(means, suggestion, scenario.warmup_weeks, window)
    header = [
        f"<h1>Warm-up: {_esc(scenario.name)}</h1>",
        f"<p>{replications} pilot replications of {int(means['week'].max()) + 1} weeks from an empty "
        f"clinic; suggested warm-up {suggestion} weeks (MSER-5), scenario {scenario.warmup_weeks} weeks.</p>",
    ]
    return render(f"iopsim warm-up: {scenario.name}", header, [], [("warmup", "Welch plot", fig)])


def comparison_section(table: pd.DataFrame, labels: list[str]) -> str:
    """Headline KPIs per scenario with the paired difference to the first."""
    head = (
        "<tr><th>Indicator</th>" + "".join(f"<th>{_esc(label)}</th>" for label in labels) + "</tr>"
    )
    rows = []
    for kpi in HEADLINE:
        unit = describe(kpi).unit
        cells = []
        for label in labels:
            r = table[(table["kpi"] == kpi) & (table["scenario"] == label)]
            if r.empty:
                cells.append("<td></td>")
                continue
            r = r.iloc[0]
            diff = ""
            if label != labels[0]:
                diff = (
                    f"<br><small>{_esc(fmt_signed(r['difference'], unit))} ({_esc(fmt_signed(r['difference_ci_low'], unit))}"
                    f" to {_esc(fmt_signed(r['difference_ci_high'], unit))})</small>"
                )
            cells.append(f"<td class='num'>{_esc(fmt(r['mean'], unit))}{diff}</td>")
        rows.append(
            f"<tr data-kpi='{_esc(kpi)}'><td>{_esc(describe(kpi).description)}</td>{''.join(cells)}</tr>"
        )
    return (
        "<section><h2>Key indicators (difference to the first, paired 95% CI)</h2>"
        f"<table class='kpis'>{head}{''.join(rows)}</table></section>"
    )


def comparison_page(
    table: pd.DataFrame,
    labels: list[str],
    weekly: dict[str, pd.DataFrame],
    targets: list | None = None,
) -> str:
    """The page of ``iopsim compare`` (``targets``: the first scenario's, for the brief)."""
    from simulation.brief import compare_brief

    figs = [
        (
            "compare_differences",
            "Differences to the first scenario",
            figures.compare_differences(table, labels, list(HEADLINE)),
        ),
        ("compare_waitlists", "Waitlists", figures.compare_waitlists(weekly)),
        ("compare_utilisation", "Utilisation", figures.compare_utilisation(table, labels)),
    ]
    header = [
        f"<h1>Comparison of {len(labels)} scenarios</h1>",
        "<p>" + " &middot; ".join(_esc(label) for label in labels) + "</p>",
    ]
    brief = brief_section(compare_brief(table, labels, targets or []))
    return render("iopsim comparison", header, [brief, comparison_section(table, labels)], figs)


def sweep_page(
    scenario: Scenario, table: pd.DataFrame, factors, kpi: str, replications: int
) -> str:
    """The page of ``iopsim sweep``: ``kpi`` over the first two factors with its target."""
    keys = [f.key for f in factors]
    target = next(((op, bound) for k, op, bound in scenario.target_list() if k == kpi), None)
    fig = figures.sweep_heatmap(table, keys, kpi, target)
    cells = table.drop_duplicates("cell")
    infeasible = cells[cells["status"].str.startswith("infeasible")]
    header = [
        f"<h1>Sweep: {_esc(scenario.name)}</h1>",
        f"<p>{_esc(' x '.join(f'{f.key} ({len(f.values)})' for f in factors))}: "
        f"{len(cells)} cells, {replications} replications each, seed {scenario.seed}</p>",
    ]
    if len(infeasible):
        header.append(
            f"<p class='warning'>{len(infeasible)} combination(s) are not a valid clinic and were "
            "not simulated:</p><ul>"
            + "".join(
                f"<li>{_esc(r.overrides)}: {_esc(r.status)}</li>" for r in infeasible.itertuples()
            )
            + "</ul>"
        )
    return render(f"iopsim sweep: {scenario.name}", header, [], [("sweep", kpi, fig)])


def plan_page(
    scenario: Scenario,
    table: pd.DataFrame,
    lines: list[str],
    target_kpis: list[str],
    robust: float | None = None,
) -> str:
    """The page of ``iopsim plan``: the recommendation and the cost-against-wait frontier
    (with --robust: cost against the share of futures in which every target holds)."""
    wait_kpi = next((k for k in target_kpis if describe(k).unit == "days"), target_kpis[0])
    from simulation.brief import plan_brief

    figs = [("frontier", "Cost against waits", figures.frontier(table, wait_kpi))]
    if robust is not None and "futures_met_share" in table:
        figs.insert(
            0, ("robust", "Cost against plausible futures", figures.robust_frontier(table, robust))
        )
    header = [
        f"<h1>Plan: {_esc(scenario.name)}</h1>",
    ]
    return render(f"iopsim plan: {scenario.name}", header, [brief_section(plan_brief(lines))], figs)


# ---------------------------------------------------------------------------------------------
# The clinic's own data: fit report, forecast, back-test
# ---------------------------------------------------------------------------------------------


def fit_report(scenario: Scenario, result, episodes) -> str:
    """What was fitted from the extract, with its evidence, and observed against fitted."""
    import numpy as np
    import plotly.graph_objects as go

    rows = "".join(
        f"<tr><td>{_esc(e.key)}</td><td>{_esc(e.comment())}</td></tr>" for e in result.evidence
    )
    sections = [
        "<section><h2>Fitted values</h2><table class='kpis' id='fit-table'>"
        f"<tr><th>Scenario key</th><th>Estimate, 95% CI, n, method</th></tr>{rows}</table>"
        "<p class='howto'>Values not listed keep the template's estimate and are marked [E] in "
        "the scenario file.</p></section>"
    ]
    sections += [f"<div class='warning'>{_esc(n)}</div>" for n in result.notes]
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
        f"<h1>Fit report: {_esc(scenario.name)}</h1>",
        f"<p>{len(episodes.table)} referrals up to {_esc(episodes.as_of.date())}; "
        f"{episodes.dropped_rows} bad rows left out. No identifier from the extract is shown.</p>",
    ]
    return render(f"iopsim fit: {scenario.name}", header, sections, figs)


def forecast_page(scenario: Scenario, bands: pd.DataFrame, summary, targets, info: dict) -> str:
    """The forecast: a fan chart per series, the KPIs over the forecast weeks."""
    from simulation.results import FORECAST_SERIES

    figs = [(f"fan-{s}", figures.FAN_NAMES[s], figures.fan(bands, s)) for s in FORECAST_SERIES]
    state = scenario.state
    header = [
        f"<h1>Forecast: {_esc(scenario.name)}</h1>",
        f"<p>From the clinic's state on {_esc(state.as_of if state else scenario.start_date)} "
        f"({len(state.clients) if state else 0} clients on the books), {scenario.horizon_weeks} weeks, "
        f"{int(info.get('replications', 0))} replications, seed {_esc(info.get('seed', ''))}.</p>",
    ]
    sections = [f"<section><h2>Over the forecast weeks</h2>{kpi_table(summary, targets)}</section>"]
    return render(f"iopsim forecast: {scenario.name}", header, sections, figs)


def backtest_page(scenario: Scenario, bands, observed, table, lines: list[str]) -> str:
    """The back-test: what happened drawn over the forecast's fan, and the coverage table."""
    from simulation.results import BACKTEST_SERIES

    figs = [
        (f"fan-{s}", figures.FAN_NAMES[s], figures.fan(bands, s, observed)) for s in BACKTEST_SERIES
    ]
    rows = "".join(
        f"<tr data-series='{_esc(r.series)}'><td>{_esc(r.series)}</td><td class='num'>{100 * r.coverage_50:.0f}%</td>"
        f"<td class='num'>{100 * r.coverage_90:.0f}%</td><td class='num'>{r.mae_model:.2f}</td>"
        f"<td class='num'>{r.mae_naive:.2f}</td><td>{'model' if r.model_better else 'NAIVE'}</td></tr>"
        for r in table.itertuples()
    )
    sections = [
        "<section><h2>How well the model would have predicted</h2><table class='kpis' id='backtest-table'>"
        "<tr><th>Series</th><th>Weeks in the 50% band</th><th>Weeks in the 90% band</th>"
        "<th>Mean abs. error (model median)</th><th>Mean abs. error (last value carried forward)</th>"
        f"<th>Better</th></tr>{rows}</table><p class='howto'>A well-calibrated model has about half "
        "the weeks in its 50% band and nine in ten in its 90% band.</p></section>"
    ]
    # the table lines of the terminal's output are the table above: the header keeps the
    # sentences
    sentences = [x for x in lines if not x.startswith("  ")]
    header = [
        f"<h1>Back-test: {_esc(scenario.name)}</h1>",
        "".join(f"<p>{_esc(x)}</p>" for x in sentences),
    ]
    return render(f"iopsim backtest: {scenario.name}", header, sections, figs)


def sensitivity_page(scenario: Scenario, result, lines: list[str]) -> str:
    """Which assumptions move the answer: the findings in sentences, the inputs and their
    ranges, a tornado and the all-at-once coefficients per KPI."""
    inputs = "".join(
        f"<tr><td>{_esc(i.key)}</td><td class='num'>{i.base:.4g}</td><td class='num'>{i.low:.4g}</td>"
        f"<td class='num'>{i.high:.4g}</td><td>{_esc(i.source)}</td></tr>"
        for i in result.inputs
    )
    sections = [
        "<section class='brief' id='sensitivity-brief'><h2>What the answer hinges on</h2><ul>"
        + "".join(f"<li>{_esc(line)}</li>" for line in lines)
        + "</ul></section>",
        "<section><h2>Uncertain inputs and their ranges</h2><table class='kpis' id='inputs-table'>"
        "<tr><th>Input</th><th>Scenario's value</th><th>Low</th><th>High</th><th>Range from</th></tr>"
        f"{inputs}</table></section>",
    ]
    if result.skipped:
        sections.append(
            "<section><h2>Not simulated (not a valid clinic)</h2><ul>"
            + "".join(f"<li>{_esc(s)}</li>" for s in result.skipped)
            + "</ul></section>"
        )
    figs = []
    for kpi in result.kpis:
        figs.append(
            (
                f"tornado-{kpi}",
                f"One at a time: {kpi}",
                figures.tornado(result.one_at_a_time, kpi, result.ranking(kpi)["input"].tolist()),
            )
        )
        if len(result.global_src):
            figs.append(
                (
                    f"global-{kpi}",
                    f"All at once: {kpi}",
                    figures.regression_bars(result.global_src, kpi),
                )
            )
    header = [
        f"<h1>Sensitivity: {_esc(scenario.name)}</h1>",
        f"<p>{len(result.inputs)} uncertain inputs; one at a time with {len(result.base)} "
        f"replications each (common random numbers); {len(result.global_points)} points varying "
        "all inputs at once (Latin hypercube).</p>",
    ]
    return render(f"iopsim sensitivity: {scenario.name}", header, sections, figs)


EXPLORER_JS = """
(function(){
var D=JSON.parse(document.getElementById('explorer-data').textContent);
var units={share:function(v){return (100*v).toFixed(1)+'%';},days:function(v){return v.toFixed(1)+' d';},
 money_per_week:function(v){return '$'+Math.round(v).toLocaleString('en-US')+'/wk';},
 hours_per_week:function(v){return v.toFixed(1)+' h/wk';},per_week:function(v){return v.toFixed(2)+'/wk';}};
function show(v,u){if(v===null||v===undefined||isNaN(v))return 'n/a';return (units[u]||function(x){return x.toFixed(1);})(v);}
function chosen(){return D.factors.map(function(f,i){return f.values[+document.getElementById('factor-'+i).value];});}
function draw(){
 var values=chosen();
 D.factors.forEach(function(f,i){document.getElementById('factor-value-'+i).textContent=String(values[i]);});
 var cell=D.cells[JSON.stringify(values)];
 var body=document.getElementById('explorer-kpis');body.innerHTML='';
 var status=document.getElementById('explorer-status');
 if(!cell){status.textContent='This combination was not run.';return;}
 status.textContent=cell.status==='ok'?(cell.all_met===null?'':(cell.all_met?'Every target is met.':'Not every target is met.')):cell.status;
 document.getElementById('explorer-cell').textContent=cell.cell;
 D.kpis.forEach(function(k){var r=cell.kpis[k.name];if(!r)return;var tr=document.createElement('tr');tr.setAttribute('data-kpi',k.name);
  var t=D.targets[k.name];var met=cell.met[k.name];
  [k.description,show(r[0],k.unit),show(r[1],k.unit)+' to '+show(r[2],k.unit),t?t:'',t?(met?'met':'NOT met'):''].forEach(function(x,j){
   var td=document.createElement('td');td.textContent=x;if(j===1){td.className='num';td.setAttribute('data-value',String(r[0]));}
   if(j===4&&t){td.className=met?'met':'notmet';}tr.appendChild(td);});body.appendChild(tr);});
 var w=cell.weekly;var traces=[];
 if(w){traces=[{x:w.week,y:w.iop_waitlist,name:'IOP waitlist',mode:'lines'},{x:w.week,y:w.intake_waitlist,name:'Intake waitlist',mode:'lines',line:{dash:'dot'}}];}
 Plotly.react('explorer-waitlist',traces,{template:IOPSIM_TEMPLATE,title:'Waitlists of this cell (mean over replications; warm-up included)',
  xaxis:{title:'week'},yaxis:{title:'clients waiting',rangemode:'tozero'},height:380,margin:{l:60,r:20,t:60,b:50}},{responsive:true,displaylogo:false});
}
D.factors.forEach(function(f,i){document.getElementById('factor-'+i).addEventListener('input',draw);});
draw();
})();
"""


EXPLORED = (
    "referrals_per_week",
    "referral_to_iop_days_mean",
    "lost_before_assessment_share",
    "admissions_per_week",
    "revenue_per_week",
    "cost_per_week",
)


def explorer_page(
    scenario: Scenario,
    table: pd.DataFrame,
    factors,
    weekly: dict[str, pd.DataFrame],
    replications: int,
) -> str:
    """One file, no server: a slider per factor of a sweep; moving one shows the chosen
    cell's KPIs with CIs, its targets and its waitlists, from data embedded in the page."""
    keys = [f.key for f in factors]
    shown = [*scenario_target_kpis(scenario), *EXPLORED, *HEADLINE]
    kpi_names = [k for k in dict.fromkeys(shown) if k in set(table["kpi"])]
    targets = {k: f"{op} {bound:g}" for k, op, bound in scenario.target_list()}
    cells = {}
    for cell, rows in table.groupby("cell", sort=False):
        first = rows.iloc[0]
        values = [_plain(first[k]) for k in keys]
        by = rows.set_index("kpi")
        entry = {
            "cell": str(cell),
            "status": str(first["status"]),
            "all_met": None
            if pd.isna(first.get("all_targets_met"))
            else bool(first["all_targets_met"]),
            "kpis": {
                k: [
                    _number(by.loc[k, "mean"]),
                    _number(by.loc[k, "ci_low"]),
                    _number(by.loc[k, "ci_high"]),
                ]
                for k in kpi_names
                if k in by.index
            },
            "met": {
                k: (None if pd.isna(by.loc[k, "met"]) else bool(by.loc[k, "met"]))
                for k in targets
                if k in by.index
            },
        }
        if cell in weekly:
            w = weekly[cell]
            entry["weekly"] = {
                c: [_number(x) for x in w[c]]
                for c in ("week", "iop_waitlist", "intake_waitlist")
                if c in w
            }
        cells[json.dumps(values, separators=(",", ":"), ensure_ascii=False)] = entry  # as JS's
    data = {
        "factors": [{"key": f.key, "values": [_plain(v) for v in f.values]} for f in factors],
        "kpis": [
            {"name": k, "unit": describe(k).unit, "description": describe(k).description}
            for k in kpi_names
        ],
        "targets": targets,
        "cells": cells,
    }
    payload = (
        json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )
    controls = "".join(
        f"<div class='factor'><label for='factor-{i}'>{_esc(f.key)}: <b id='factor-value-{i}'></b></label><br>"
        f"<input type='range' id='factor-{i}' min='0' max='{len(f.values) - 1}' step='1' value='0' "
        f"style='width:320px'> <span class='howto'>{_esc(', '.join(str(v) for v in f.values))}</span></div>"
        for i, f in enumerate(factors)
    )
    section = (
        "<section id='explorer'><h2>Choose a combination</h2>"
        f"{controls}<p id='explorer-status'></p><p class='howto'>Cell <span id='explorer-cell'></span>; "
        f"{replications} replications; 95% confidence intervals. A target is met only when the "
        "whole interval is on the right side of it.</p>"
        "<table class='kpis'><thead><tr><th>Indicator</th><th>Mean</th><th>95% CI</th><th>Target</th>"
        "<th></th></tr></thead><tbody id='explorer-kpis'></tbody></table>"
        "<div id='explorer-waitlist' class='plot' style='width:100%;height:380px'></div></section>"
        f"<script type='application/json' id='explorer-data'>{payload}</script>"
        f"<script>{EXPLORER_JS}</script>"
    )
    header = [
        f"<h1>Explore the sweep: {_esc(scenario.name)}</h1>",
        f"<p>{_esc(' x '.join(f'{f.key} ({len(f.values)})' for f in factors))}: {len(cells)} cells. "
        "Move a slider: everything below is that cell's, from data in this page (no server).</p>",
    ]
    return render(f"iopsim explorer: {scenario.name}", header, [section], [])


def scenario_target_kpis(scenario: Scenario) -> list[str]:
    return [k for k, _, _ in scenario.target_list()]


def _plain(value):
    """A factor value as JSON writes it (numpy numbers as Python numbers)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None
