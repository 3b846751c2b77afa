"""Plans under uncertainty and sensitivity over a level of care's inputs: a robust plan for a
level's places chooses what Erlang C says holds in the required share of futures of an
uncertain stay, and a tornado over a level's stay moves that level's census the way Little's
law says."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from simulation import planning
from simulation.robust import Futures
from simulation.sensitivity import sensitivity
from simulation.uncertainty import uncertain_inputs
from tests.verification.test_levels import JACKSON
from tests.verification.theory import mmc

# level a alone (no routes on): Poisson referrals at 2 a day, exponential stays whose mean is
# uncertain, uniform on 2.5 to 3.5 days; an M/M/c station with c its places
LEVEL_A = scenarios.apply_overrides(
    JACKSON,
    [
        "levels.a.routes=[]",
        "uncertainty.levels.a.stay_days.mean=[2.5, 3.5]",
        "horizon_weeks=40",
    ],
)
TARGET = ("level_wait_days_mean[level=a]", "<=", 0.25)


def erlang_c_share(places: int) -> float:
    """Share of mean stays in [2.5, 3.5] days whose M/M/c mean wait meets the target."""
    stays = np.linspace(2.5, 3.5, 2001)
    return float(np.mean([mmc(2.0, 1 / s, places)["wq"] <= TARGET[2] for s in stays]))


@pytest.mark.parametrize(("required", "places"), [(0.5, 9), (0.9, 10)])
def test_a_robust_plan_for_a_levels_places_holds_in_the_share_erlang_c_says(required, places):
    assert erlang_c_share(places) >= required > erlang_c_share(places - 1)  # the premise
    futures = Futures.draw(uncertain_inputs(LEVEL_A, None), 20, required, LEVEL_A.seed)
    factor = planning.parse_factor("levels.a.places=8..11", "--vary")
    result = planning.plan(LEVEL_A, [factor], [TARGET], 2, LEVEL_A.seed, workers=2, futures=futures)
    assert result.recommendation is not None
    assert result.recommendation.values == (places,)


def test_a_tornado_over_a_levels_stay_moves_its_census_by_littles_law():
    """Unlimited places: the mean in care is 2 a day x the mean stay, so the stay's low and
    high (2.5 and 3.5 days) move level a's census by -1 and +1 from the 3-day base (common
    random numbers: the same referrals at every level of the input)."""
    sc = scenarios.apply_overrides(LEVEL_A, ["horizon_weeks=100"])
    inputs = uncertain_inputs(sc, None)
    kpi = "level_census_mean[level=a]"
    result = sensitivity(sc, inputs, [kpi], replications=3, points=6, workers=2)
    oat = result.one_at_a_time.set_index("level")
    # 700 days x 2 a day = 1,400 stays a replication, 3 replications: the census's mean is
    # within 0.15 of lambda x stay (its standard error is about 0.05)
    assert oat.loc["low", "delta"] == pytest.approx(-1.0, abs=0.15)
    assert oat.loc["high", "delta"] == pytest.approx(1.0, abs=0.15)
    assert result.ranking(kpi)["input"].iloc[0] == "levels.a.stay_days.mean"
