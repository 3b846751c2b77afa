"""One fitted value with its evidence: what a fitted scenario says beside every value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """One fitted value: the scenario key, the estimate, its 95% CI, the sample size, how."""

    key: str
    value: object
    low: float
    high: float
    n: int
    method: str

    def comment(self) -> str:
        ci = "" if not np.isfinite(self.low) else f", 95% CI {self.low:.4g} to {self.high:.4g}"
        return f"fitted: {_short(self.value)}{ci}, n = {self.n}, {self.method}"


def _short(value) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
