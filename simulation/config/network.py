"""A provider's network of sites, as data: which site each referral is seen at.

A scenario with ``[[sites]]`` is one provider running several sites. Tracks, rooms and staff
pools name their ``site`` (none: network-wide: a virtual track any site's clients may join,
staff who work for every site). Referrals come from regions (``network.regions``: each a share
of the referrals, with travel minutes to each site) and find their site by the network's
``routing`` when they arrive:

- ``split``: by the region's fixed shares of sites (``split``);
- ``nearest``: the site with the fewest travel minutes from the region;
- ``shortest_wait``: the site whose waiting clients per IOP seat are fewest then (ties: nearer);
- ``choice``: clients choose, weighting each site by exp(-decay x travel minutes);
- ``pooled``: one queue for the whole network: intake with any site's clinicians and the first
  free seat at any site (the client travels to it).

``network.intake = "pooled"`` pools the intake assessments alone (any site's intake clinicians;
the IOP place at the client's own site). A scenario without sites is one site: no number
changes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulation.config.base import SHARE_TOLERANCE, Name, NonNegative, Share, _Model
from simulation.config.calendar import ClosurePeriod, DateField


class Site(_Model):
    """One site of the provider, with its own closures besides the provider's calendar (a
    site shut for a refit, a snow day at the rural site): on those days its staff, rooms and
    offices do not work and its groups do not meet."""

    name: Name
    closed_dates: list[DateField] = []
    closure_weeks: list[ClosurePeriod] = []


class Region(_Model):
    """Where a share of the referrals come from: travel minutes to each site (for nearest and
    choice routing, and the travel burden) and, for split routing, shares of sites."""

    name: Name
    share: Share
    # the region's referrals x this (growth, or decline, of one region against the plan's
    # referrals.per_week; an uncertain input for robust plans): 1.2 is 20% more from here
    growth: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 1.0
    # the region's own monthly pattern (Jan..Dec multipliers) instead of referrals.seasonality
    seasonality: Annotated[list[NonNegative], Field(min_length=12, max_length=12)] | None = None
    travel_minutes: dict[Name, NonNegative] = {}
    split: dict[Name, Share] = {}

    @model_validator(mode="after")
    def _split_sums_to_one(self):
        total = sum(self.split.values())
        if self.split and abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"split: shares add up to {total:g}; they must add up to 1")
        return self


class Network(_Model):
    """How referrals find a site (see the module's text)."""

    routing: Literal["split", "nearest", "shortest_wait", "choice", "pooled"] = "split"
    intake: Literal["per_site", "pooled"] = "per_site"
    distance_decay_per_minute: NonNegative = 0.05
    regions: list[Region] = []


def network_problems(scenario) -> list[str]:
    """Sites checked against what names them: tracks, rooms and staff pools at a site that
    exists, regions covering the sites their routing needs, shares adding up."""
    sites = [s.name for s in scenario.sites]
    network = scenario.network
    problems = []
    for name, pool in scenario.staff.items():
        shifts = [] if pool.roster == "always" else pool.roster
        for shift in shifts:
            where = getattr(shift, "site", None)
            if where is None:
                continue
            if where not in sites:
                problems.append(
                    f"staff.{name}.roster: a shift at '{where}', which is not a site "
                    f"(sites: {', '.join(sites) or 'none'})"
                )
            elif pool.site is not None and where != pool.site:
                problems.append(
                    f"staff.{name}.roster: a shift at '{where}', but the pool works at "
                    f"'{pool.site}'; leave the pool's site out for staff of several sites"
                )
    regions = [r.name for r in network.regions]
    for k, item in enumerate(scenario.state.clients if scenario.state else []):
        for key, known in (("site", sites), ("region", regions)):
            value = getattr(item, key)
            if value is not None and value not in known:
                problems.append(
                    f"state.clients[{k}].{key}: '{value}' is not a {key} "
                    f"({key}s: {', '.join(known) or 'none'})"
                )
    if not sites:
        if network.regions:
            problems.append("network.regions: regions route referrals to sites; add [[sites]]")
        for kind, items in (
            ("tracks", scenario.tracks),
            ("rooms", scenario.rooms),
            ("offices", scenario.offices),
        ):
            problems += [
                f"{kind}.{item.name}.site: '{item.site}' is not a site (sites: none)"
                for item in items
                if item.site is not None
            ]
        problems += [
            f"staff.{name}.site: '{pool.site}' is not a site (sites: none)"
            for name, pool in scenario.staff.items()
            if pool.site is not None
        ]
        problems += [
            f"levels.{level.name}.places_by_site: places by site need [[sites]] (sites: none)"
            for level in scenario.levels
            if level.places_by_site
        ]
        return problems
    for name in sorted({n for n in sites if sites.count(n) > 1}):
        problems.append(f"sites: '{name}' is listed twice")
    known = ", ".join(sites)

    def check(key: str, site: str | None) -> None:
        if site is not None and site not in sites:
            problems.append(f"{key}: '{site}' is not a site (sites: {known})")

    for track in scenario.tracks:
        check(f"tracks.{track.name}.site", track.site)
    for room in scenario.rooms:
        check(f"rooms.{room.name}.site", room.site)
    for office in scenario.offices:
        check(f"offices.{office.name}.site", office.site)
    for name, pool in scenario.staff.items():
        check(f"staff.{name}.site", pool.site)
    for level in scenario.levels:
        for site in level.places_by_site:
            check(f"levels.{level.name}.places_by_site", site)
    for track in scenario.tracks:
        for pool in track.facilitator_pools:
            where = scenario.staff[pool].site if pool in scenario.staff else None
            if track.site is not None and where is not None and where != track.site:
                problems.append(
                    f"tracks.{track.name}.facilitator_pools: '{pool}' works at site '{where}', "
                    f"the track meets at '{track.site}'"
                )
    if not network.regions:
        problems.append(
            "network.regions: a network needs at least one region its referrals come from"
        )
    total = sum(r.share for r in network.regions)
    if network.regions and abs(total - 1) > SHARE_TOLERANCE:
        problems.append(f"network.regions: shares add up to {total:g}; they must add up to 1")
    for region in network.regions:
        for key, table in (("travel_minutes", region.travel_minutes), ("split", region.split)):
            for site in table:
                check(f"network.regions.{region.name}.{key}", site)
        needs_travel = network.routing in ("nearest", "choice")
        if needs_travel and set(region.travel_minutes) != set(sites):
            problems.append(
                f"network.regions.{region.name}.travel_minutes: routing '{network.routing}' "
                f"needs the minutes to every site ({known})"
            )
        if network.routing == "split" and not region.split:
            problems.append(
                f"network.regions.{region.name}.split: routing 'split' needs the region's "
                "shares of sites"
            )
    return problems
