"""Pages of studies: comparisons, sweeps (with the explorer), capacity plans and sensitivity."""

from __future__ import annotations

import json

import pandas as pd
from markupsafe import Markup

from simulation.config import Scenario
from simulation.dashboard import figures
from simulation.dashboard.page.frame import (
    PARTS,
    _number,
    _plain,
    brief_section,
    comparison_section,
    render,
    scenario_target_kpis,
)
from simulation.kpis import (
    HEADLINE,
    describe,
)


def comparison_page(
    table: pd.DataFrame,
    labels: list[str],
    weekly: dict[str, pd.DataFrame],
    targets: list | None = None,
    climbing: dict[str, list[str]] | None = None,
) -> str:
    """The page of ``iopsim compare`` (``targets``: the first scenario's, for the brief;
    ``climbing``: each scenario's queues that climb without end)."""
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
    header = [PARTS.h1(f"Comparison of {len(labels)} scenarios"), PARTS.p(" · ".join(labels))]
    brief = brief_section(compare_brief(table, labels, targets or [], climbing))
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
        PARTS.h1(f"Sweep: {scenario.name}"),
        PARTS.p(
            f"{' x '.join(f'{f.key} ({len(f.values)})' for f in factors)}: "
            f"{len(cells)} cells, {replications} replications each, seed {scenario.seed}"
        ),
    ]
    if len(infeasible):
        header.append(PARTS.infeasible([(r.overrides, r.status) for r in infeasible.itertuples()]))
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
    header = [PARTS.h1(f"Plan: {scenario.name}")]
    return render(f"iopsim plan: {scenario.name}", header, [brief_section(plan_brief(lines))], figs)


def sensitivity_page(scenario: Scenario, result, lines: list[str]) -> str:
    """Which assumptions move the answer: the findings in sentences, the inputs and their
    ranges, a tornado and the all-at-once coefficients per KPI."""
    inputs = [
        [
            i.key,
            {"text": f"{i.base:.4g}", "cls": "num"},
            {"text": f"{i.low:.4g}", "cls": "num"},
            {"text": f"{i.high:.4g}", "cls": "num"},
            i.source,
        ]
        for i in result.inputs
    ]
    headers = ["Input", "Scenario's value", "Low", "High", "Range from"]
    sections = [
        PARTS.section(
            "What the answer hinges on", PARTS.items(lines), id="sensitivity-brief", cls="brief"
        ),
        PARTS.section(
            "Uncertain inputs and their ranges", PARTS.table(headers, inputs, id="inputs-table")
        ),
    ]
    if result.skipped:
        sections.append(
            PARTS.section("Not simulated (not a valid clinic)", PARTS.items(result.skipped))
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
        PARTS.h1(f"Sensitivity: {scenario.name}"),
        PARTS.p(
            f"{len(result.inputs)} uncertain inputs; one at a time with {len(result.base)} "
            f"replications each (common random numbers); {len(result.global_points)} points "
            "varying all inputs at once (Latin hypercube)."
        ),
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
 status.textContent=cell.status==='ok'?(cell.all_met===null?'':(cell.all_met?'Every target is met.':'Not every target is met.'))+(cell.without_end?' A queue climbs without end here ('+cell.without_end+'): its waits depend on how long the run is.':''):cell.status;
 document.getElementById('explorer-cell').textContent=cell.cell;
 D.kpis.forEach(function(k){var r=cell.kpis[k.name];if(!r)return;var tr=document.createElement('tr');tr.setAttribute('data-kpi',k.name);
  var t=D.targets[k.name];var met=cell.met[k.name];
  var judged=met===true||met===false;
  [k.description,show(r[0],k.unit),show(r[1],k.unit)+' to '+show(r[2],k.unit),t?t:'',t?(judged?(met?'met':'NOT met'):'not judged (no data, or too few replications had any)'):''].forEach(function(x,j){
   var td=document.createElement('td');td.textContent=x;if(j===1){td.className='num';td.setAttribute('data-value',String(r[0]));}
   if(j===4&&t&&judged){td.className=met?'met':'notmet';}tr.appendChild(td);});body.appendChild(tr);});
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
            "without_end": None
            if pd.isna(first.get("queues_without_end")) or not first.get("queues_without_end")
            else str(first["queues_without_end"]),
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
    # (the data's '<', '>' and '&' are \\u escapes: it is safe inside its script tag)
    section = PARTS.explorer(factors, replications, Markup(payload), Markup(EXPLORER_JS))
    header = [
        PARTS.h1(f"Explore the sweep: {scenario.name}"),
        PARTS.p(
            f"{' x '.join(f'{f.key} ({len(f.values)})' for f in factors)}: {len(cells)} cells. "
            "Move a slider: everything below is that cell's, from data in this page (no server)."
        ),
    ]
    return render(f"iopsim explorer: {scenario.name}", header, [section], [])
