"""The payers' mix from a clinic's records: an extract with a ``payer`` column (who paid for
each client's care) gives each payer's share of the referrals, as the template draws them: by
source where the template gives payers' shares by source, by age group where it gives them by
age group, and overall for the rest (Wilson intervals). Rates, rules and reviews stay the
template's: the records show who paid, not what or how. Kept at the template's, a clinic whose
clients were mostly Medicaid's was fitted with the template's commercial mix, and its revenue
with it."""

from __future__ import annotations

import re

import pandas as pd

from simulation.data.extract import looks_like_a_code
from simulation.fit.evidence import Evidence
from simulation.fit.survival import wilson

MIN_REFERRALS = 20
"""Fewer referrals with a payer in a group than this say too little of its mix: the
template's shares stay for it."""
NAMED_SHARE = 0.5
"""The payers' mix is read when at least this share of the referrals name their payer."""


def fit_payers(referred: pd.DataFrame, data: dict, ev: list, notes: list) -> None:
    """Write the payers' shares the rows ``referred`` (the extract's new referrals) show into
    ``data`` (the fitted scenario's data), group by group as the template draws payers."""
    payers = data.get("payers") or []
    if not payers or "payer" not in referred or not len(referred):
        return
    if (referred["payer"] != "").mean() < NAMED_SHARE:
        notes.append(
            f"Payers: fewer than {100 * NAMED_SHARE:.0f}% of referrals name one: the template's "
            "mix is kept [E]."
        )
        return
    names = [p["name"] for p in payers]
    named = referred[referred["payer"] != ""]
    unknown = named.loc[~named["payer"].isin(names), "payer"].value_counts()
    if len(unknown):
        shown = [n for n in unknown.index if looks_like_a_code(n)]
        hidden = unknown.drop(shown)
        said = [
            f"'{n}' ({100 * unknown[n] / len(named):.0f}% of referrals"
            + (f'; perhaps "{n}" = "{like}"' if (like := _looks_like(n, names)) else "")
            + ")"
            for n in shown
        ]
        if len(hidden):  # (digits or long text may be a member number: counted, never shown)
            said.append(
                f"{len(hidden)} value(s) not shown ({100 * hidden.sum() / len(named):.0f}% of "
                "referrals): longer than a name, or with digits"
            )
        notes.append(
            "Payers not in the template, left out of the mix (their referrals are shared among "
            "the template's payers in proportion; add them to the template, with their rates, "
            "to model them, or map them with [values.payer]): " + ", ".join(said)
        )
    named = named[named["payer"].isin(names)]
    by_source = {s for p in payers for s in p.get("shares_by_source", {})}
    by_age = {a for p in payers for a in p.get("shares_by_age_group", {})}
    group = pd.Series("", index=named.index, dtype=object)
    group[named["age_group"].isin(by_age)] = "age_group"
    group[named["source"].isin(by_source)] = "source"
    for kind, rows in named.groupby(group):
        if kind == "":
            _fit_group(rows, payers, ("share",), "share", ev, notes)
            continue
        for value, part in rows.groupby(kind):
            key = f"shares_by_{kind}"
            _fit_group(part, payers, (key, str(value)), f"{key}.{value}", ev, notes)


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", name.lower()))


def _looks_like(name: str, names: list[str]) -> str | None:
    """The template's payer whose every word is in ``name`` ('Medicaid MCO' -> 'medicaid'),
    if exactly one is: a mapping to suggest, never applied."""
    like = [n for n in names if _words(n) and _words(n) <= _words(name)]
    return like[0] if len(like) == 1 else None


def _fit_group(rows, payers, where: tuple, label: str, ev, notes) -> None:
    """The shares of one group of referrals (``where``: the payer entry's key, and within it
    the source or age group), written only with MIN_REFERRALS or more."""
    if len(rows) < MIN_REFERRALS:
        notes.append(
            f"Payers' {label.replace('.', ' ').replace('_', ' ')}: {len(rows)} referrals name "
            f"a payer (fewer than {MIN_REFERRALS}): the template's shares are kept [E]."
        )
        return
    counts = rows["payer"].value_counts()
    shares = {p["name"]: round(int(counts.get(p["name"], 0)) / len(rows), 4) for p in payers}
    largest = max(shares, key=lambda n: (shares[n], n))
    shares[largest] = round(1.0 - sum(v for n, v in shares.items() if n != largest), 4)
    for payer in payers:
        name, share = payer["name"], shares[payer["name"]]
        if len(where) == 1:
            payer["share"] = share
        else:
            payer.setdefault(where[0], {})[where[1]] = share
        _, low, high = wilson(int(counts.get(name, 0)), len(rows))
        ev.append(
            Evidence(
                f"payers.{name}.{label}",
                share,
                low,
                high,
                len(rows),
                "share of the referrals"
                + ("" if len(where) == 1 else f" with {where[0][10:].replace('_', ' ')} {where[1]}")
                + " that name this payer (Wilson CI)",
            )
        )
