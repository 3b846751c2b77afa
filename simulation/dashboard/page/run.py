"""The dashboard of one run: its figures, the page, rebuilding it from a run folder, PNG export and the warm-up page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.io as pio

from simulation.config import Scenario
from simulation.dashboard import figures
from simulation.dashboard.page.frame import (
    PARTS,
    brief_section,
    group_table,
    kpi_table,
    limits_section,
    render,
)


def build_figures(
    scenario: Scenario, tables: dict[str, pd.DataFrame], replications: int
) -> list[tuple[str, str, object]]:
    """(key, heading, figure) for every dashboard figure that has data."""
    warmup_hours = scenario.measured_from_week * 168.0
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
    if not weekly.empty and scenario.levels:
        names = sorted(level.name for level in scenario.levels)
        out.append(("levels", "Levels of care", figures.levels(weekly, names)))
    if "resources" in tables:
        out.append(
            (
                "staff_time",
                "Staff time",
                figures.staff_time(tables["resources"], scenario.measured_from_week),
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
    if clients is not None and scenario.sites and "region" in clients:
        virtual = {t.name for t in scenario.tracks if t.modality == "virtual"}
        seen = clients.assign(
            track_modality=clients["track"].map(lambda t: "virtual" if t in virtual else "")
        )
        sites = sorted(site.name for site in scenario.sites)
        out.append(
            (
                "site_flow",
                "Regions and sites",
                figures.site_flow(
                    seen, sites, warmup_hours, scenario.horizon_weeks / 52.0, replications
                ),
            )
        )
    if "level_visits" in tables:
        flows = figures.level_flow(
            tables["level_visits"], warmup_hours, scenario.horizon_weeks / 52.0, replications
        )
        out.append(("level_flow", "Flow between levels of care", flows))
    if "sessions" in tables:
        seats = {t.name: t.seats for t in scenario.tracks}
        out.append(("groups", "Group sizes", figures.group_sizes(tables["sessions"], seats)))
    if "client_weeks" in tables:
        out.append(
            (
                "hours",
                "Hours attended per week",
                figures.hours_attended(tables["client_weeks"], scenario.measured_from_week),
            )
        )
    if not weekly.empty:
        out.append(("money", "Money", figures.money(weekly)))
    return out


def run_dashboard(
    scenario: Scenario,
    summary: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    targets: pd.DataFrame | None,
    notes: list[str],
    info: dict,
    hinges: list[str] | None = None,
    fix: list[str] | None = None,
    figures_built: list | None = None,
) -> str:
    """The dashboard of one run as an HTML string (``hinges``: a sensitivity run's findings,
    ``fix``: a plan's recommendation, for the brief; ``figures_built``: ``build_figures``'s
    answer when the caller has it already)."""
    from simulation.brief import run_brief

    header = [
        PARTS.h1(scenario.name),
        PARTS.p(scenario.description, "description"),
        PARTS.p(
            f"Run {info.get('started', '')} · {int(info.get('replications', 0))} replications · "
            f"seed {info.get('seed', '')} · {scenario.horizon_weeks} weeks measured after "
            f"{scenario.warmup_weeks} weeks warm-up · starting {scenario.start_date.isoformat()}"
        ),
    ]
    sections = [brief_section(run_brief(summary, scenario.target_list(), notes, hinges, fix))]
    sections += [PARTS.warning(note) for note in notes]
    sections.append(
        PARTS.section(
            "Key indicators",
            kpi_table(summary, targets),
            howto="Means over replications with 95% confidence intervals (Student t). "
            "A target is met only when the whole interval is on the right side of it.",
        )
    )
    sections += [limits_section(summary), group_table(summary, targets)]
    figs = list(figures_built or build_figures(scenario, tables, int(info.get("replications", 1))))
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


def warmup_page(
    scenario: Scenario, means: pd.DataFrame, suggestion: int, replications: int, window: int
) -> str:
    """The Welch plot page of ``iopsim warmup``."""
    fig = figures.warmup(means, suggestion, scenario.warmup_weeks, window)
    header = [
        PARTS.h1(f"Warm-up: {scenario.name}"),
        PARTS.p(
            f"{replications} pilot replications of {int(means['week'].max()) + 1} weeks from an "
            f"empty clinic; suggested warm-up {suggestion} weeks (MSER-5), scenario "
            f"{scenario.warmup_weeks} weeks."
        ),
    ]
    return render(f"iopsim warm-up: {scenario.name}", header, [], [("warmup", "Welch plot", fig)])
