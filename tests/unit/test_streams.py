import numpy as np

from simulation.streams import Streams


def test_same_seed_replication_and_name_give_the_same_draws():
    a = Streams(7, 3).get("referrals").random(5)
    b = Streams(7, 3).get("referrals").random(5)
    assert np.array_equal(a, b)


def test_streams_differ_by_name_replication_and_seed():
    base = Streams(7, 3).get("referrals").random(5)
    assert not np.array_equal(base, Streams(7, 3).get("los").random(5))
    assert not np.array_equal(base, Streams(7, 4).get("referrals").random(5))
    assert not np.array_equal(base, Streams(8, 3).get("referrals").random(5))


def test_using_another_stream_first_does_not_shift_a_stream():
    plain = Streams(1, 0)
    busy = Streams(1, 0)
    busy.get("attendance").random(1000)  # a new activity drawing first
    assert np.array_equal(plain.get("los").random(10), busy.get("los").random(10))


def test_the_same_generator_is_reused_within_a_replication():
    s = Streams(1, 0)
    first = s.get("x").random()
    second = s.get("x").random()
    assert first != second
