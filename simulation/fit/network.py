"""A provider's network from its records: an extract with a ``site`` column (the site each
client was seen at) and, optionally, a ``region`` column (where they came from) gives the
routing the records show: each region's shares of sites (Wilson intervals) and the regions'
shares of referrals. The fitted scenario routes by ``split`` with those shares: the records say
where referrals went, not why (a rule such as nearest or choice is the template's to keep if
the planner prefers it; the fit says so). Rows of sites the template does not have are left
out of the whole fit (``at_template_sites``), and said."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from simulation.data.extract import Episodes
from simulation.fit.evidence import Evidence
from simulation.fit.survival import wilson

MIN_REFERRALS = 20
"""Fewer referrals with a site than this say too little of the routing: the template's stays."""

ALL = "all"
"""The one region of a network whose records have no region column (and whose template has
none)."""


def at_template_sites(episodes: Episodes, sites: list[str]) -> tuple[Episodes, str | None]:
    """``episodes`` without the rows of sites the template lacks (when it has sites), and a
    note of how many were left out. Kept, their referrals were counted in the fitted rate
    and sent to the template's sites by the routing (a fifth of a network's referrals at an
    unknown site loaded the others by a quarter), and their clients filled the state."""
    table = episodes.table
    if not sites or "site" not in table:
        return episodes, None
    unknown = (table["site"] != "") & ~table["site"].isin(sites)
    if not unknown.any():
        return episodes, None
    names = sorted(set(table.loc[unknown, "site"]))
    note = (
        f"Sites in the extract but not in the template: {', '.join(names)} "
        f"({int(unknown.sum())} of {len(table)} rows): left out of everything fitted "
        "(referrals, routing, stays, the state), so the fitted network is the template's "
        "sites; add the sites to the template to model them."
    )
    return replace(episodes, table=table[~unknown].reset_index(drop=True)), note


def fit_network(t: pd.DataFrame, data: dict, ev: list, notes: list) -> None:
    """Routing shares from the rows ``t`` (the IOP's episodes) when the template has sites."""
    sites = [s["name"] for s in data.get("sites", [])]
    if "site" not in t or not (t["site"] != "").any():
        return
    if not sites:
        named = t.loc[t["site"] != "", "site"].nunique()
        if named > 1:
            notes.append(
                f"The extract names {named} sites (its site column) but the template has none: "
                "the fitted clinic is one site holding all their tracks and staff, so a client "
                "takes a free seat in any track of their age group wherever it meets, from one "
                "waitlist: waits may be shorter than at the sites apart (fit with a template "
                "that has the sites, such as the bundled network, to keep them apart)."
            )
        return
    seen = t[t["site"].isin(sites)]  # (rows of other sites: see at_template_sites)
    quiet = [site for site in sites if not (seen["site"] == site).any()]
    if quiet and len(seen) >= MIN_REFERRALS:
        notes.append(
            f"Sites of the template with no referral in the records: {', '.join(quiet)}: the "
            "fitted routing sends them none."
        )
    if len(seen) < MIN_REFERRALS:
        notes.append(
            f"{len(seen)} referrals with a site (fewer than {MIN_REFERRALS}): the template's "
            "routing is kept"
        )
        return
    network = data.setdefault("network", {})
    template = {r["name"]: r for r in network.get("regions", [])}
    has_region = "region" in seen and (seen["region"] != "").all()
    by_region = seen.groupby(seen["region"] if has_region else pd.Series(ALL, index=seen.index))
    regions = []
    for name, rows in sorted(by_region, key=lambda item: item[0]):
        region = dict(template.get(name, {"name": name}))
        region["name"] = name
        share, low, high = wilson(len(rows), len(seen))
        region["share"] = round(share, 4)
        if has_region:
            ev.append(
                Evidence(
                    f"network.regions.{name}.share",
                    region["share"],
                    low,
                    high,
                    len(seen),
                    "referrals with a site that came from the region (Wilson CI)",
                )
            )
        split = {}
        for site in sites:
            n = int((rows["site"] == site).sum())
            if not n:
                continue
            split[site], low, high = wilson(n, len(rows))
            split[site] = round(split[site], 4)
            ev.append(
                Evidence(
                    f"network.regions.{name}.split.{site}",
                    split[site],
                    low,
                    high,
                    len(rows),
                    f"of the region's referrals, the share seen at {site} (Wilson CI)",
                )
            )
        total = sum(split.values())
        last = max(split, key=lambda s: split[s])  # (rounding: the shares add up to 1)
        split[last] = round(split[last] + 1 - total, 4)
        region["split"] = split
        regions.append(region)
    total = sum(r["share"] for r in regions)
    regions[-1]["share"] = round(regions[-1]["share"] + 1 - total, 4)
    if not has_region and template:
        notes.append(
            "The extract has no region column: the network's routing is fitted as one region "
            f"'{ALL}' with the shares of sites the records show (the template's regions and "
            "their travel minutes are set aside)."
        )
    if network.get("routing", "split") != "split":
        notes.append(
            f"Routing: the records show where referrals went, so the fitted network routes by "
            f"split with those shares (the template's '{network['routing']}' rule is replaced; "
            "set it back to ask what that rule would do)."
        )
    network["routing"] = "split"
    network["regions"] = regions
