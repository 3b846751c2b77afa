"""The studio's page (Dash): pick or upload a scenario, change it in a form, run it, see the
run dashboard's figures and the decision brief, compare with the starting scenario, plan
against targets, and download the scenario, the run folder and the workbook.

Everything the page shows comes from the same code as the command line: the form's changes
go through ``apply_overrides`` (the same checks and messages as ``--set``), a run is
``run_experiment`` and its folder ``write_run`` (with its dashboard and workbook), the figures
are the dashboard's own, the brief is ``run_brief``, a comparison is ``comparison_table`` on
common random numbers, a plan is ``planning.plan``. Text from a scenario reaches the page only
as text (Dash escapes it; the brief is Markdown with HTML off).
"""

from __future__ import annotations

import atexit
import base64
import shutil
import tempfile
from pathlib import Path

import dash
from dash import ALL, Input, Output, State, dcc, html

from simulation import config
from simulation.studio import form
from simulation.studio.jobs import Jobs

HEADLINE = (
    "wait_to_intake_days_mean",
    "wait_to_iop_days_mean",
    "wait_to_iop_days_p90",
    "admissions_per_week",
    "lost_from_waitlist_share",
    "therapist_utilisation",
    "seat_occupancy",
    "margin_per_week",
)
"""The KPIs a comparison shows on the page (all of them are in the run folder)."""

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1f2933; }
header { background: #17324d; color: white; padding: 10px 20px; }
header h1 { margin: 0; font-size: 1.3em; }
main { display: flex; gap: 20px; padding: 16px 20px; }
#controls { width: 360px; flex: none; }
#output { flex: 1; min-width: 0; }
fieldset { border: 1px solid #cbd2d9; margin: 0 0 10px; padding: 6px 10px; }
legend { font-weight: 600; }
label { display: block; font-size: 0.9em; margin-top: 4px; }
input[type=text], input[type=number], textarea { width: 100%; box-sizing: border-box; }
button { margin: 6px 6px 0 0; padding: 6px 12px; }
.problems { color: #a61b1b; white-space: pre-wrap; }
progress { width: 100%; }
table.kpis { border-collapse: collapse; font-size: 0.9em; }
table.kpis td, table.kpis th { border-bottom: 1px solid #e4e7eb; padding: 3px 8px; text-align: right; }
table.kpis td:first-child, table.kpis th:first-child { text-align: left; }
"""


def bundled_names() -> list[str]:
    return sorted(p.stem for p in config.bundled_dir().glob("*.toml"))


def read_scenario(name: str | None, upload: str | None, filename: str | None) -> config.Scenario:
    """A bundled scenario by name, or an uploaded TOML file (checked as ``iopsim validate``
    checks a file: problems name the file as uploaded)."""
    if upload:
        _, encoded = upload.split(",", 1)
        name = Path(filename or "uploaded.toml").name
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(base64.b64decode(encoded))
            try:
                return config.load(path)
            except config.ScenarioError as exc:  # named as the planner knows it
                raise config.ScenarioError(exc.problems, name) from None
    return config.load(config.bundled(name or "baseline"))


def scenario_toml(scenario: config.Scenario) -> str:
    from simulation.fit.writer import toml_text

    data = config.to_data(scenario)
    return toml_text(data, {}, [f"iopsim scenario: {scenario.name} (written by iopsim studio)"])


def form_inputs(fields: list[form.Field]) -> list:
    """The form: a fieldset per group, an input per field."""
    groups: dict[str, list] = {}
    for f in fields:
        kind = "number" if f.kind == "number" else "text"
        groups.setdefault(f.group, []).append(
            html.Label(
                [
                    f.label,
                    dcc.Input(
                        id={"type": "field", "key": f.key},
                        type=kind,
                        value=f.value,
                        debounce=True,
                        **({"step": "any"} if kind == "number" else {}),
                    ),
                ]
            )
        )
    return [html.Fieldset([html.Legend(group), *items]) for group, items in groups.items()]


def kpi_table(frame, columns: list[tuple[str, str]]) -> html.Table:
    """A small table of numbers (three significant figures), as text."""
    head = html.Tr([html.Th(label) for _, label in columns])
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for key, _ in columns:
            value = row[key]
            cells.append(html.Td(f"{value:.3g}" if isinstance(value, float) else str(value)))
        rows.append(html.Tr(cells))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="kpis")


def make_app(workers: int = 1, folder: Path | None = None) -> dash.Dash:
    """The studio's Dash app; its run folders go under ``folder`` (by default a temporary
    folder, removed when the studio stops)."""
    if folder is None:  # the run folders live as long as the studio
        folder = Path(tempfile.mkdtemp(prefix="iopsim-studio-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    runs = Path(folder)
    jobs = Jobs()
    jobs.start("warm", lambda job: _warm(workers))  # before the planner's first run
    app = dash.Dash(
        __name__,
        title="iopsim studio",
        serve_locally=True,  # offline: Dash's own scripts from this server, no CDN
        update_title=None,
    )
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + CSS + "</style>")
    app.layout = html.Div(
        [
            html.Header(html.H1("iopsim studio")),
            html.Main(
                [
                    html.Div(
                        [
                            html.Label(
                                [
                                    "Scenario",
                                    dcc.Dropdown(
                                        id="bundled",
                                        options=bundled_names(),
                                        value="baseline",
                                        clearable=False,
                                    ),
                                ]
                            ),
                            dcc.Upload(
                                id="upload",
                                children=html.Button("Upload a scenario (.toml)"),
                                accept=".toml",
                            ),
                            html.Div(id="scenario-name"),
                            html.Div(id="problems", className="problems"),
                            html.Div(id="form"),
                            html.Label(
                                [
                                    "Other changes (KEY=VALUE, one a line, as --set)",
                                    dcc.Textarea(id="extra", value="", rows=3),
                                ]
                            ),
                            html.Button("Run", id="run"),
                            html.Button("Compare with the starting scenario", id="compare"),
                            html.Fieldset(
                                [
                                    html.Legend("Plan"),
                                    html.Label(
                                        [
                                            "Vary (KEY=LOW..HIGH)",
                                            dcc.Input(
                                                id="vary",
                                                type="text",
                                                value="staff.therapists.count=1..3",
                                            ),
                                        ]
                                    ),
                                    html.Label(
                                        [
                                            "Target (KPI<=VALUE)",
                                            dcc.Input(
                                                id="target",
                                                type="text",
                                                value="wait_to_iop_days_mean<=14",
                                            ),
                                        ]
                                    ),
                                    html.Button("Plan", id="plan"),
                                ]
                            ),
                            html.Div(
                                [
                                    html.Button("Scenario (.toml)", id="get-scenario"),
                                    html.Button("Run folder (.zip)", id="get-folder"),
                                    html.Button("Workbook (.xlsx)", id="get-workbook"),
                                ]
                            ),
                        ],
                        id="controls",
                    ),
                    html.Div(
                        [
                            html.Progress(id="bar", value="0", max="1"),
                            html.Div(id="status"),
                            html.Div(id="results"),
                        ],
                        id="output",
                    ),
                ]
            ),
            # an empty figure: the browser loads the plotting library with the page, not
            # when the first results arrive
            dcc.Graph(id="preload", style={"display": "none"}),
            dcc.Store(id="tab", data={}),  # this tab's scenario and job ids: tabs never mix
            dcc.Interval(id="tick", interval=400, disabled=True),
            dcc.Download(id="download"),
        ]
    )

    @app.callback(
        Output("form", "children"),
        Output("scenario-name", "children"),
        Output("problems", "children", allow_duplicate=True),
        Output("tab", "data", allow_duplicate=True),
        Input("bundled", "value"),
        Input("upload", "contents"),
        State("upload", "filename"),
        prevent_initial_call="initial_duplicate",
    )
    def load(name, upload, filename):
        trigger = dash.ctx.triggered_id
        try:
            sc = read_scenario(name, upload if trigger == "upload" else None, filename)
        except config.ScenarioError as exc:
            return dash.no_update, dash.no_update, str(exc), dash.no_update
        fields = form.fields(sc)
        return (
            form_inputs(fields),
            f"{sc.name}: {sc.description}",
            "",
            {"toml": scenario_toml(sc)},
        )

    def current(tab: dict, values: list, ids: list, extra: str) -> tuple:
        """(starting scenario, changed scenario) from this tab's scenario and the form."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scenario.toml"
            path.write_text(tab["toml"], encoding="utf-8")
            base = config.load(path)
        fields = form.fields(base)
        given = {i["key"]: "" if v is None else str(v) for i, v in zip(ids, values, strict=True)}
        return base, form.changed(base, fields, given, extra or "")

    @app.callback(
        Output("tab", "data"),
        Output("problems", "children"),
        Output("tick", "disabled"),
        Input("run", "n_clicks"),
        Input("compare", "n_clicks"),
        Input("plan", "n_clicks"),
        State({"type": "field", "key": ALL}, "value"),
        State({"type": "field", "key": ALL}, "id"),
        State("extra", "value"),
        State("vary", "value"),
        State("target", "value"),
        State("tab", "data"),
        prevent_initial_call=True,
    )
    def start(_runs, _compares, _plans, values, ids, extra, vary, target, tab):
        action = dash.ctx.triggered_id
        if not tab or "toml" not in tab:
            return dash.no_update, "Choose a scenario first.", True
        try:
            base, sc = current(tab, values, ids, extra)
            if action == "plan":
                from simulation import planning

                factors = [planning.parse_factor(vary or "", "--vary")]
                targets = planning.parse_targets([target] if target else [])
        except config.ScenarioError as exc:
            return dash.no_update, str(exc), True
        if action == "run":
            job = jobs.start("run", lambda job: _run(sc, runs, workers, job))
        elif action == "compare":
            job = jobs.start("compare", lambda job: _compare(base, sc, workers, job))
        else:
            job = jobs.start("plan", lambda job: _plan(sc, factors, targets, workers, job))
        return {**tab, "job": job, "changed": scenario_toml(sc)}, "", False

    @app.callback(
        Output("bar", "value"),
        Output("status", "children"),
        Output("results", "children"),
        Output("tick", "disabled", allow_duplicate=True),
        Input("tick", "n_intervals"),
        State("tab", "data"),
        prevent_initial_call=True,
    )
    def poll(_n, tab):
        job = jobs.get((tab or {}).get("job"))
        if job is None:
            return "0", "", dash.no_update, True
        if not job.finished:
            unit = "combinations simulated" if job.kind == "plan" else "replications"
            return (
                f"{job.share:.3f}",
                f"{job.kind}: {job.done} of {job.total or '?'} {unit}",
                dash.no_update,
                False,
            )
        if job.problem:
            return "0", f"{job.kind} stopped: {job.problem}", html.Div(), True
        return "1", f"{job.kind}: done", show(job), True

    @app.callback(
        Output("download", "data"),
        Input("get-scenario", "n_clicks"),
        Input("get-folder", "n_clicks"),
        Input("get-workbook", "n_clicks"),
        State("tab", "data"),
        prevent_initial_call=True,
    )
    def download(_s, _f, _w, tab):
        which = dash.ctx.triggered_id
        tab = tab or {}
        if which == "get-scenario":
            text = tab.get("changed") or tab.get("toml")
            return dcc.send_string(text, "scenario.toml") if text else dash.no_update
        job = jobs.get(tab.get("job"))
        folder = (job.extra.get("folder") if job and job.finished else None) or None
        if folder is None:
            return dash.no_update
        if which == "get-workbook":
            return dcc.send_file(str(Path(folder) / "results.xlsx"))
        archive = shutil.make_archive(str(Path(folder)), "zip", root_dir=folder)
        return dcc.send_file(archive, filename=f"{Path(folder).name}.zip")

    def show(job) -> list:
        if job.kind == "run":
            return show_run(job.result)
        if job.kind == "compare":
            return show_comparison(job.result)
        return show_plan(job.result)

    return app


def _warm(workers: int) -> None:
    """Import what a run needs and start the worker pool, so that the first run from the page
    costs what the command line's does."""
    from simulation import experiment
    from simulation.dashboard.page import run_dashboard  # noqa: F401
    from simulation.replication import run_replication  # noqa: F401

    experiment.warm_summary()
    if workers > 1:
        from simulation.workers import shared_pool

        shared_pool(workers).submit(int).result()


def _run(sc, where: Path, workers: int, job):
    """Run the changed scenario and write its run folder (dashboard and workbook included)."""
    from simulation import experiment, outputs
    from simulation.dashboard.page import run_dashboard
    from simulation.dashboard.page.run import build_figures

    result = experiment.run_experiment(sc, workers=workers, progress=job.progress)
    result.say_scenario_warnings()
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=where)) / "run"
    info = result.info()
    figures = build_figures(sc, result.tables, result.replications)
    page = (sc, result.summary, result.tables, result.targets, result.notes, info)
    # as the command line does: idle workers build the page and workbook while this writes
    from simulation.workers import shared_pool

    pool = shared_pool(workers) if workers > 1 else None
    dashboard = outputs.built_by(pool, run_dashboard, *page)
    outputs.write_run(result, folder, extra_files={"dashboard.html": dashboard}, pool=pool)
    job.extra["folder"] = folder
    return {"result": result, "figures": figures}


def _compare(base, changed, workers: int, job):
    """The starting scenario and the changed one on the same seed and replications (common
    random numbers): the paired differences of the comparison table."""
    from simulation import planning

    results = planning.run_many(
        [base, changed], changed.replications, changed.seed, workers, progress=job.progress
    )
    table = planning.comparison_table(
        ["starting", "changed"], [results[0].kpis, results[1].kpis], [changed.seed] * 2
    )
    return table


def _plan(sc, factors, targets, workers: int, job):
    from simulation import planning

    chosen = {k: (k, op, bound) for k, op, bound in sc.target_list()}
    chosen.update({t[0]: t for t in targets})
    evaluated = {"n": 0}
    total = len(factors[0].values) if len(factors) == 1 else 0

    def step(_line: str) -> None:  # one line a combination simulated
        evaluated["n"] += 1
        job.progress(evaluated["n"], max(total, evaluated["n"]))

    return planning.plan(
        sc,
        factors,
        list(chosen.values()),
        sc.replications,
        sc.seed,
        workers=workers,
        progress=step,
    )


def show_run(done: dict) -> list:
    from simulation.brief import as_markdown, run_brief

    result = done["result"]
    brief = run_brief(result.summary, result.scenario.target_list(), result.notes)
    parts = [dcc.Markdown(as_markdown(f"Brief: {result.scenario.name}", brief), id="brief")]
    for key, heading, figure in done["figures"]:
        parts += [html.H2(heading), dcc.Graph(id=f"figure-{key}", figure=figure)]
    return parts


def show_comparison(table) -> list:
    shown = table[table["kpi"].isin(HEADLINE) & (table["scenario"] == "changed")]
    start = table[table["scenario"] == "starting"].set_index("kpi")["mean"]
    shown = shown.assign(starting=shown["kpi"].map(start))
    columns = [
        ("kpi", "KPI"),
        ("starting", "starting"),
        ("mean", "changed"),
        ("difference", "difference"),
        ("difference_ci_low", "95% CI low"),
        ("difference_ci_high", "95% CI high"),
    ]
    return [
        html.H2("Changed against the starting scenario (paired, common random numbers)"),
        html.Div(kpi_table(shown, columns), id="comparison"),
    ]


def show_plan(result) -> list:
    table = result.table()
    lines = [html.P(line) for line in result.notes]
    text = (
        "Recommended: " + ", ".join(result.recommendation.overrides)
        if result.recommendation is not None
        else "No combination meets every target."
    )
    return [
        html.H2("Plan"),
        html.P(text, id="recommendation"),
        *lines,
        html.Div(
            kpi_table(table, [(c, c) for c in table.columns[:8]]),
            id="plan-table",
        ),
    ]
