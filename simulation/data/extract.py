"""The episode extract: one row per referral, as a clinic's records system exports it.

``read_episodes(path, column_map, value_maps)`` reads only the documented columns (through the
column map: a clinic's own headings), parses dates, maps codes ("AMA" -> dropped_out), checks
every row and returns ``Episodes``: a typed table with episodes re-numbered 0..n-1 in referral
order. Episode identifiers never leave this module; problems name row numbers only
(spreadsheet rows: the first data row is row 2). See docs/data.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.problems import ProblemsError

# canonical column -> (required, kind); kind: id, date, text, code
COLUMNS: dict[str, tuple[bool, str]] = {
    "episode_id": (True, "id"),
    "referral_date": (True, "date"),
    "source": (False, "text"),
    "age_group": (False, "code"),
    "assessment_date": (False, "date"),
    "assessment_outcome": (False, "code"),
    "waitlist_date": (False, "date"),
    "waitlist_exit_date": (False, "date"),
    "iop_start_date": (False, "date"),
    "track": (False, "text"),
    "iop_end_date": (False, "date"),
    "discharge_reason": (False, "code"),
    "step_down_start_date": (False, "date"),
    "step_down_end_date": (False, "date"),
}
CODES = {
    "assessment_outcome": ("iop", "higher_care", "outpatient", "lost"),
    "discharge_reason": ("completed", "dropped_out", "escalated", "other", "authorisation_ended"),
    "age_group": ("adult", "adolescent"),
}
ATTENDANCE_COLUMNS = {
    "episode_id": (True, "id"),
    "date": (True, "date"),
    "kind": (False, "text"),
    "attended": (True, "code"),
}
STAFF_COLUMNS = {
    "person": (True, "id"),
    "pool": (True, "text"),
    "from_date": (True, "date"),
    "to_date": (False, "date"),
    "fte": (False, "text"),
}
YES = {"yes", "y", "true", "1", "attended", "present"}
NO = {"no", "n", "false", "0", "absent", "missed", "no-show", "no show"}
ORDER = [  # (earlier, later): a later date may not come before the earlier one
    ("referral_date", "assessment_date"),
    ("assessment_date", "waitlist_date"),
    ("referral_date", "waitlist_date"),
    ("waitlist_date", "waitlist_exit_date"),
    ("referral_date", "iop_start_date"),
    ("waitlist_date", "iop_start_date"),
    ("iop_start_date", "iop_end_date"),
    ("iop_end_date", "step_down_start_date"),
    ("step_down_start_date", "step_down_end_date"),
]
FIRST_ROWS = 5  # row numbers shown per problem class


class ExtractError(ProblemsError):
    """An extract that cannot be used; ``problems`` has one line per problem class."""

    what = "the extract"


@dataclass
class Episodes:
    """A checked episode extract: one row per referral, dates as Timestamps, episodes
    re-numbered; ``dropped`` says how many bad rows were left out and why."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    dropped: dict[str, int] = field(default_factory=dict)  # rows with each problem
    dropped_rows: int = 0  # distinct rows left out (a row may have several problems)
    attendance: pd.DataFrame | None = None  # episode, date, kind, attended


@dataclass
class Mapping:
    """How a clinic's export names things: columns and code values."""

    columns: dict[str, str] = field(default_factory=dict)  # canonical -> their heading
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> their -> ours
    dayfirst: bool = False

    @classmethod
    def parse(cls, items: list[str] | tuple[str, ...], path: str | Path | None = None) -> Mapping:
        """From ``--map canonical=Their Heading`` items and an optional TOML file with
        ``[columns]`` and ``[values.<column>]`` tables (and ``dayfirst = true``)."""
        import tomllib

        mapping = cls()
        if path is not None:
            try:
                data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ExtractError([f"cannot read the map file {path}: {exc}"]) from None
            unknown = set(data) - {"columns", "values", "dayfirst"}
            if unknown:
                raise ExtractError(
                    [
                        f"map file: unknown table(s) {', '.join(sorted(unknown))}; "
                        "allowed: columns, values, dayfirst"
                    ]
                )
            mapping.columns.update({str(k): str(v) for k, v in data.get("columns", {}).items()})
            for column, table in data.get("values", {}).items():
                mapping.values[str(column)] = {
                    str(k).strip().lower(): str(v) for k, v in table.items()
                }
            mapping.dayfirst = bool(data.get("dayfirst", False))
        for item in items:
            key, sep, heading = item.partition("=")
            if not sep or not key.strip() or not heading.strip():
                raise ExtractError([f"--map {item!r}: write COLUMN=Their Heading"])
            mapping.columns[key.strip()] = heading.strip()
        bad = [
            k
            for k in [*mapping.columns, *mapping.values]
            if k not in COLUMNS and k not in ATTENDANCE_COLUMNS
        ]
        if bad:
            raise ExtractError(
                [
                    f"map: '{k}' is not a column of the extract (columns: {', '.join(COLUMNS)})"
                    for k in bad
                ]
            )
        return mapping


_CODE_LIKE = re.compile(r"[A-Za-z][A-Za-z /_.&+-]{0,23}")


def _shown_codes(values: pd.Series, most: int = 5) -> str:
    """The distinct unknown values of a code column, quoted, when they look like codes
    (a few letters: 'AMA', 'Completd'); values that look like free text or carry digits are
    counted, never shown (they may hold a name or a note)."""
    distinct = list(dict.fromkeys(str(v).strip() for v in values))
    shown = [v for v in distinct if _CODE_LIKE.fullmatch(v)]
    parts = [repr(v) for v in shown[:most]]
    if len(shown) > most:
        parts.append(f"{len(shown) - most} more")
    hidden = len(distinct) - len(shown)
    if hidden:
        parts.append(f"{hidden} value(s) not shown: longer than a code, or with digits")
    return ", ".join(parts)


def read_file(path: str | Path, wanted: dict[str, str]) -> pd.DataFrame:
    """Only the ``wanted`` headings of a CSV, Excel or Parquet file, as text; any other column
    (names, notes, birth dates) is never read. ``wanted``: canonical -> heading."""
    path = Path(path)
    if not path.is_file():
        raise ExtractError([f"no such file: {path}"])
    headings = list(dict.fromkeys(wanted.values()))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            present = pd.read_csv(path, nrows=0).columns
            use = [h for h in headings if h in present]
            raw = pd.read_csv(path, usecols=use, dtype=str, keep_default_na=False)
        elif suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            present = pd.read_excel(path, nrows=0, engine="calamine").columns
            use = [h for h in headings if h in present]
            raw = pd.read_excel(path, usecols=use, dtype=str, engine="calamine").fillna("")
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            present = pq.read_schema(path).names
            use = [h for h in headings if h in present]
            raw = pd.read_parquet(path, columns=use).astype("string").fillna("")
        else:
            raise ExtractError([f"{path.name}: read .csv, .xlsx or .parquet, not '{suffix}'"])
    except ExtractError:
        raise
    except Exception as exc:  # a damaged or unreadable file
        raise ExtractError([f"{path.name} cannot be read ({type(exc).__name__})"]) from None
    out = pd.DataFrame(index=raw.index)
    for canonical, heading in wanted.items():
        if heading in raw.columns:
            out[canonical] = raw[heading].astype(str).str.strip()
    return out


def _read_mapped(path, mapping: Mapping, columns: dict, label: str) -> tuple[pd.DataFrame, str]:
    """Only the mapped columns of an extract, as text; ExtractError naming a missing one."""
    wanted = {c: mapping.columns.get(c, c) for c in columns}
    raw = read_file(path, wanted)
    source = Path(path).name
    missing = [c for c, (required, _) in columns.items() if required and c not in raw]
    if missing:
        raise ExtractError(
            [
                f"{label}required column '{c}' not found (its heading: '{wanted[c]}'; "
                f"use --map {c}=HEADING)"
                for c in missing
            ],
            source,
        )
    return raw, source


def _parse_dates(text: pd.Series, dayfirst: bool) -> pd.Series:
    blank = text.isin(["", "nan", "NaT", "None", "<NA>"])
    parsed = pd.to_datetime(text.where(~blank), errors="coerce", format="ISO8601")
    retry = parsed.isna() & ~blank
    if retry.any():
        parsed[retry] = pd.to_datetime(
            text[retry], errors="coerce", dayfirst=dayfirst, format="mixed"
        )
    return parsed


def _rows(mask: pd.Series) -> str:
    rows = (np.flatnonzero(mask.to_numpy()) + 2).tolist()  # spreadsheet rows: header is row 1
    shown = ", ".join(map(str, rows[:FIRST_ROWS]))
    return shown + (", ..." if len(rows) > FIRST_ROWS else "")


def read_episodes(
    path: str | Path,
    mapping: Mapping | None = None,
    as_of: str | pd.Timestamp | None = None,
    drop_bad_rows: bool = False,
    attendance: str | Path | None = None,
) -> Episodes:
    """Read, map and check an episode extract (and optionally an attendance extract)."""
    mapping = mapping or Mapping()
    raw, source = _read_mapped(path, mapping, COLUMNS, "")
    bad: dict[str, pd.Series] = {}
    table = pd.DataFrame(index=raw.index)
    for column, (_, kind) in COLUMNS.items():
        if column not in raw:
            table[column] = pd.NaT if kind == "date" else ""
            continue
        text = raw[column]
        if kind == "date":
            table[column] = _parse_dates(text, mapping.dayfirst)
            unreadable = table[column].isna() & (text != "")
            if unreadable.any():
                bad[f"{column}: not a date"] = unreadable
        elif kind == "code":
            lowered = text.str.lower().str.replace(" ", "_")
            mapped = text.str.strip().str.lower().map(mapping.values.get(column, {}))
            value = lowered.astype(object).where(mapped.isna(), mapped.astype(object))
            unknown = (value != "") & ~value.isin(CODES[column])
            if unknown.any():
                bad[
                    f"{column}: unknown code {_shown_codes(text[unknown])} (allowed: "
                    f"{', '.join(CODES[column])}; map others with [values.{column}])"
                ] = unknown
            table[column] = value.where(~unknown, "")
        else:
            table[column] = text
    ids = raw["episode_id"]
    if (ids == "").any():
        bad["episode_id: missing"] = ids == ""
    duplicated = ids.duplicated(keep="first") & (ids != "")
    if duplicated.any():
        bad["episode_id: the same episode twice"] = duplicated
    if table["referral_date"].isna().any():
        bad["referral_date: missing"] = table["referral_date"].isna() & (raw["referral_date"] == "")
    for earlier, later in ORDER:
        wrong = table[later] < table[earlier]
        if wrong.any():
            bad[f"{later} before {earlier}"] = wrong
    referred = table["referral_date"]
    if referred.notna().sum() > 10:
        late = referred > referred.quantile(0.99) + pd.Timedelta(days=365)
        if late.any():
            bad["referral_date: more than a year after nearly all others (a typo?)"] = late
    started, ended = table["iop_start_date"].notna(), table["iop_end_date"].notna()
    checks = {
        "iop_end_date without iop_start_date": ended & ~started,
        "discharge_reason without iop_end_date": (table["discharge_reason"] != "") & ~ended,
        "iop_end_date without discharge_reason": ended & (table["discharge_reason"] == ""),
        "iop_start_date with assessment_outcome other than iop": started
        & table["assessment_outcome"].isin(["higher_care", "outpatient", "lost"]),
    }
    bad.update({k: v for k, v in checks.items() if v.any()})
    bad = {k: v.fillna(False).astype(bool) for k, v in bad.items() if v.fillna(False).any()}
    if bad and not drop_bad_rows:
        raise ExtractError(
            [f"{int(m.sum())} row(s): {what} (rows {_rows(m)})" for what, m in bad.items()]
            + ["fix these rows, or add --drop-bad-rows to go on without them"],
            source,
        )
    dropped = {what: int(m.sum()) for what, m in bad.items()}
    keep = (
        ~pd.concat(list(bad.values()), axis=1).any(axis=1)
        if bad
        else pd.Series(True, index=table.index)
    )
    table = table[keep]
    ids = ids[keep]
    if table.empty:
        raise ExtractError(["no usable rows"], source)
    dates = table[[c for c, (_, k) in COLUMNS.items() if k == "date"]]
    latest = dates.max().max()
    stamp = (
        pd.Timestamp(as_of) if as_of is not None else (latest + pd.Timedelta(days=1)).normalize()
    )
    # records after the date we stand on are not known yet
    order = np.argsort(table["referral_date"].to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    ids = ids.iloc[order].reset_index(drop=True)
    table.insert(0, "episode", np.arange(len(table)))
    table = table.drop(columns=["episode_id"])
    table["source"] = table["source"].replace("", "community")
    table["age_group"] = table["age_group"].replace("", "adult")
    episodes = Episodes(table=table, as_of=stamp, dropped=dropped, dropped_rows=int((~keep).sum()))
    if attendance is not None:
        episodes.attendance = _read_attendance(
            attendance, mapping, dict(zip(ids, table["episode"], strict=True))
        )
    return episodes


def _read_attendance(path, mapping: Mapping, episode_of: dict[str, int]) -> pd.DataFrame:
    raw, source = _read_mapped(path, mapping, ATTENDANCE_COLUMNS, "attendance: ")
    attended = raw["attended"].str.lower()
    unknown = ~attended.isin(YES | NO)
    dates = _parse_dates(raw["date"], mapping.dayfirst)
    problems = []
    if unknown.any():
        problems.append(
            f"{int(unknown.sum())} row(s): attended is not yes/no (rows {_rows(unknown)})"
        )
    if dates.isna().any():
        problems.append(
            f"{int(dates.isna().sum())} row(s): date is not a date (rows {_rows(dates.isna())})"
        )
    if problems:
        raise ExtractError(problems, source)
    episode = raw["episode_id"].map(episode_of)
    kind = raw["kind"].str.lower() if "kind" in raw else pd.Series("group", index=raw.index)
    table = pd.DataFrame(
        {
            "episode": episode,
            "date": dates,
            "kind": kind.replace("", "group"),
            "attended": attended.isin(YES),
        }
    )
    return table[table["episode"].notna()].astype({"episode": int}).reset_index(drop=True)


LOSS_KNOWN_AFTER_DAYS = 14
"""A loss before assessment has no date in the extract: seen from a date D, a referral is
known lost only if it came at least this many days before D."""


def as_seen_on(episodes: Episodes, date: str | pd.Timestamp) -> Episodes:
    """The extract as it would have looked on ``date``: later referrals gone, later dates
    blank, and what they decided (outcome, discharge reason) not yet known."""
    date = pd.Timestamp(date)
    t = episodes.table[episodes.table["referral_date"] < date].copy()
    for column, (_, kind) in COLUMNS.items():
        if kind == "date" and column in t:
            t[column] = t[column].where(t[column] < date)
    t["discharge_reason"] = t["discharge_reason"].where(t["iop_end_date"].notna(), "")
    decided = t["assessment_date"].notna() | (
        (t["assessment_outcome"] == "lost")
        & (t["referral_date"] <= date - pd.Timedelta(days=LOSS_KNOWN_AFTER_DAYS))
    )
    t["assessment_outcome"] = t["assessment_outcome"].where(decided, "")
    attendance = episodes.attendance
    if attendance is not None:
        attendance = attendance[attendance["date"] < date]
    return Episodes(
        t.reset_index(drop=True),
        date,
        dict(episodes.dropped),
        dropped_rows=episodes.dropped_rows,
        attendance=attendance,
    )


def read_staff(path: str | Path, mapping: Mapping | None = None) -> pd.DataFrame:
    """A staff extract: one row per person (or post) and period in a pool, with FTE. Names
    stop here: people are re-numbered. Returns pool, from_date, to_date, fte."""
    mapping = mapping or Mapping()
    raw, source = _read_mapped(path, mapping, STAFF_COLUMNS, "staff: ")
    start = _parse_dates(raw["from_date"], mapping.dayfirst)
    end = (
        _parse_dates(raw["to_date"], mapping.dayfirst)
        if "to_date" in raw
        else pd.Series(pd.NaT, index=raw.index)
    )
    fte = (
        pd.to_numeric(raw["fte"], errors="coerce")
        if "fte" in raw
        else pd.Series(1.0, index=raw.index)
    )
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
    if problems:
        raise ExtractError(problems, source)
    return pd.DataFrame(
        {
            "person": pd.factorize(raw["person"])[0],
            "pool": raw["pool"],
            "from_date": start,
            "to_date": end,
            "fte": fte.fillna(1.0),
        }
    )
