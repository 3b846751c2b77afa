"""Levels of care from a clinic's records: an extract whose ``level`` column names another level
than the IOP (a PHP, outpatient care) holds that level's stays, one row per stay, with its
admission and discharge in the start and end columns and where the client went next in
``discharged_to`` (blank: out of care) and why it ended in ``discharge_reason``. For each level
with enough stays the fit writes its length of stay (censored maximum likelihood: stays still
running at the extract's date are censored; dropouts' stays apart when there are enough of
them), its routes onward by share (Wilson intervals; out of care by reason), its places (the
most in care at once in the last year) and the patience of those who wait for a place out of
care, keeping the template's other settings of that level (gaps, blocking, money) and adding
a level the template lacks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.config import IOP, OUT
from simulation.fit.capacity import LOOK_BACK_WEEKS, daily_census
from simulation.fit.evidence import Evidence
from simulation.fit.patience import PLACED_AT_ONCE, SAME_DAY, fit_patience, waiting_through
from simulation.fit.survival import best_fit, wilson

MIN_STAYS = 20
"""Fewer stays at a level than this say too little of it: the template's values stay."""


def fit_levels(t: pd.DataFrame, as_of: pd.Timestamp, data: dict, ev: list, notes: list) -> None:
    """Fit every level the rows ``t`` (the extract's rows of levels other than the IOP) hold."""
    known = {level["name"] for level in data.get("levels", [])}
    for name, rows in t.groupby("level"):
        stays = rows[rows["iop_start_date"].notna()]
        if len(stays) < MIN_STAYS:
            notes.append(
                f"Level {name}: {len(stays)} stays in the extract (fewer than {MIN_STAYS}): the "
                "template's values are kept" + ("" if name in known else " (it has none)")
            )
            continue
        entry = next(
            (level for level in data.setdefault("levels", []) if level["name"] == name), None
        )
        if entry is None:
            entry = {"name": name}
            data["levels"].append(entry)
            notes.append(f"Level {name}: not in the template, added from the records.")
        reasons = _reasons(stays)
        dropouts = stays[reasons == "dropped_out"]
        own = len(dropouts) >= MIN_STAYS  # enough dropouts for stays of their own
        others = stays[reasons != "dropped_out"] if own else stays
        unblocked, held = _unblocked(others, entry)
        _stay(name, unblocked, as_of, entry, ev, held=held)
        _routes(name, stays, reasons, sorted(known | {name}), entry, ev, notes)
        if own:
            route = next((r for r in entry["routes"] if r.get("reason") == "dropped_out"), None)
            if route is not None:
                _stay(name, dropouts, as_of, route, ev, "routes.dropped_out.")
        _places(name, stays, as_of, entry, ev)
        _patience(name, rows, as_of, entry, ev, notes)


REASONS = {"dropped_out": "dropped_out", "escalated": "stepped_up", "other": "other"}
"""The extract's discharge reasons that make a level's route out of care of their own (its
reason in the scenario's words); completed, blank or any other: completed."""


def _reasons(stays: pd.DataFrame) -> pd.Series:
    """Why each stay ended, in the scenario's words ("" for a stay still running)."""
    if "discharge_reason" not in stays:
        return pd.Series("completed", index=stays.index).where(stays["iop_end_date"].notna(), "")
    reason = stays["discharge_reason"].map(REASONS).fillna("completed")
    return reason.where(stays["iop_end_date"].notna(), "")


def _unblocked(stays: pd.DataFrame, entry: dict) -> tuple[pd.DataFrame, int]:
    """The stays whose length is the stay itself, and how many were left out: a stay that
    went on to the IOP or another level may have held its place after it was over, waiting
    for the next (blocked, ``when_full = "stay"``), and the model blocks those days again.
    Left out when at least ``MIN_STAYS`` ended out of care (the model draws the same stay
    whatever the route; one with stays of its own, the dropouts', is fitted apart)."""
    if entry.get("when_full", "stay") != "stay":
        return stays, 0
    going_on = stays["iop_end_date"].notna() & (stays["discharged_to"] != "")
    out_of_care = stays["iop_end_date"].notna() & ~going_on
    if out_of_care.sum() < MIN_STAYS:
        return stays, 0
    return stays[~going_on], int(going_on.sum())


def _stay(name, stays, as_of, entry, ev, key: str = "", held: int = 0) -> None:
    """The stays' length (``key``: of one route's stays, e.g. "routes.dropped_out.";
    ``held``: stays going on to more care left out, see ``_unblocked``)."""
    end = stays["iop_end_date"]
    observed = end.notna().to_numpy()
    days = ((end.fillna(as_of) - stays["iop_start_date"]).dt.total_seconds() / 86400.0).to_numpy()
    fit, fits = best_fit(np.maximum(days, 0.5), observed)
    if fit is None:
        return
    entry["stay_days"] = fit.spec()
    aics = ", ".join(f"{f.family} {f.aic:.0f}" for f in fits)
    ev.append(
        Evidence(
            f"levels.{name}.{key}stay_days",
            fit.spec(),
            fit.mean_ci[0],
            fit.mean_ci[1],
            fit.events + fit.censored,
            f"{fit.family} by censored maximum likelihood ({fit.events} stays ended, "
            f"{fit.censored} still running; AIC {aics}); admission to discharge"
            + (
                f", of stays that ended out of care or still run ({held} that went on to the IOP "
                "or a level left out: their place may have been held, blocked, after the stay, "
                "and the model blocks those days itself)"
                if held
                else ", so any days spent waiting for the next level are in it"
            )
            + ("; dropouts' stays apart (those still running are the others')" if key else ""),
        )
    )


def _routes(name, stays, reasons, levels, entry, ev, notes) -> None:
    """Routes by share: one to each next care the stays ended with, and one out of care for
    each reason other than completed (dropouts, step-ups to care the scenario does not hold,
    other); completed discharges are what the shares leave."""
    ended = stays[stays["iop_end_date"].notna()]
    if not len(ended):
        return
    why = reasons[ended.index]
    to = ended["discharged_to"].replace("", OUT)
    allowed = {IOP, OUT, *levels} - {name}
    unknown = sorted(set(to) - allowed)
    if unknown:
        notes.append(
            f"Level {name}: discharged_to names {', '.join(unknown)} (not the IOP or a level of "
            "the scenario): counted as leaving care"
        )
        to = to.where(to.isin(allowed), OUT)
    gaps = {route["to"]: route.get("lead_days", 0.0) for route in entry.get("routes", [])}
    routes = []
    for destination in sorted(set(to) - {OUT}):
        n = int((to == destination).sum())
        share, low, high = wilson(n, len(to))
        routes.append(
            {"to": destination, "share": round(share, 4), "lead_days": gaps.get(destination, 0.0)}
        )
        ev.append(
            Evidence(
                f"levels.{name}.routes.{destination}.share",
                round(share, 4),
                low,
                high,
                len(to),
                f"stays that ended with the next care at {destination} (Wilson CI)",
            )
        )
    for reason in ("dropped_out", "stepped_up", "other"):
        n = int(((to == OUT) & (why == reason)).sum())
        if not n:
            continue
        share, low, high = wilson(n, len(to))
        routes.append({"to": OUT, "share": round(share, 4), "reason": reason})
        ev.append(
            Evidence(
                f"levels.{name}.routes.{reason}.share",
                round(share, 4),
                low,
                high,
                len(to),
                f"stays that ended out of care as {reason.replace('_', ' ')} (Wilson CI)",
            )
        )
    total = sum(r["share"] for r in routes)
    if total > 1:  # (rounding)
        routes[-1]["share"] = round(routes[-1]["share"] - (total - 1), 4)
    entry["routes"] = routes


MIN_GAVE_UP = 5
"""Fewer who left a level's waitlist without a place than this say too little of patience:
the template's is kept (as for the IOP waitlist)."""


def _patience(name, rows, as_of, entry, ev, notes) -> None:
    """How long those waiting for a place out of care wait before giving up
    (``patience_days``): the level's rows with a ``waitlist_date`` (joined its waitlist out of
    care), those with a ``waitlist_exit_date`` and no admission gave up (or relapsed on the
    way: the records do not tell them apart), the others censored by their admission or the
    extract's date (one admitted the day they joined with nobody waiting: placed at once,
    never at risk). Exponential (the constant hazard of Erlang A) by censored maximum
    likelihood: a level's waits are mostly a day or two, recorded in whole days, too coarse
    for AIC to choose a shape (it picked a gamma or lognormal for the day-heaping, not the
    patience: a third too long on a simulated clinic)."""
    waited = rows[rows["waitlist_date"].notna()]
    if not len(waited):
        return
    gave_up = waited["waitlist_exit_date"].notna() & waited["iop_start_date"].isna()
    if gave_up.sum() < MIN_GAVE_UP:
        notes.append(
            f"Level {name}: {int(gave_up.sum())} of {len(waited)} who waited for a place out of "
            f"care left without one (fewer than {MIN_GAVE_UP}): its patience is the template's"
            + (
                ""
                if entry.get("patience_days") is not None
                else " (none: they wait as long as it takes)"
            )
        )
        return
    end = waited["waitlist_exit_date"].where(gave_up, waited["iop_start_date"]).fillna(as_of)
    days = (end - waited["waitlist_date"]).dt.total_seconds().to_numpy(dtype=float) / 86400.0
    # admitted the day they joined with nobody (referral or transfer) waiting all that day:
    # placed at once, never at risk (a level admits the moment a place is free)
    left = rows["iop_start_date"].fillna(rows["waitlist_exit_date"])
    ahead = waiting_through(rows["referral_date"], left, np.zeros(len(rows), dtype=int))
    at_once = (waited["iop_start_date"] == waited["waitlist_date"]).to_numpy() & (
        ahead[rows["waitlist_date"].notna().to_numpy()] == 0
    )
    at_risk = np.where(at_once, PLACED_AT_ONCE, np.maximum(days, SAME_DAY))
    fit = fit_patience(at_risk, gave_up.to_numpy())
    if fit is None:
        return
    entry["patience_days"] = fit.spec()
    ev.append(
        Evidence(
            f"levels.{name}.patience_days",
            fit.spec(),
            fit.mean_ci[0],
            fit.mean_ci[1],
            len(waited),
            f"exponential by censored maximum likelihood ({fit.events} left its waitlist "
            f"without a place, {fit.censored} censored by admission or the extract date; "
            "waits in whole days, mostly short: too coarse to choose a shape by AIC)",
        )
    )


def _places(name, stays, as_of, entry, ev) -> None:
    since = max(as_of - pd.Timedelta(weeks=LOOK_BACK_WEEKS), stays["iop_start_date"].min())
    census = daily_census(
        stays["iop_start_date"], stays["iop_end_date"], since.normalize(), as_of.normalize()
    )
    most = int(census.max()) if len(census) else 0
    if most < 1:
        return
    template = entry.get("places")
    entry["places"] = most
    ev.append(
        Evidence(
            f"levels.{name}.places",
            most,
            math.nan,
            math.nan,
            len(stays),
            f"the most clients at the level at once from {since.date()} to {as_of.date()} "
            f"(template: {template if template is not None else 'unlimited'}); a level never "
            "full has more: set them yourself",
        )
    )


def unrouted_levels(data: dict) -> list[str]:
    """Notes for the fitted levels that nothing sends clients to: no source refers to them,
    neither intake nor the IOP names them, and no other level's route leads there."""
    to = {s.get("level", IOP) for s in data["referrals"]["sources"]}
    to |= {data["intake"].get("higher_care_to"), data["iop"].get("escalate_to")}
    for level in data.get("levels", []):
        to |= {r.get("to") for r in level.get("routes", []) if level["name"] != r.get("to")}
    return [
        f"Level {level['name']}: nothing sends clients to it (no source refers there, and "
        "neither intake's higher_care_to, the IOP's escalate_to nor another level's routes name "
        "it), so the fitted clinic never uses it: name it where its clients come from (see "
        "docs/data.md)"
        for level in data.get("levels", [])
        if level["name"] not in to
    ]
