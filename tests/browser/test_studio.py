"""The studio in a real browser: ``iopsim studio`` started on a free local port and driven in
chromium as a planner would, from loading the baseline to downloading the workbook."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import openpyxl
import pytest

pytest.importorskip("dash", reason="the studio extra: pip install -e '.[studio]'")

HOSTILE = "<img src=x onerror=\"window.__pwned=1\">Clinic <b>A</b> & 'B'"
SHORT = {"replications": "3", "horizon_weeks": "8", "warmup_weeks": "4"}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """The studio's address, the command running in its own process."""
    from simulation.studio import launch

    process, url = launch(workers=1, cwd=tmp_path_factory.mktemp("studio"))
    assert url.startswith("http://127.0.0.1:")
    yield url
    process.terminate()
    process.wait(timeout=10)


def field(page, key: str):
    selector = json.dumps({"key": key, "type": "field"}, separators=(",", ":"))
    return page.locator(f"[id='{selector}']")


def set_field(page, key: str, value: str) -> None:
    box = field(page, key)
    box.fill(value)
    box.press("Tab")  # the form takes a value when the planner leaves the box


def open_studio(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    # (a page load, not a speed check: the studio's first page imports the scenario forms,
    # and on a machine whose cores are busy with other tests that took over 15 s)
    field(page, "tracks.evening.seats").wait_for(timeout=60_000)
    return page, errors


def shorten(page) -> None:
    for key, value in SHORT.items():
        set_field(page, key, value)


def test_a_planner_changes_seats_runs_compares_and_downloads_the_workbook(
    browser, studio, tmp_path
):
    page, errors = open_studio(browser, studio)
    assert field(page, "tracks.evening.seats").input_value() == "12"  # the baseline's
    shorten(page)
    set_field(page, "tracks.evening.seats", "10")
    page.click("#run")
    page.locator("#figure-waitlists .js-plotly-plot").wait_for(timeout=60_000)
    assert "Brief" in page.inner_text("#brief")
    assert page.locator("[id^=figure-] .js-plotly-plot").count() >= 5
    with page.expect_download() as download:
        page.click("#get-workbook")
    saved = tmp_path / "results.xlsx"
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert "Summary" in book.sheetnames
    with page.expect_download() as download:
        page.click("#get-scenario")
    changed = tmp_path / "scenario.toml"
    download.value.save_as(changed)
    tracks = {t["name"]: t for t in tomllib.loads(changed.read_text())["tracks"]}
    assert tracks["evening"]["seats"] == 10
    page.click("#compare")
    page.locator("#comparison table").wait_for(timeout=60_000)
    text = page.inner_text("#comparison")
    assert "wait_to_iop_days_mean" in text and "difference" in text
    assert errors == []


def test_the_page_answers_while_a_long_run_is_going(browser, studio, tmp_path):
    page, errors = open_studio(browser, studio)
    shorten(page)
    set_field(page, "replications", "40")
    page.click("#run")
    page.wait_for_function("document.querySelector('#status').innerText.startsWith('run: ')")
    started = time.perf_counter()
    with page.expect_download(timeout=30_000) as download:
        page.click("#get-scenario")  # served while the run goes on
    download.value.save_as(tmp_path / "during.toml")
    assert time.perf_counter() - started < 5
    assert "done" not in page.inner_text("#status")  # (the run was still going)
    page.locator("#figure-waitlists .js-plotly-plot").wait_for(timeout=120_000)
    assert errors == []


def test_a_plan_from_the_page_names_its_recommendation(browser, studio):
    page, errors = open_studio(browser, studio)
    shorten(page)
    page.fill("#extra", "targets={}")  # only the page's target counts here
    page.fill("#vary", "staff.intake.count=1..2")
    page.fill("#target", "wait_to_intake_days_mean<=60")
    page.click("#plan")
    page.locator("#recommendation").wait_for(timeout=90_000)
    assert "staff.intake.count" in page.inner_text("#recommendation")
    assert errors == []


def test_a_wrong_value_gets_the_command_lines_message_and_nothing_runs(browser, studio):
    page, errors = open_studio(browser, studio)
    set_field(page, "tracks.evening.seats", "-3")
    page.click("#run")
    page.wait_for_function("document.querySelector('#problems').innerText.length > 0")
    problem = page.inner_text("#problems")
    assert "tracks.evening.seats" in problem and "-3" in problem
    assert "greater than or equal to 1" in problem
    time.sleep(0.5)
    assert page.inner_text("#results") == ""  # no run started
    assert errors == []


def test_two_tabs_keep_their_own_scenarios(browser, studio, tmp_path):
    first, _ = open_studio(browser, studio)
    second, _ = open_studio(browser, studio)
    set_field(first, "tracks.evening.seats", "10")
    set_field(second, "tracks.evening.seats", "8")
    seats = []
    for page in (first, second):
        shorten(page)
        page.click("#run")
    for n, page in enumerate((first, second)):
        page.locator("#figure-waitlists .js-plotly-plot").wait_for(timeout=60_000)
        with page.expect_download() as download:
            page.click("#get-scenario")
        path = tmp_path / f"tab{n}.toml"
        download.value.save_as(path)
        tracks = {t["name"]: t for t in tomllib.loads(path.read_text())["tracks"]}
        seats.append(tracks["evening"]["seats"])
    assert seats == [10, 8]


def test_an_uploaded_scenario_with_hostile_names_is_shown_as_text(browser, studio, tmp_path):
    from simulation import config

    text = config.bundled("baseline").read_text()
    text = text.replace('name = "baseline"', f"name = {json.dumps(HOSTILE)}", 1)
    text = text.replace('name = "evening"', f"name = {json.dumps(HOSTILE + ' evening')}", 1)
    text = text.replace(
        'facilitator_pools = ["evening therapists"]',
        'facilitator_pools = ["evening therapists"]',
    )
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    page, errors = open_studio(browser, studio)
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_function("document.querySelector('#scenario-name').innerText.includes('Clinic')")
    assert HOSTILE in page.inner_text("#scenario-name")  # shown as the text it is
    assert page.evaluate("window.__pwned") is None  # and never run as markup
    assert page.locator("#scenario-name img").count() == 0
    assert errors == []


def test_a_broken_upload_is_named_and_the_form_is_kept(browser, studio, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = [unclosed\n")
    page, errors = open_studio(browser, studio)
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_function("document.querySelector('#problems').innerText.length > 0")
    assert "broken.toml" in page.inner_text("#problems")
    assert field(page, "tracks.evening.seats").input_value() == "12"  # the form stays
    assert Path(tmp_path / "broken.toml").exists()
    assert errors == []
