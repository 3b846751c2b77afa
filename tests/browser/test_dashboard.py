"""The dashboard in a real browser: loads offline, renders every figure, shows the numbers."""

import math

import pandas as pd
import pytest

from simulation import config as scenarios
from simulation import outputs
from simulation.dashboard.page import rebuild
from simulation.experiment import run_experiment
from simulation.kpis import describe, fmt, split_group
from tests.conftest import plain_short, short

HOSTILE_NAME = "<script>window.__pwned=1</script>Clinic \"A\" & 'B'"
HOSTILE_DESCRIPTION = '<img src=x onerror="window.__pwned=2"> été 🌞 ' + "x" * 300
HOSTILE_TRACK = (
    '"><b onmouseover="window.__pwned=3">late</b></script><script>window.__pwned=4</script>'
)


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dash") / "run"
    result = run_experiment(short(), replications=3)
    outputs.write_run(result, folder)
    rebuild(outputs.read_run(folder))
    return folder


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    sc = short()
    sc = sc.model_copy(
        update={
            "name": HOSTILE_NAME,
            "description": HOSTILE_DESCRIPTION,
            "tracks": [sc.tracks[0], sc.tracks[1].model_copy(update={"name": HOSTILE_TRACK})],
        }
    )
    folder = tmp_path_factory.mktemp("hostile") / "run"
    outputs.write_run(run_experiment(sc, replications=2), folder)
    rebuild(outputs.read_run(folder))
    return folder


def test_page_loads_offline_without_errors_and_renders_every_figure(visit, baseline_run):
    v = visit(baseline_run / "dashboard.html")
    v.page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 12", timeout=20_000
    )
    assert v.errors == []
    assert v.requests == []  # nothing fetched from the network: plotly.js is inlined
    assert v.page.locator(".js-plotly-plot").count() == 12  # (with money by payer)
    # every figure has data drawn: at least one trace group or heatmap/sankey layer
    for key in (
        "waitlists",
        "utilisation",
        "heatmap",
        "census",
        "staff_time",
        "caseloads",
        "waits",
        "flow",
        "groups",
        "hours",
        "money",
        "payer_money",
    ):
        section = v.page.locator(f"section[data-figure='{key}']")
        assert section.count() == 1, key
        drawn = section.locator(
            ".scatterlayer .trace, .barlayer .trace, .hm, .sankey, image"
        ).count()
        assert drawn > 0, f"figure {key} has nothing drawn"


def test_plotly_is_inlined_once(baseline_run):
    page = (baseline_run / "dashboard.html").read_text()
    assert page.count("plotly.js v") <= 2  # the version banner of one inlined copy
    assert "cdn.plot.ly" not in page.split("</head>")[1]


def test_kpi_table_shows_the_numbers_of_summary_csv(visit, baseline_run):
    summary = pd.read_csv(baseline_run / "summary.csv")
    v = visit(baseline_run / "dashboard.html")
    rows = v.page.locator("#kpi-table tr[data-kpi]")
    by_group = v.page.locator("#group-table td[data-kpi]")
    assert rows.count() + by_group.count() == len(summary)  # every KPI, in one table or other
    for row in summary.itertuples():
        if split_group(row.kpi)[1] is None:
            cell = v.page.locator(f"#kpi-table tr[data-kpi='{row.kpi}'] td").nth(1)
        else:
            cell = v.page.locator(f'#group-table td[data-kpi="{row.kpi}"]')
        expected = fmt(row.mean, describe(row.kpi).unit)
        assert cell.inner_text().strip() == expected, row.kpi
        if not math.isnan(row.mean):
            assert float(cell.get_attribute("data-mean")) == pytest.approx(row.mean, rel=1e-12)


def test_targets_are_shown_met_or_not(visit, baseline_run):
    from simulation import config as scenarios

    v = visit(baseline_run / "dashboard.html")
    verdicts = v.page.locator("#kpi-table .met, #kpi-table .notmet").count()
    assert verdicts == len(scenarios.load(scenarios.bundled("baseline")).target_list())


def test_hostile_text_is_shown_as_text_and_never_runs(visit, hostile_run):
    v = visit(hostile_run / "dashboard.html")
    v.page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 9", timeout=20_000
    )
    assert v.page.evaluate("window.__pwned") is None
    assert v.page.locator("header h1").inner_text() == HOSTILE_NAME
    assert v.page.locator("header .description").inner_text() == HOSTILE_DESCRIPTION
    assert v.page.locator("header img, header script, b[onmouseover]").count() == 0
    v.page.hover("section[data-figure='groups'] .legend")
    assert v.page.evaluate("window.__pwned") is None
    assert v.errors == []


def test_hostile_names_in_the_animation_are_shown_as_text(visit, hostile_run):
    from click.testing import CliRunner

    from simulation.cli import main

    result = CliRunner().invoke(main, ["animate", str(hostile_run), "--weeks", "2"])
    assert result.exit_code == 0, result.output
    v = visit(hostile_run / "animation.html")
    v.page.wait_for_function("window.IOPSIM_ANIMATION !== undefined", timeout=20_000)
    assert v.page.evaluate("window.__pwned") is None
    assert v.page.locator("#animation b[onmouseover], script[src]").count() == 0
    labels = v.page.evaluate(
        "[...document.querySelectorAll('#animation .annotation-text')].map(e => e.textContent)"
    )
    assert any(HOSTILE_TRACK in text for text in labels)  # shown as the text it is
    assert v.errors == []


def test_png_export_uses_the_system_chromium(browser, baseline_run):
    # kaleido drives the same Debian chromium (BROWSER_PATH), never a downloaded one
    from simulation.dashboard.page import write_pngs

    written = write_pngs(outputs.read_run(baseline_run))
    assert len(written) == 11
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


@pytest.fixture(scope="module")
def planning_pages(tmp_path_factory):
    from click.testing import CliRunner

    from simulation.cli import main

    root = tmp_path_factory.mktemp("planning")
    quick = ["--replications", "2", "--weeks", "6", "--warmup-weeks", "2", "--workers", "1", "-q"]
    runs = {
        "compare": ["compare", "baseline", "--variant", "staff.intake.count=2", *quick],
        "sweep": [
            "sweep",
            "--grid",
            "staff.intake.count=1..2",
            "--grid",
            "tracks.evening.seats=8..9",
            *quick,
        ],
        "plan": [
            "plan",
            "--vary",
            "staff.intake.count=1..2",
            "--target",
            "wait_to_intake_days_mean<=60",
            *quick,
        ],
    }
    pages = {}
    for name, args in runs.items():
        result = CliRunner().invoke(main, [*args, "--out", str(root / name)])
        assert result.exit_code == 0, result.output
        pages[name] = root / name / "dashboard.html"
    return pages


@pytest.mark.parametrize(("name", "plots"), [("compare", 3), ("sweep", 1), ("plan", 1)])
def test_planning_dashboards_load_cleanly(visit, planning_pages, name, plots):
    v = visit(planning_pages[name])
    v.page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot').length >= {plots}", timeout=20_000
    )
    assert v.errors == [] and v.requests == []
    assert v.page.locator(".js-plotly-plot").count() == plots


def test_overload_and_targets_reach_the_page():
    from simulation.dashboard.page import run_dashboard

    sc = plain_short("referrals.per_week=30", "horizon_weeks=30")  # nothing bounds the queue
    result = run_experiment(sc, replications=2)
    page = run_dashboard(
        sc, result.summary, result.tables, result.targets, result.notes, {"replications": 2}
    )
    assert "OVERLOADED: the intake waitlist grows" in page
    assert page.count("class='warning'") == len(result.notes) >= 1


def test_a_clinic_without_referrals_gives_a_clean_page(visit, tmp_path):
    folder = tmp_path / "empty"
    outputs.write_run(run_experiment(short("referrals.per_week=0"), replications=2), folder)
    rebuild(outputs.read_run(folder))
    v = visit(folder / "dashboard.html")
    v.page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 9", timeout=20_000
    )
    v.page.wait_for_timeout(300)
    assert v.errors == []


def _short_run_page(visit, tmp_path, name: str):
    """The dashboard of a short run (16 weeks after 4 of warm-up, 2 replications) of a
    bundled scenario, opened in the browser; and its run folder."""
    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled(name)), ["warmup_weeks=4", "horizon_weeks=16"]
    )
    folder = tmp_path / name
    outputs.write_run(run_experiment(sc, replications=2), folder)
    rebuild(outputs.read_run(folder))
    return visit(folder / "dashboard.html"), folder


def test_payers_show_their_money_and_rows_in_the_group_table(visit, tmp_path):
    v, _ = _short_run_page(visit, tmp_path, "utilisation_review")
    section = v.page.locator("section[data-figure='payer_money']")
    section.locator(".barlayer .trace").first.wait_for(timeout=20_000)
    assert section.locator(".barlayer .trace").count() == 2  # collected, denied
    assert v.errors == []
    table = v.page.locator("#group-table").inner_text()
    assert "payer: medicaid" in table


def test_levels_of_care_have_their_figure_and_rows(visit, tmp_path):
    v, folder = _short_run_page(visit, tmp_path, "continuum")
    section = v.page.locator("section[data-figure='levels']")
    section.locator(".scatterlayer .trace").first.wait_for(timeout=20_000)
    # places held, waiting and blocked at the PHP, each a line and its band
    assert section.locator(".scatterlayer .trace").count() >= 3
    assert v.errors == []
    assert "level_blocked_days_per_week[level=php]" in (folder / "summary.csv").read_text()
    flows = v.page.locator("section[data-figure='level_flow']")
    flows.locator(".sankey-node").first.wait_for(timeout=20_000)
    assert flows.locator(".sankey-node").count() >= 4  # origins, the PHP, destinations


def test_a_network_has_its_regions_and_sites_figure_and_rows(visit, tmp_path):
    v, folder = _short_run_page(visit, tmp_path, "network")
    section = v.page.locator("section[data-figure='site_flow']")
    section.locator(".heatmaplayer .hm").first.wait_for(timeout=20_000)
    assert v.errors == []
    summary = (folder / "summary.csv").read_text()
    for site in ("urban", "suburban", "rural"):
        assert f"admissions_per_week[site={site}]" in summary
    assert "travel_minutes_mean" in summary
