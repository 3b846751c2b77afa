"""The clinic animated from the event log: frames, play, and as many clients
in each track at a frame as the event log says; light enough (under 5 MB)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.cli import main


@pytest.fixture(scope="module")
def animated(tmp_path_factory):
    root = tmp_path_factory.mktemp("animate")
    run = root / "run"
    args = ["run", "--weeks", "6", "--warmup-weeks", "4", "-r", "2", "--workers", "1", "-q"]
    result = CliRunner().invoke(main, [*args, "--event-log", "--out", str(run)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["animate", str(run)])
    assert result.exit_code == 0, result.output
    return run


def _in_track(events: pd.DataFrame, track: str, t: float) -> int:
    """Clients of a track in the IOP at time t, straight from the event log."""
    starts = events[(events["event"] == "iop_start") & (events["resource_id"] == track)]
    ends = events[events["event"] == "iop_end"].set_index("entity_id")["time"]
    end = ends.reindex(starts["entity_id"]).fillna(float("inf")).to_numpy()
    return int(((starts["time"].to_numpy() <= t) & (end > t)).sum())


def test_the_animation_has_its_frames_plays_and_counts_as_the_event_log(visit, animated):
    page = animated / "animation.html"
    assert page.stat().st_size < 5_000_000
    v = visit(page)
    v.page.wait_for_function("window.IOPSIM_ANIMATION !== undefined", timeout=20_000)
    state = v.page.evaluate("window.IOPSIM_ANIMATION")
    assert len(state["times"]) == 4 * 168 // 2  # four weeks, a frame every 2 hours
    frames = v.page.evaluate("document.getElementById('animation')._transitionData._frames.length")
    assert frames == len(state["times"])
    events = pd.read_parquet(animated / "events.parquet")
    events = events[events["run_number"] == 0]
    for track in ("morning", "evening"):
        place = state["places"].index(f"IOP: {track}")
        for i in range(0, len(state["times"]), 37):
            t = state["times"][i]
            assert state["counts"][i][place] == _in_track(events, track, t), (track, t)
    assert sum(c[place] for c in state["counts"]) > 0  # someone is in the IOP
    clock = "document.getElementById('animation').layout.annotations[0].text"
    before = v.page.evaluate(clock)
    v.page.click("#animation-play")
    v.page.wait_for_timeout(1500)
    v.page.click("#animation-pause")
    assert v.page.evaluate(clock) != before  # the clock moved: it plays
    assert v.errors == [] and v.requests == []


def test_weeks_outside_the_run_are_refused(animated):
    result = CliRunner().invoke(main, ["animate", str(animated), "--from-week", "8", "--force"])
    assert result.exit_code == 2 and "--from-week 8 --weeks 4" in result.output
