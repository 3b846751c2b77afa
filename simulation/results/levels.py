"""The KPIs of each level of care beside the IOP, over the reporting period: places held,
waiting and blocked (time-weighted), admissions, waits and stays, and how many go on to their
next level or the IOP without a gap (within 7 and 30 days of being ready: the follow-up
measure of HEDIS, read here for every step between levels; care at a level they relapsed to
counts), the exit mix (shares of stays ended by reason, a step-up on deterioration included)
and relapses out of care on the way on; for a level with a day programme, the hours each
client attended in each full week there and the share of those weeks meeting the hours rule.
Reported as ``<kpi>[level=<name>]``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.compiled import compile_scenario
from simulation.config import IOP, LEVEL_EXIT_REASONS, OUT, Scenario
from simulation.model.levels import BLOCKED, CENSUS, REFERRED, WAITING
from simulation.model.recorder import Recorder, column
from simulation.results.money import level_money, payer_lookup, weekly_pay

VISIT_COLUMNS = {
    "client_id": "int",
    "level": "str",
    "came_from": "str",
    "queued": "float",
    "admitted": "float",
    "ready": "float",
    "left": "float",
    "to": "str",
    "reason": "str",
    "relapsed": "float",
    "gave_up": "float",
    "site": "str",
}
"""The columns of the visit table and their types."""


def visit_table(recorder: Recorder) -> pd.DataFrame:
    """One row per stay at a level: when the client joined its queue, was admitted, was ready
    to go on and left the place, where they came from, where they went and why, when they
    relapsed out of care on the way on and when they gave up waiting for the place (NaN: they
    did not). Text as plain strings while
    the KPIs read it (see ``Recorder.client_table``; ``as_text`` for the result table)."""
    visits = recorder.level_visits
    return pd.DataFrame(
        {name: column([v[name] for v in visits], kind) for name, kind in VISIT_COLUMNS.items()}
    )


def level_kpis(
    scenario: Scenario,
    recorder: Recorder,
    clients: pd.DataFrame,
    visits: pd.DataFrame,
    start: float,
    end: float,
) -> dict[str, float]:
    """Every level's KPIs (empty without levels; ``visits``: ``visit_table``)."""
    if not scenario.levels:
        return {}
    weeks = (end - start) / (7 * HOURS_PER_DAY)
    onward = _onward_starts(visits, clients)
    payers = payer_lookup(scenario, clients)
    k: dict[str, float] = {}
    for name in sorted(level.name for level in scenario.levels):
        m = recorder.monitors
        edges = np.array([start, end])
        mine = visits[visits["level"] == name]

        def put(kpi: str, value: float, name: str = name) -> None:
            k[f"{kpi}[level={name}]"] = float(value)

        census, blocked = m[CENSUS + name].bin_means(edges), m[BLOCKED + name].bin_means(edges)
        put("level_census_mean", census[0])
        put("level_waitlist_mean", m[WAITING + name].bin_means(edges)[0])
        put("level_blocked_mean", blocked[0])
        put("level_blocked_days_per_week", blocked[0] * 7)
        spec = next(level for level in scenario.levels if level.name == name)
        earned, spent = level_money(scenario, spec, census, blocked, visits, payers, edges)
        put("level_revenue_per_week", earned[0])
        put("level_cost_per_week", spent[0] + _programme_pay(scenario, spec))
        places = compile_scenario(scenario).levels[name].places
        put("level_places", np.nan if places is None else places)
        if spec.programme is not None:
            hours = _programme_weeks(recorder, mine, name, start, end)
            put("level_hours_per_client_week_mean", _mean(hours))
            rule = spec.programme.min_hours_per_week
            if rule is not None:
                met = (hours >= rule - 1e-9).mean() if len(hours) else np.nan
                put("level_client_weeks_meeting_hours_share", met)
        admitted = mine[(mine["admitted"] >= start) & (mine["admitted"] < end)]
        put("level_admissions_per_week", len(admitted) / weeks)
        placed = mine[(mine["queued"] >= start) & mine["admitted"].notna()]
        waited = (placed["admitted"] - placed["queued"]) / HOURS_PER_DAY
        put("level_wait_days_mean", _mean(waited))
        referred = placed["came_from"].isin(REFERRED).to_numpy()  # (transfers go first)
        put("level_referral_wait_days_mean", _mean(waited[referred]))
        put("level_transfer_wait_days_mean", _mean(waited[~referred]))
        ended = mine[(mine["admitted"] >= start) & mine["ready"].notna()]
        put("level_stay_days_mean", _mean((ended["ready"] - ended["admitted"]) / HOURS_PER_DAY))
        for reason in LEVEL_EXIT_REASONS:
            share = (ended["reason"] == reason).mean() if len(ended) else np.nan
            put(f"level_{reason}_share", share)
        put("level_readmitted_within_30_days_share", _readmitted(mine, start, end))
        if spec.patience_days is not None:
            put("level_gave_up_share", _gave_up_share(mine, start))
        relapses = mine[(mine["relapsed"] >= start) & (mine["relapsed"] < end)]
        put("level_relapses_per_week", len(relapses) / weeks)
        going = mine[(mine["ready"] >= start) & (mine["to"] != OUT) & (mine["to"] != "")]
        if len(going):
            ready = going["ready"].to_numpy(dtype=float)
            who = going["client_id"].to_numpy(np.int64).tolist()
            began = np.array(
                [onward.get(key, np.nan) for key in zip(who, ready.tolist(), strict=True)],
                dtype=float,
            )
            gap = (began - ready) / HOURS_PER_DAY
            known = going["ready"].to_numpy() <= end - 30 * HOURS_PER_DAY  # a month to see it
            for days in (7, 30):
                within = np.nan_to_num(gap, nan=np.inf) <= days
                share = within[known].mean() if known.any() else np.nan
                put(f"level_onward_within_{days}_days_share", share)
        else:
            put("level_onward_within_7_days_share", np.nan)
            put("level_onward_within_30_days_share", np.nan)
    k.update(_ward_kpis(scenario, recorder, visits, start, end))
    k["referral_to_care_days_mean"] = _referral_to_care(visits, clients, start)
    return k


def _ward_kpis(
    scenario: Scenario, recorder: Recorder, visits: pd.DataFrame, start: float, end: float
) -> dict[str, float]:
    """A level at several sites of a network: its places, census, queue, admissions and wait
    at each, as ``<kpi>[level=<name>@<site>]``."""
    k: dict[str, float] = {}
    weeks = (end - start) / (7 * HOURS_PER_DAY)
    edges = np.array([start, end])
    m = recorder.monitors
    for level in sorted(scenario.levels, key=lambda level: level.name):
        for site, places in sorted(level.places_by_site.items()):
            of = f"[level={level.name}@{site}]"
            k["level_places" + of] = float(places)
            k["level_census_mean" + of] = float(
                m[f"{CENSUS}{level.name}@{site}"].bin_means(edges)[0]
            )
            k["level_waitlist_mean" + of] = float(
                m[f"{WAITING}{level.name}@{site}"].bin_means(edges)[0]
            )
            mine = visits[(visits["level"] == level.name) & (visits["site"] == site)]
            admitted = mine[(mine["admitted"] >= start) & (mine["admitted"] < end)]
            k["level_admissions_per_week" + of] = len(admitted) / weeks
            placed = mine[(mine["queued"] >= start) & mine["admitted"].notna()]
            k["level_wait_days_mean" + of] = _mean(
                (placed["admitted"] - placed["queued"]) / HOURS_PER_DAY
            )
    return k


def _gave_up_share(visits: pd.DataFrame, start: float) -> float:
    """Of those who sought a place at the level in the period and whose wait has ended
    (placed, gave up, or relapsed on the way), the share who gave up waiting: as the IOP
    waitlist's losses, those placed at once count, and those still waiting are left out."""
    queued = visits["queued"].to_numpy(dtype=float) >= start
    gave_up = ~np.isnan(visits["gave_up"].to_numpy(dtype=float))
    ended = (
        ~np.isnan(visits["admitted"].to_numpy(dtype=float))
        | gave_up
        | ~np.isnan(visits["relapsed"].to_numpy(dtype=float))
    )
    known = queued & ended
    return float((known & gave_up).sum() / known.sum()) if known.any() else float("nan")


def _referral_to_care(visits: pd.DataFrame, clients: pd.DataFrame, start: float) -> float:
    """Mean days from referral to the first day of care at any level (a level's admission or
    the first IOP day), for the period's referrals that reached care: the continuum's access
    measure (a PHP place found sooner than an IOP seat counts as care)."""
    referred = clients["referred"].to_numpy(dtype=float)
    mine = referred >= start
    if not mine.any():
        return float("nan")
    ids = clients["id"].to_numpy(dtype=np.int64)
    who = visits["client_id"].to_numpy(dtype=np.int64)
    size = max(int(ids.max()), int(who.max()) if len(who) else 0) + 1
    first_level = np.full(size, np.nan)  # each client's first admission at a level (NaN: none)
    np.fmin.at(first_level, who, visits["admitted"].to_numpy(dtype=float))
    first = np.fmin(clients["iop_start"].to_numpy(dtype=float)[mine], first_level[ids[mine]])
    days = (first - referred[mine]) / HOURS_PER_DAY
    return _mean(days[~np.isnan(days)])


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _onward_starts(visits: pd.DataFrame, clients: pd.DataFrame) -> dict:
    """For each (client, time ready at a level): when their next care began (admitted at the
    next level, or their first IOP day: their own or that of the episode they came back as)."""
    ordered = visits.sort_values(["client_id", "queued"])
    who = ordered["client_id"].to_numpy(dtype=np.int64).tolist()
    to = ordered["to"].to_numpy(dtype=object).tolist()
    ready = ordered["ready"].to_numpy(dtype=float).tolist()
    relapsed = ordered["relapsed"].to_numpy(dtype=float).tolist()
    admitted = ordered["admitted"].to_numpy(dtype=float).tolist()
    own_start: dict[int, float] = {}
    again: dict[int, float] = {}  # the first IOP day of the episode a client came back as
    if "id" in clients and len(clients):
        ids = clients["id"].to_numpy(dtype=np.int64).tolist()
        starts = clients["iop_start"].to_numpy(dtype=float).tolist()
        own_start = dict(zip(ids, starts, strict=True))
        if "readmission_of" in clients:
            of = clients["readmission_of"].to_numpy(dtype=np.int64).tolist()
            for first, start in zip(of, starts, strict=True):
                if first >= 0 and not np.isnan(start):  # (the earliest; NaN: none)
                    again[first] = min(again.get(first, start), start)
    onward: dict[tuple[int, float], float] = {}
    for i, client in enumerate(who):  # (rows by client, then by when they queued)
        if to[i] in ("", OUT) or np.isnan(ready[i]):
            continue
        began = np.nan
        if to[i] == IOP and np.isnan(relapsed[i]):
            own = own_start.get(client, np.nan)
            began = own if np.isfinite(own) and own >= ready[i] else again.get(client, np.nan)
        elif i + 1 < len(who) and who[i + 1] == client:  # the next level (or a relapse's)
            began = admitted[i + 1]
        onward[(client, ready[i])] = began
    return onward


def _programme_pay(scenario: Scenario, spec) -> float:
    """The weekly pay of the staff pools who run a level's programme (0 without one)."""
    if spec.programme is None:
        return 0.0
    return weekly_pay(scenario, [scenario.staff[name] for name in spec.programme.staff_pools])


def _programme_weeks(
    recorder: Recorder, visits: pd.DataFrame, name: str, start: float, end: float
) -> pd.Series:
    """Programme hours attended in each full week (Monday to Sunday) a client held a place
    at the level within [start, end): one value per client-week (weeks cut by an admission or
    a departure are not full weeks of the programme and are left out, as for the IOP)."""
    held = visits[visits["admitted"].notna()]
    first = np.ceil(held["admitted"].to_numpy(float) / HOURS_PER_WEEK)
    left = np.nan_to_num(held["left"].to_numpy(float), nan=end)
    last = np.floor(np.minimum(left, end) / HOURS_PER_WEEK)  # (exclusive)
    first = np.maximum(first, np.ceil(start / HOURS_PER_WEEK))
    weeks = [
        (cid, w)
        for cid, a, b in zip(held["client_id"], first, last, strict=True)
        for w in range(int(a), int(b))
    ]
    if not weeks:
        return pd.Series(dtype=float)
    attended: dict[tuple[int, int], float] = {}
    for cid, level, t, hours in recorder.level_attendance:
        if level == name:
            key = (cid, int(t // HOURS_PER_WEEK))
            attended[key] = attended.get(key, 0.0) + hours
    return pd.Series([attended.get(key, 0.0) for key in weeks], dtype=float)


def _readmitted(visits: pd.DataFrame, start: float, end: float, days: float = 30) -> float:
    """Of the stays at a level that ended in the period with a month left to see, the share
    whose client was admitted to the same level again within ``days`` of leaving it (a
    relapse back, a step-up after a step-down: readmissions)."""
    held = visits[visits["admitted"].notna()].sort_values(["client_id", "admitted"])
    again = held.groupby("client_id")["admitted"].shift(-1).to_numpy(float)
    left = held["left"].to_numpy(float)
    seen = (left >= start) & (left <= end - days * HOURS_PER_DAY)
    if not seen.any():
        return float("nan")
    back = np.nan_to_num(again - left, nan=np.inf) <= days * HOURS_PER_DAY
    return float(back[seen].mean())
