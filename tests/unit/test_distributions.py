import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from simulation.distributions import Distribution, mean_of, sampler

ADAPTER = TypeAdapter(Distribution)
N = 200_000
# Tolerance: with 200,000 draws the standard error of a mean is sd/447, under 0.5% of the
# mean for every spec here (sd <= mean); 2% leaves a wide margin against flaky failures.
TOL = 0.02


def spec(data):
    return ADAPTER.validate_python(data)


@pytest.mark.parametrize(
    "data",
    [
        {"dist": "fixed", "value": 2.5},
        {"dist": "exponential", "mean": 3.0},
        {"dist": "lognormal", "mean": 8.0, "sd": 3.0},
        {"dist": "gamma", "mean": 5.0, "sd": 2.0},
        {"dist": "triangular", "low": 1.0, "mode": 1.5, "high": 2.0},
        {"dist": "uniform", "low": 2.0, "high": 6.0},
        {"dist": "empirical", "values": [1, 2, 10], "weights": [0.5, 0.3, 0.2]},
    ],
)
def test_sample_means_match_the_spec(data):
    s = spec(data)
    draws = sampler(s)(np.random.default_rng(1), N)
    assert draws.shape == (N,)
    assert abs(draws.mean() - mean_of(s)) <= TOL * mean_of(s)


def test_lognormal_sd_matches():
    draws = sampler(spec({"dist": "lognormal", "mean": 8.0, "sd": 3.0}))(
        np.random.default_rng(2), N
    )
    assert abs(draws.std() - 3.0) < 0.05 * 3.0  # sd of a sample sd is ~sd/sqrt(2N): far inside 5%


def test_truncation_keeps_values_within_bounds():
    s = spec({"dist": "lognormal", "mean": 40.0, "sd": 35.0, "min": 10, "max": 60})
    draws = sampler(s)(np.random.default_rng(3), N)
    assert draws.min() >= 10 and draws.max() <= 60
    # redrawing (not clipping) keeps mass off the bounds
    assert (draws == 60).mean() < 0.001


def test_a_bare_number_is_a_fixed_value():
    s = spec(1.5)
    assert s.dist == "fixed" and s.value == 1.5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dist": "lognormal", "mean": 5.0}, "sd"),
        ({"dist": "exponential", "mean": -1.0}, "greater than 0"),
        ({"dist": "triangular", "low": 3, "mode": 1, "high": 2}, "low <= mode <= high"),
        ({"dist": "uniform", "low": 1, "high": 2, "min": 5, "max": 4}, "min"),
        ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "weights"),
        ({"dist": "normal", "mean": 1}, "normal"),
        ({"dist": "exponential", "mean": float("nan")}, "finite"),
    ],
)
def test_bad_specs_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        spec(data)
