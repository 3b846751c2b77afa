"""Named random streams: common random numbers across scenarios.

Replication ``r`` of any scenario gets, for each activity name ("referrals", "los", ...), a
numpy Generator seeded from (seed, r, name). Two scenarios run with the same seed therefore
see the same draws for the same activity, so their comparison is paired, and adding a new
stream never shifts the draws of the others.
"""

from __future__ import annotations

import zlib

import numpy as np


def _name_key(name: str) -> int:
    # crc32 is stable across processes and Python versions (unlike hash()).
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of one replication.

    Parameters
    ----------
    seed: the experiment's seed (a non-negative integer).
    replication: the replication number, 0-based.
    """

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator for activity ``name`` (created on first use, then reused)."""
        rng = self._cache.get(name)
        if rng is None:
            sequence = np.random.SeedSequence([self.seed, self.replication, _name_key(name)])
            rng = np.random.Generator(np.random.PCG64(sequence))
            self._cache[name] = rng
        return rng
