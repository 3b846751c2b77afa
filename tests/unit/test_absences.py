"""The chance of coming through a run of group sessions without an absence ending the stay."""

import itertools

import numpy as np
import pytest

from simulation.model.groups import survival_through_absences


def by_every_sequence(attend: float, hazard: float, limit, sessions: int) -> float:
    """Each sequence of came / missed weighed by its chance, kept while no absence ended it."""
    total = 0.0
    for came in itertools.product((True, False), repeat=sessions):
        chance, run = 1.0, 0
        for c in came:
            run = 0 if c else run + 1
            chance *= attend if c else (1 - attend) * (1 - hazard)
            if limit is not None and run >= limit:
                chance = 0.0
        total += chance
    return total


@pytest.mark.parametrize(
    ("hazard", "limit", "sessions"),
    [(0.0, None, 5), (0.03, None, 7), (0.0, 2, 6), (0.1, 3, 8), (0.2, 1, 4), (0.05, 2, 0)],
)
def test_survival_through_absences_is_the_sum_over_every_sequence(hazard, limit, sessions):
    attend = np.array([0.0, 0.3, 0.82, 1.0])
    got = survival_through_absences(attend, hazard, limit, sessions)
    expected = [by_every_sequence(a, hazard, limit, sessions) for a in attend]
    assert got == pytest.approx(expected, abs=1e-12)


def test_better_attenders_come_through_more_often():
    attend = np.linspace(0, 1, 11)
    through = survival_through_absences(attend, 0.05, 3, 40)
    assert (np.diff(through) > 0).all() and through[-1] == 1.0
