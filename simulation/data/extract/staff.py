"""The staff extract: people and their periods in each pool with FTE, checked (repeats and overlaps), people re-numbered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulation.data.extract.columns import STAFF_COLUMNS
from simulation.data.extract.dates import parse_dates, read_day_order
from simulation.data.extract.files import ExtractError, _rows
from simulation.data.extract.mapping import Mapping, _mapped, _read_mapped

ABSENT = {"to_date": "no one has left", "fte": "everyone full time"}
"""A staff extract's optional columns, and what their absence means."""


def read_staff(
    path: str | Path,
    mapping: Mapping | None = None,
    drop_bad_rows: bool = False,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """A staff extract: one row per person (or post) and period in a pool, with FTE. Names
    stop here: people are re-numbered. Returns pool, from_date, to_date, fte (blank where the
    extract gives none: full time, for pay, but not known to be). A row that
    repeats another (same person, pool and dates) or a person's periods in a pool that
    overlap would count their FTE and cost twice: refused (exact repeats dropped with
    ``drop_bad_rows``). ``notes`` (if given) gets what the reader noticed and did: the order
    it read the dates in, the repeats it dropped."""
    mapping = mapping or Mapping()
    raw, source = _read_mapped(path, mapping, STAFF_COLUMNS, "staff: ", notes)
    raw["pool"] = _mapped(raw["pool"], mapping.values.get("pool"))  # (their teams -> pools)
    absent = [f"{c} ({what})" for c, what in ABSENT.items() if c not in raw]
    if absent and notes is not None:
        notes.append(f"staff: not in the extract: {', '.join(absent)}")
    dated = {c: raw[c] for c in ("from_date", "to_date") if c in raw}
    dayfirst = read_day_order(dated, mapping.dayfirst, "staff: ", source, notes)
    zone = mapping.zone
    start = parse_dates(raw["from_date"], dayfirst, zone)
    end = (
        parse_dates(raw["to_date"], dayfirst, zone)
        if "to_date" in raw
        else pd.Series(pd.NaT, index=raw.index)
    )
    fte = _fte(raw["fte"], notes) if "fte" in raw else pd.Series(1.0, index=raw.index)
    problems = []
    for what, mask in (
        ("from_date is not a date", start.isna()),
        (
            "to_date is not a date",
            end.isna() & (raw.get("to_date", pd.Series("", index=raw.index)) != ""),
        ),
        ("to_date before from_date", end < start),
        (
            "fte is not a number between 0 and 2",
            ~fte.between(0, 2) & (raw.get("fte", pd.Series("1", index=raw.index)) != ""),
        ),
        ("pool missing", raw["pool"] == ""),
    ):
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            problems.append(f"{int(mask.sum())} row(s): {what} (rows {_rows(mask)})")
    keys = pd.DataFrame({"person": raw["person"], "pool": raw["pool"], "from": start, "to": end})
    repeated = keys.duplicated()
    if repeated.any() and not drop_bad_rows:
        problems.append(
            f"{int(repeated.sum())} row(s) repeat an earlier row's person, pool and dates (rows "
            f"{_rows(repeated)}): their FTE and cost would count twice. Remove them, or add "
            "--drop-bad-rows to keep the first of each"
        )
    kept = keys[~repeated].sort_values(["person", "pool", "from"], kind="stable")
    previous_end = kept.groupby(["person", "pool"])["to"].shift()
    same = kept[["person", "pool"]].eq(kept[["person", "pool"]].shift()).all(axis=1)
    overlap = same & (previous_end.isna() | (kept["from"] <= previous_end))
    if overlap.any():
        mask = pd.Series(False, index=keys.index)
        mask[kept.index[overlap.to_numpy()]] = True
        problems.append(
            f"{int(overlap.sum())} row(s) start while the same person's earlier period in that "
            f"pool is still open (rows {_rows(mask)}): their FTE would count twice"
        )
    if problems:
        raise ExtractError(problems, source)
    if repeated.any() and notes is not None:
        notes.append(
            f"staff: dropped {int(repeated.sum())} row(s) that repeat an earlier row's person, "
            f"pool and dates (rows {_rows(repeated)})"
        )
    raw, start, end, fte = (x[~repeated.to_numpy()] for x in (raw, start, end, fte))
    return pd.DataFrame(
        {
            "person": pd.factorize(raw["person"])[0],
            "pool": raw["pool"],
            "from_date": start,
            "to_date": end,
            "fte": fte,  # (blank where the extract gives none: read as full time)
        }
    )


def _fte(text: pd.Series, notes: list[str] | None) -> pd.Series:
    """FTE as a number: as written (0.8), as a percentage (80%), or with a decimal comma (0,8;
    an FTE is under 2, so a comma is never a thousands separator), the last two said."""
    text = text.astype(str).str.strip()
    percent = text.str.fullmatch(r"\d+(?:[.,]\d+)?\s*%")
    comma = text.str.fullmatch(r"\d*,\d+") | (percent & text.str.contains(","))
    number = text.str.replace(",", ".", regex=False).str.rstrip("%").str.strip()
    fte = pd.to_numeric(number, errors="coerce")
    fte = fte.where(~percent, fte / 100)
    said = [f"{int(m.sum())} as a percentage (80%)" for m in (percent,) if m.any()]
    said += [f"{int(m.sum())} with a decimal comma (0,8)" for m in (comma,) if m.any()]
    if said and notes is not None:
        notes.append(f"staff: fte read from {' and '.join(said)}")
    return fte
