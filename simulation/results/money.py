"""What a replication costs and earns: who is in post, payers, billable days, claims, revenue and staffed cost by week."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.clock import HOURS_PER_DAY
from simulation.config import Scenario

IOP_SERVICES = ("group", "individual", "medication", "family")


def in_post(weeks: np.ndarray, first: int, gone: int | None) -> np.ndarray:
    """Whether someone who joined in week ``first`` (and left in ``gone``) works each week."""
    return (weeks >= first) & (weeks < (gone if gone is not None else np.inf))


def payer_lookup(scenario: Scenario, clients: pd.DataFrame | None) -> np.ndarray | None:
    """The index of each client's payer in ``scenario.payers`` by client id (-1: a payer the
    scenario does not name, who pays by the finance table; every client is given one of the
    scenario's); None without payers."""
    if not scenario.payers or clients is None or "payer" not in clients or not len(clients):
        return None
    position = {p.name: k for k, p in enumerate(scenario.payers)}
    by_id = np.full(int(clients["id"].max()) + 1, -1)
    names = clients["payer"].to_numpy(dtype=object)  # (plain objects: quick to look up)
    codes = np.fromiter((position.get(n, -1) for n in names), dtype=np.int64, count=len(names))
    by_id[clients["id"].to_numpy(dtype=np.int64)] = codes
    return by_id


def video_lookup(scenario: Scenario, clients: pd.DataFrame | None) -> np.ndarray | None:
    """Whether each client (by id) joins their groups by video: a virtual track's clients and
    a hybrid track's video clients; None when no payer has a telehealth per diem."""
    if (
        not any(p.telehealth_per_diem is not None for p in scenario.payers)
        or clients is None
        or not len(clients)
    ):
        return None
    virtual = [t.name for t in scenario.tracks if t.modality == "virtual"]
    video = clients["track"].isin(virtual).to_numpy() | clients["by_video"].to_numpy(dtype=bool)
    by_id = np.zeros(int(clients["id"].max()) + 1, dtype=bool)
    by_id[clients["id"].to_numpy(dtype=np.int64)] = video
    return by_id


def payer_index(lookup: np.ndarray | None, client_ids) -> np.ndarray:
    """Each given client's payer index from a ``payer_lookup`` (-1 without payers)."""
    ids = np.asarray(client_ids, dtype=np.int64)
    return np.full(len(ids), -1) if lookup is None else lookup[ids]


def _rule_arrays(scenario: Scenario, payer: np.ndarray):
    """Per row: the billable-day rule's minimum hours and services and whether a group is
    required, by each row's payer (-1: the finance table's rule)."""
    rules = [p.billable_day for p in scenario.payers] + [scenario.finance.billable_day]
    pick = np.where(payer < 0, len(rules) - 1, payer)
    hours = np.array([r.min_hours for r in rules])[pick]
    services = np.array([r.min_services for r in rules])[pick]
    group = np.array([r.requires == "group" for r in rules])[pick]
    return hours, services, group


def billable_days(
    scenario: Scenario, attendance: pd.DataFrame, payers: np.ndarray | None = None
) -> pd.DataFrame:
    """Each client-day with an attended IOP service, its services and hours, and whether it
    meets the billable-day rule (``finance.billable_day``, or the client's payer's). A
    service is an hour of group or one appointment (CMS counts services per day)."""
    kind = attendance["kind"].to_numpy(dtype=object)
    iop = np.isin(kind, IOP_SERVICES)  # (numpy throughout: pandas' indexing cost more)
    client = attendance["client_id"].to_numpy(dtype=np.int64)[iop]
    day = (attendance["time"].to_numpy(dtype=float)[iop] // HOURS_PER_DAY).astype(np.int64)
    hours = attendance["hours"].to_numpy(dtype=float)[iop]
    is_group = kind[iop] == "group"
    # one row per (client, day), in that order (numpy: a pandas groupby costs 10x here)
    low = int(day.min()) if len(day) else 0
    span = (int(day.max()) - low + 1) if len(day) else 1
    keys, at = np.unique(client * span + (day - low), return_inverse=True)
    n = len(keys)
    services = np.bincount(at, np.where(is_group, np.round(hours), 1.0), minlength=n)
    total = np.bincount(at, hours, minlength=n)
    group = np.bincount(at, is_group.astype(float), minlength=n) > 0
    who = keys // span
    payer = payer_index(payers, who)
    min_hours, min_services, needs_group = _rule_arrays(scenario, payer)
    billable = (total >= min_hours - 1e-9) & (services >= min_services)
    billable &= group | ~needs_group
    return pd.DataFrame(
        {
            "client_id": who,
            "day": keys % span + low,
            "services": services,
            "hours": total,
            "group": group,
            "billable": billable,
            "payer": payer,
        }
    )


def claims(
    scenario: Scenario,
    days: pd.DataFrame,
    attendance: pd.DataFrame,
    payers: np.ndarray | None = None,
    by_video: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every claim: a billable IOP client-day at the client's payer's per diem (-1: the
    finance table's rates): its 4+ services tier on days with 4 or more services where the
    payer has one, its telehealth per diem for clients who join their groups by video
    (``by_video``: a lookup by client id) where it has one; or an attended outpatient session
    at its rate; with the amount expected to be denied and the days to payment."""
    finance = scenario.finance
    billable = days["billable"].to_numpy(dtype=bool)
    payer = days["payer"].to_numpy()[billable]
    billed_client = days["client_id"].to_numpy(dtype=np.int64)[billable]
    pick = np.where(payer < 0, len(scenario.payers), payer)

    def rates(name: str) -> np.ndarray:  # one per row, by payer; NaN where none is set
        values = [getattr(p, name) for p in scenario.payers] + [getattr(finance, name, None)]
        return np.array([math.nan if v is None else v for v in values], dtype=float)[pick]

    rate = rates("iop_per_diem")
    tier = rates("iop_per_diem_4plus")
    four = (days["services"].to_numpy()[billable] >= 4) & np.isfinite(tier)
    rate = np.where(four, tier, rate)
    if by_video is not None and len(billed_client):
        video = by_video[billed_client]
        tele = rates("telehealth_per_diem")
        rate = np.where(video & np.isfinite(tele), tele, rate)
    op = attendance["kind"].to_numpy(dtype=object) == "outpatient"
    op_client = attendance["client_id"].to_numpy(dtype=np.int64)[op]
    op_payer = payer_index(payers, op_client)
    op_rates = np.array([p.op_session_rate for p in scenario.payers] + [finance.op_session_rate])
    op_rate = op_rates[np.where(op_payer < 0, len(op_rates) - 1, op_payer)]
    every = np.concatenate([payer, op_payer]).astype(int)
    denial = np.array([p.denial_share for p in scenario.payers] + [0.0])
    wait = np.array([p.days_to_payment for p in scenario.payers] + [0.0])
    pick = np.where(every < 0, len(denial) - 1, every)
    amount = np.concatenate([rate, op_rate])
    return pd.DataFrame(
        {
            "day": np.concatenate(
                [
                    days["day"].to_numpy()[billable],
                    (attendance["time"].to_numpy(dtype=float)[op] // HOURS_PER_DAY).astype(int),
                ]
            ),
            "payer": every,
            "client_id": np.concatenate(
                [
                    billed_client,
                    op_client,
                ]
            ),
            "billed": amount,
            "denied": amount * denial[pick],
            "days_to_payment": wait[pick],
        }
    )


def _daily_revenue(c: pd.DataFrame) -> pd.Series:
    """Revenue per simulated day: what the claims bring once denials are taken off."""
    day = c["day"].to_numpy(dtype=np.int64)
    if not len(day):
        return pd.Series(dtype=float)
    low = int(day.min())
    amount = np.bincount(day - low, weights=(c["billed"] - c["denied"]).to_numpy(dtype=float))
    used = np.flatnonzero(np.bincount(day - low))
    return pd.Series(amount[used], index=used + low)


def staffed_cost(scenario: Scenario, employment: list, weeks: int) -> np.ndarray:
    """Staff and room cost in each week as staffed: people in post (a vacancy costs no salary;
    an agency locum costs agency_cost_multiplier times as much). Without turnover or dated
    changes this is ``weekly_cost`` every week."""
    if not employment or all(
        first == 0 and gone is None and not agency for _, _, first, gone, agency in employment
    ):
        return np.full(weeks, weekly_cost(scenario))
    full_time = scenario.finance.full_time_hours
    fixed = scenario.finance.room_cost_per_week * len(scenario.rooms)
    cost = np.full(weeks, fixed + scenario.finance.overhead_per_week)
    index = np.arange(weeks)
    for _, pool_name, first, gone, agency in employment:
        pool = scenario.staff[pool_name]
        weekly = pool.annual_cost * pool.paid_fte(full_time) / 52.0
        weekly *= pool.agency_cost_multiplier if agency else 1.0
        cost += weekly * in_post(index, first, gone)
    return cost


def weekly_cost(scenario: Scenario, overhead: bool = True) -> float:
    """Staff, room and overhead cost per week (annual cost x paid FTE / 52 for each person;
    the FTE follows the roster unless the pool gives one; ``overhead``: with the fixed
    monthly costs)."""
    staff = weekly_pay(scenario, scenario.staff.values())
    fixed = scenario.finance.overhead_per_week if overhead else 0.0
    return staff + scenario.finance.room_cost_per_week * len(scenario.rooms) + fixed


def weekly_pay(scenario: Scenario, pools) -> float:
    """The pay of ``pools`` a week: annual cost x paid FTE x members / 52."""
    full_time = scenario.finance.full_time_hours
    return sum(p.annual_cost * p.paid_fte(full_time) * p.size for p in pools) / 52.0


def plan_cost(scenario: Scenario, overhead: bool = True) -> float:
    """What a combination of capacities costs a week before it is simulated: ``weekly_cost``
    and each level's places at their weekly cost (a level with unlimited places costs by the
    places held, known only once simulated: not in it)."""
    places = sum(
        level.cost_per_place_per_week * level.total_places
        for level in scenario.levels
        if level.total_places is not None
    )
    return weekly_cost(scenario, overhead) + places


def level_money(
    scenario: Scenario,
    level,
    census: np.ndarray,
    blocked: np.ndarray,
    visits: pd.DataFrame,
    payers: np.ndarray | None,
    edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A level's revenue and cost in each period between ``edges``, from its mean places held
    and blocked: the per diem on its billed days for every place held (blocked days only if
    billed), and the cost of its places (unlimited places: of those held). When a payer has
    its own rate or blocked-day rule for the level, each client's days are paid by their
    payer's rules (from the stays in ``visits``)."""
    places = (
        census if level.total_places is None else np.full(len(census), float(level.total_places))
    )
    spent = level.cost_per_place_per_week * places
    own = [p for p in scenario.payers if _pays_level_its_way(p, level.name)]
    if not own or payers is None or visits.empty:
        billed = census - (0.0 if level.blocked_days_billed else blocked)
        return level.per_diem * level.billed_days_per_week * billed, spent
    mine = visits[(visits["level"] == level.name) & visits["admitted"].notna()]
    end = float(edges[-1])
    left = mine["left"].fillna(end).to_numpy(float)
    held = _mean_in_care(mine["admitted"].to_numpy(float), left, edges)
    ready = mine["ready"].to_numpy(float)
    was_blocked = np.isfinite(ready) & (left > ready)
    waiting = _mean_in_care(np.where(was_blocked, ready, left), left, edges)
    code = payer_index(payers, mine["client_id"].to_numpy())
    rate = np.full(len(mine), float(level.per_diem))
    paid_blocked = np.full(len(mine), level.blocked_days_billed)
    for k, payer in enumerate(scenario.payers):
        rate[code == k] = payer.level_per_diems.get(level.name, level.per_diem)
        if payer.level_blocked_days_billed is not None:
            paid_blocked[code == k] = payer.level_blocked_days_billed
    billed = held - np.where(paid_blocked, 0.0, 1.0)[:, None] * waiting
    return level.billed_days_per_week * (rate[:, None] * billed).sum(axis=0), spent


def _pays_level_its_way(payer, level: str) -> bool:
    return level in payer.level_per_diems or payer.level_blocked_days_billed is not None


def _mean_in_care(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each stay's share of every period between ``edges`` spent in [start, end): one row
    per stay, one column per period (summed over stays: the mean number in care)."""
    lo, hi = edges[:-1][None, :], edges[1:][None, :]
    overlap = np.minimum(end[:, None], hi) - np.maximum(start[:, None], lo)
    return np.clip(overlap, 0.0, None) / (hi - lo)
