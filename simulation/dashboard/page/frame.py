"""The frame every page shares: its style, escaping, the figures' template once per page, a figure's place with the text on how to read it, tables of KPIs and groups, the limits, brief and comparison sections."""

from __future__ import annotations

import json
import math

import pandas as pd
import plotly.io as pio
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
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
body{background:#fff;font-size:8.5pt;line-height:1.25}
header{background:none;color:#000;padding:0 0 4px}
header h1{font-size:1.4em}
header p.description,main>*:not(.brief),.print-hide{display:none!important}
main{max-width:none;padding:0}
section.brief{border:none;margin:0;padding:0}
section.brief h3{margin:5px 0 1px}
section.brief ul{margin:1px 0 2px 16px}
section.brief li{page-break-inside:avoid}
@page{margin:10mm}
}
"""


_PAGES = Environment(
    loader=PackageLoader("simulation.dashboard", "templates"),
    autoescape=True,  # every value is text unless a fragment made it markup
    trim_blocks=True,
    lstrip_blocks=True,
)
PARTS = _PAGES.get_template("parts.html").module
"""The fragments of pages (``templates/parts.html``): headings, paragraphs, warnings, lists,
sections, tables, the brief, a figure; each returns markup with every value escaped."""


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


def kpi_table(summary: pd.DataFrame, targets: pd.DataFrame | None) -> Markup:
    """The KPI table: headline KPIs first, then the rest; mean, 95% CI and target verdict."""
    target_by_kpi = (
        {}
        if targets is None or targets.empty
        else {r["kpi"]: r for r in targets.to_dict("records")}
    )
    order = [k for k in HEADLINE if k in set(summary["kpi"])]
    order += [k for k in summary["kpi"] if k not in order and split_group(k)[1] is None]
    by_kpi = summary.set_index("kpi")
    rows, attrs = [], []
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
            n, of = t.get("n"), t.get("replications")
            few = met is None and n and of and 0 < n < of
            cls, word = {True: ("met", "met"), False: ("notmet", "not met")}.get(
                met,
                (
                    "",
                    f"too few to judge ({int(n)} of {int(of)} replications)" if few else "no data",
                ),
            )
            verdict = PARTS.verdict(cls, f"{t['target']}: {word}")
        rows.append(
            [
                describe(name).description,
                {
                    "text": fmt(row["mean"], unit),
                    "cls": "num",
                    "attrs": {"data-mean": repr(float(row["mean"]))},
                },
                {"text": ci, "cls": "num"},
                {"text": int(row["n"]), "cls": "num"},
                {"text": verdict},
            ]
        )
        attrs.append({"data-kpi": name})
    headers = ["Indicator (after warm-up)", "Mean", "95% CI", "n", "Target"]
    return PARTS.table(headers, rows, id="kpi-table", row_attrs=attrs)


def group_table(summary: pd.DataFrame, targets: pd.DataFrame | None) -> Markup:
    """KPIs by track, age group and referral source: one row per group, one column per KPI,
    targets on a group marked met or not met."""
    verdicts = (
        {}
        if targets is None or targets.empty
        else {r["kpi"]: r.get("met") for r in targets.to_dict("records")}
    )
    by_kpi = summary.set_index("kpi")
    groups: dict[str, dict[str, dict]] = {}
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
            mark = Markup(" ") + PARTS.verdict("met", "met") if met is True else ""
            mark = Markup(" ") + PARTS.verdict("notmet", "not met") if met is False else mark
        groups.setdefault(group, {})[base] = {
            "text": fmt(row["mean"], unit),
            "after": mark,
            "cls": "num",
            "attrs": {"data-kpi": name, "data-mean": repr(float(row["mean"]))},
        }
    if not groups:
        return Markup("")
    headers = ["Group"] + [{"text": kpi_label(b), "title": b} for b in bases]
    rows = [
        [group.replace("_", " ").replace("=", ": ")] + [cells.get(b) for b in bases]
        for group, cells in groups.items()
    ]
    table = PARTS.table(headers, rows, id="group-table")
    return PARTS.section(
        "Who waits: by track, age group, referral source and payer",
        PARTS.scroll(table),
        howto=PARTS.group_howto(),
    )


def limits_section(summary: pd.DataFrame) -> Markup:
    """What held admissions up, in sentences (see limiting_factors)."""
    from simulation.results import limiting_factors

    lines = limiting_factors(summary)
    if not lines:
        return Markup("")
    return PARTS.section("What limits admissions", PARTS.items(lines), id="limits")


def _figure_div(fig, div_id: str) -> Markup:
    # The figure JSON goes into a script tag; '<', '>' and '&' are written as \\u escapes so
    # no text inside it (a name such as '</script>') can close the tag: it is then markup.
    spec = pio.to_json(fig, validate=False)
    spec = spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return PARTS.figure(div_id, fig.layout.height or 420, Markup(spec))


def _template_json() -> str:
    """The figures' template (colours, fonts, grid) once per page, as JSON safe in a script."""
    spec = json.dumps(pio.templates[figures.TEMPLATE].to_plotly_json(), cls=PlotlyJSONEncoder)
    return spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(
    title: str,
    header_lines: list,
    sections: list,
    figures_list: list[tuple[str, str, object]],
) -> str:
    """A whole page (``templates/page.html``): header lines and sections are fragments (text
    given instead is shown as text)."""
    figs = [
        {
            "key": key,
            "heading": heading,
            "div": _figure_div(fig, "fig-" + key),
            "text": figure_text(key),
        }
        for key, heading, fig in figures_list
    ]
    return _PAGES.get_template("page.html").render(
        title=title,
        css=Markup(CSS),
        plotlyjs=Markup(get_plotlyjs()),
        template_json=Markup(_template_json()),
        header=header_lines,
        sections=sections,
        figures=figs,
    )


def brief_section(brief, title: str = "Decision brief") -> Markup:
    """The brief at the top of a page (and all that a printed page shows)."""
    return PARTS.brief(title, brief)


def comparison_section(table: pd.DataFrame, labels: list[str]) -> Markup:
    """Headline KPIs per scenario with the paired difference to the first."""
    rows, attrs = [], []
    for kpi in HEADLINE:
        unit = describe(kpi).unit
        cells: list = [describe(kpi).description]
        for label in labels:
            r = table[(table["kpi"] == kpi) & (table["scenario"] == label)]
            if r.empty:
                cells.append(None)
                continue
            r = r.iloc[0]
            diff = ""
            if label != labels[0]:
                diff = PARTS.small(
                    f"{fmt_signed(r['difference'], unit)} ({fmt_signed(r['difference_ci_low'], unit)}"
                    f" to {fmt_signed(r['difference_ci_high'], unit)})"
                )
            cells.append({"text": fmt(r["mean"], unit), "cls": "num", "after": diff})
        rows.append(cells)
        attrs.append({"data-kpi": kpi})
    return PARTS.section(
        "Key indicators (difference to the first, paired 95% CI)",
        PARTS.table(["Indicator", *labels], rows, row_attrs=attrs),
    )


def scenario_target_kpis(scenario: Scenario) -> list[str]:
    return [k for k, _, _ in scenario.target_list()]


FIGURE_TEXT = {
    "level_flow": "Stays at each level of care a year: on the left where they came from (referred to the level, sent by intake as needing higher care, stepped up from the IOP, or from another level), on the right where they went (the IOP, another level, out of care, or still there when the run ended). A level that sends many clients to a full next level shows as blocked days in the figure above.",
    "site_flow": "A provider's network: IOP starts a year from each region (rows) at each site (columns), by the network's routing rule; clients of a network-wide virtual group who join by video are a column of their own. A region whose clients travel to a far site for want of seats near them shows off the diagonal.",
    "levels": "Each level of care beside the IOP. Solid: places held (blocked clients included); dotted: clients waiting for a place; dashed: clients ready to go on but waiting for a place at the next level or the IOP (blocked days). A blocked line that rises with the next level's waitlist means the next level is the bottleneck.",
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


def figure_text(key: str) -> str:
    """How to read the figure ``key`` ('fan-iop_census' reads as 'fan'); every figure has one."""
    return FIGURE_TEXT.get(key) or FIGURE_TEXT[key.split("-")[0]]
