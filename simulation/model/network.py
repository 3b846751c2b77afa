"""A provider's network during a run (``config/network.py``): each referral's region is drawn
when they arrive, then their site by the network's routing.

Draws come from the streams ``network:region`` and ``network:choice`` in the order referrals
arrive: a scenario without sites draws neither. Sites and regions are taken in name order,
so listing them in another order changes nothing.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

POOLED = "*"
"""The lane of a client waiting in a pooled network queue (any site's seat)."""

SITE_LIMITS = ("site_blocked_any", "site_blocked_by_seats", "site_blocked_by_caseload")
"""0/1 monitors per site (``<name>:<site>``): someone waits for a place at the site that cannot
be given now, for want of a seat, for want of a therapist with caseload room."""

WAITING = ("intake_waitlist", "in_assessment", "authorisation", "evaluation", "iop_waitlist")
"""Statuses of a client routed to a site who has not started there yet."""


class Router:
    """Finds each referral's site; keeps who is waiting at each site for shortest_wait."""

    def __init__(self, plan, streams) -> None:
        scenario = plan.scenario
        network = scenario.network
        self.chances = np.cumsum(plan.region_chances, axis=1)  # (each day's, by region)
        self.routing = network.routing
        self.decay = network.distance_decay_per_minute
        self.sites = sorted(s.name for s in scenario.sites)
        self.regions = sorted(network.regions, key=lambda r: r.name)
        self.region_rng = streams.get("network:region")
        self.choice_rng = streams.get("network:choice")
        seats: dict[str, int] = {site: 0 for site in self.sites}
        for track in scenario.tracks:
            for site in [track.site] if track.site is not None else self.sites:
                seats[site] += track.seats
        self.seats = seats
        self.pending: dict[str, set[int]] = {site: set() for site in self.sites}
        # (plain lists searched by bisect: the same index as numpy's searchsorted on the same
        # numbers, without its overhead on a handful of them)
        self.day_edges = self.chances.tolist()
        self.by_region = {region.name: self._region_plan(region) for region in self.regions}

    def _region_plan(self, region) -> dict:
        """What choosing a site for a client of ``region`` needs that never changes: travel
        minutes, and the cumulative chances of split and choice routing (computed as numpy
        computes them, once)."""
        minutes = {site: region.travel_minutes.get(site, math.inf) for site in self.sites}
        plan: dict = {"minutes": minutes}
        if self.routing == "split" and region.split:
            names = sorted(region.split)
            edges = np.cumsum([region.split[n] for n in names])
            plan.update(names=names, edges=edges.tolist(), total=edges[-1])
        if self.routing == "choice":
            weights = np.array([math.exp(-self.decay * minutes[s]) for s in self.sites])
            plan["edges"] = np.cumsum(weights / weights.sum()).tolist()
        if self.routing == "nearest":
            plan["nearest"] = min(self.sites, key=lambda s: (minutes[s], s))
        return plan

    def route(self, c) -> None:
        """Draw the client's region and choose their site (pooled: their site is the one whose
        seat they take, known when placed)."""
        u = self.region_rng.random()
        edges = self.day_edges[min(max(int(c.referred // 24), 0), len(self.day_edges) - 1)]
        at = bisect.bisect_right(edges, u)
        region = self.regions[min(at, len(self.regions) - 1)]
        c.region = region.name
        if self.routing == "pooled":
            c.site = ""
            return
        c.site = self._choose(region)
        self.pending[c.site].add(c.id)

    def _choose(self, region) -> str:
        plan = self.by_region[region.name]
        minutes = plan["minutes"]
        if self.routing == "split":
            names, edges = plan["names"], plan["edges"]
            u = self.choice_rng.random() * plan["total"]
            return names[min(bisect.bisect_right(edges, u), len(names) - 1)]
        if self.routing == "nearest":
            return plan["nearest"]
        if self.routing == "choice":
            u = self.choice_rng.random()
            return self.sites[min(bisect.bisect_right(plan["edges"], u), len(self.sites) - 1)]
        # shortest_wait: the fewest clients not yet started per IOP seat (ties: nearer, name)
        return min(
            self.sites,
            key=lambda s: (len(self.pending[s]) / max(self.seats[s], 1), minutes[s], s),
        )

    def started_or_left(self, c) -> None:
        """The client took their seat or left before: no longer waiting at their site."""
        waiting = self.pending.get(c.site)
        if waiting is not None:
            waiting.discard(c.id)
