"""What a key performance indicator is: its name, unit, meaning and which way is better."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kpi:
    """One indicator: its unit (days, share, clients, per_week, hours_per_week, money_per_week)
    and meaning."""

    name: str
    unit: str
    description: str
    better: str = "lower"  # which direction is better: "lower", "higher" or "neither"
    signed: bool = False  # can be below zero (a margin, a trend); else never negative
    short: str = ""  # a column heading where the description is too long
