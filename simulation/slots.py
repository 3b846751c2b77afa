"""How many appointments a weekly roster holds: its shifts filled first come, first booked,
with appointments of a drawn length, as a diary with a long queue fills (notes are written
after each appointment, in what time is left, so they take no slot booked ahead). Fewer
than the hours divided by the mean length whenever a shift's end is too short for another:
a 4-hour intake clinic holds two 1.5-hour assessments, not 2.7, so its clinician can be
"75% busy" with every slot taken.

The estimate is the long-run count of a first-fit filling of many weeks of the roster by
draws from the length's distribution, with a stream of its own (``SEED``): the same
scenario always gives the same figure, and no replication's draws are touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.clock import HOURS_PER_DAY
from simulation.distributions import sampler

SEED = 20261206
WEEKS = 60  # weeks of the roster filled; the first and the last SKIP are left out
SKIP = 10
BATCHES = 400  # draws of 256 at most (lengths that seldom fit a shift stop here)
EPS = 1e-9


@dataclass(frozen=True)
class RosterHolds:
    """What one person's weekly shifts hold of one kind of appointment: ``per_week``
    appointments, filling ``filled_share`` of their shift hours with client-facing time;
    ``typical_shift`` the length (hours) of their most common shift and ``per_shift`` the
    appointments such a shift holds."""

    per_week: float
    filled_share: float
    typical_shift: float
    per_shift: float


_CACHE: dict[tuple, RosterHolds] = {}


def shift_lengths(intervals: list[tuple[float, float]], indirect_hours: float = 0.0) -> list[float]:
    """The hours of each stretch of a weekly roster (hour-of-week intervals), in week order,
    after ``indirect_hours`` a week are taken in equal shares from the end of each working
    day, as the diaries reserve them."""
    days = sorted({int(s // HOURS_PER_DAY) for s, _ in intervals})
    share = indirect_hours / max(len(days), 1)
    lengths = [e - s for s, e in intervals]
    if share > EPS:
        for day in days:
            need = share
            for i in reversed(range(len(intervals))):
                if int(intervals[i][0] // HOURS_PER_DAY) != day or need <= EPS:
                    continue
                take = min(need, lengths[i])
                lengths[i] -= take
                need -= take
    return [length for length in lengths if length > EPS]


def roster_holds(shifts: list[float], length) -> RosterHolds:
    """What a week of ``shifts`` (hours each, in week order) holds of appointments whose
    length is drawn from ``length`` (a distribution spec)."""
    key = (tuple(shifts), repr(length))
    if key not in _CACHE:
        _CACHE[key] = _fill(list(shifts), length)
    return _CACHE[key]


def _fill(shifts: list[float], length) -> RosterHolds:
    if not shifts:
        return RosterHolds(0.0, 0.0, 0.0, 0.0)
    n = len(shifts)
    remaining = np.tile(np.asarray(shifts, dtype=float), WEEKS)
    held = np.zeros(n * WEEKS)
    hours = np.zeros(n * WEEKS)
    rng = np.random.default_rng(SEED)
    draw = sampler(length)
    longest = max(shifts)
    for _ in range(BATCHES):
        batch = draw(rng, 256)
        for d in batch:
            if d > longest + EPS:
                continue  # (longer than any shift: never booked; such a client waits on)
            i = int(np.argmax(remaining >= d - EPS))
            remaining[i] -= d
            held[i] += 1
            hours[i] += d
            if i >= (WEEKS - SKIP) * n:  # the weeks measured are full
                return _holds(shifts, held, hours)
    return _holds(shifts, held, hours)  # (lengths that seldom fit: what they filled)


def _holds(shifts: list[float], held: np.ndarray, hours: np.ndarray) -> RosterHolds:
    n = len(shifts)
    weeks = slice(SKIP * n, (WEEKS - SKIP) * n)
    measured = WEEKS - 2 * SKIP
    per_shift = held[weeks].reshape(measured, n).mean(axis=0)
    lengths = np.asarray(shifts)
    typical = float(max(set(shifts), key=lambda s: (shifts.count(s), s)))
    return RosterHolds(
        per_week=float(per_shift.sum()),
        filled_share=float(hours[weeks].sum() / (measured * lengths.sum())),
        typical_shift=typical,
        per_shift=float(per_shift[lengths == typical].mean()),
    )
