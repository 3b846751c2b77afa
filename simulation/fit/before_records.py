"""Clients in care since before the records: an extract of referrals from a date holds none
of the clients then in care (nor has a clinic still filling any), yet they hold places for
months. Caught mid-stay, longer stays more often, what is left of their stays is longer than a
stay: P(left > x) = E[(stay - x)+] / E[stay], from the stays (the fitted and the template's,
whichever leave later: stays fitted from a few months of records have their long tail cut).
From it, the day the records' census can be the clinic's (seats are read from then on), and
how many of those clients are still in care on the state's date (Little's law: the clinic's
census when the records begin is its starts a day times the mean stay)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import TypeAdapter

from simulation.distributions import Distribution, sampler

CENSUS_COMPLETE_SHARE = 0.9
"""The records' census is the clinic's once the clients in care when they begin hold under
1 - this share of the places they held."""
STAY_DRAWS = 20_000


def _left(data: dict) -> tuple[np.ndarray, float] | None:
    """(P(what is left of a stay under way > x) for x = 0, 1, ... days, mean stay) from the
    exit shares and stays by reason in ``data``; None without them."""
    iop = data.get("iop", {})
    shares, stays = iop.get("exit_shares", {}), iop.get("length_of_stay_days", {})
    if not shares or not stays:
        return None
    rng = np.random.default_rng(0)  # (a fixed draw: the same records give the same answer)
    drawn = [
        sampler(TypeAdapter(Distribution).validate_python(stays[r]))(rng, round(STAY_DRAWS * p))
        for r, p in shares.items()
        if r in stays and p > 0
    ]
    stay = np.concatenate(drawn) if drawn else np.array([])
    if not len(stay) or stay.mean() <= 0:
        return None
    days = np.arange(0.0, stay.max() + 7.0, 1.0)
    return np.array([np.maximum(stay - x, 0.0).mean() for x in days]) / stay.mean(), stay.mean()


def stays_left(data: dict, template: dict | None = None) -> tuple[np.ndarray, float] | None:
    """(P(what is left of a stay under way > x) for x = 0, 1, ... days, the mean stay) from the
    fitted stays in ``data``, the share left taken from the template's stays where they leave
    later; None without fitted stays."""
    fitted = _left(data)
    if fitted is None:
        return None
    other = _left(template) if template is not None else None
    if other is None:
        return fitted
    a, b = fitted[0], other[0]
    n = max(len(a), len(b))
    a, b = np.pad(a, (0, n - len(a))), np.pad(b, (0, n - len(b)))
    return np.maximum(a, b), fitted[1]


def census_complete_from(
    t: pd.DataFrame, data: dict, template: dict | None = None
) -> pd.Timestamp | None:
    """The first day the records' IOP census can be the clinic's: their first referral plus
    the time by which the clients in care when they begin hold under 1 - CENSUS_COMPLETE_SHARE
    of their places. None without stays or referrals."""
    left = stays_left(data, template)
    if left is None or not t["referral_date"].notna().any():
        return None
    after = int(np.argmax(left[0] <= 1 - CENSUS_COMPLETE_SHARE))
    return t["referral_date"].min().normalize() + pd.Timedelta(days=after)


def still_in_care(
    t: pd.DataFrame, data: dict, day: pd.Timestamp, template: dict | None = None
) -> float:
    """How many clients in care when the records begin are still in care on ``day``: the
    census then (the records' IOP starts a day times the mean stay, by Little's law, at most
    the seats) times P(what is left of their stays > the days since)."""
    left = stays_left(data, template)
    began = t["iop_start_date"].dropna()
    if left is None or not len(began) or not t["referral_date"].notna().any():
        return 0.0
    share, mean_stay = left
    first = t["referral_date"].min().normalize()
    span = max((day - first).days, 1)
    starts_a_day = int((began <= day).sum()) / span
    seats = sum(track["seats"] for track in data["tracks"])
    census = min(starts_a_day * mean_stay, seats)
    since = min(int((day - first).days), len(share) - 1)
    return census * float(share[since])


def state_note(episodes, data: dict, template: dict | None = None) -> list[str]:
    """A note when clients in care since before the records are likely still in care on the
    state's date (``still_in_care``, one or more): the state holds only the records' clients,
    so a forecast from it starts with places free that the clinic does not have."""
    from simulation.data.extract import at_iop

    if not data.get("state"):
        return []
    t = episodes.table[at_iop(episodes.table)]
    expected = still_in_care(t, data, episodes.as_of, template)
    if expected < 1:
        return []
    first = t["referral_date"].min().normalize()
    return [
        f"About {expected:.0f} clients in care since before the records begin ({first.date()}, "
        f"in none of their rows) would still be in care on {episodes.as_of.date()} (the census "
        "when the records begin, by their starts a day times the mean stay, times the share of "
        "places such clients still hold after as long); the state holds only the records' "
        "clients, so a forecast from it starts with that many places free that the clinic does "
        "not have: its census and admissions run high until they would have left"
    ]
