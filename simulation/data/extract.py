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

from simulation.data import fhir
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
    "therapist": (False, "id"),
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
CATEGORY_COLUMNS = ("source", "track")
"""Text columns whose values are categories (mapped with [values.<column>])."""
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
    """An extract that cannot be used; ``problems`` has one line per problem class. In a FHIR
    bundle a "row" is an entry (a line of an NDJSON file), and the problems say so."""

    what = "the extract"

    def __init__(self, problems: list[str], source: str = "") -> None:
        if fhir.is_fhir(source):
            problems = [_ENTRY.sub(lambda m: _ENTRY_WORDS[m.group(0)], p) for p in problems]
        super().__init__(problems, source)


_ENTRY_WORDS = {"row(s)": "entry(ies)", "rows": "entries", "row": "entry"}
_ENTRY = re.compile(r"(?<!-)\b(?:row\(s\)|rows\b|row\b)")


@dataclass
class Episodes:
    """A checked episode extract: one row per referral, dates as Timestamps, episodes
    re-numbered; ``dropped`` says how many bad rows were left out and why."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    dropped: dict[str, int] = field(default_factory=dict)  # rows with each problem
    dropped_rows: int = 0  # distinct rows left out (a row may have several problems)
    attendance: pd.DataFrame | None = None  # episode, date, kind, attended
    notes: list[str] = field(default_factory=list)  # what the reader noticed and did


@dataclass
class Mapping:
    """How a clinic's export names things: columns and code values."""

    columns: dict[str, str] = field(default_factory=dict)  # canonical -> their heading
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> their -> ours
    dayfirst: bool = False
    sheet: str | None = None  # an Excel extract's sheet (default: the first with the columns)

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
            unknown = set(data) - {"columns", "values", "dayfirst", "sheet"}
            if unknown:
                raise ExtractError(
                    [
                        f"map file: unknown table(s) {', '.join(sorted(unknown))}; "
                        "allowed: columns, values, dayfirst, sheet"
                    ]
                )
            problems = _map_file_problems(data)
            if problems:
                raise ExtractError(problems, Path(path).name)
            mapping.columns.update(data.get("columns", {}))
            for column, table in data.get("values", {}).items():
                mapping.values[column] = {str(k).strip().lower(): v for k, v in table.items()}
            mapping.dayfirst = data.get("dayfirst", False)
            mapping.sheet = data.get("sheet")
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


def _map_file_problems(data: dict) -> list[str]:
    """A map file's values must be what they say: headings and mapped values are text,
    ``dayfirst`` is true or false (not the text "false", which would read as true)."""
    problems = []
    if "sheet" in data and not isinstance(data["sheet"], str):
        problems.append(f"map file: sheet = {data['sheet']!r}: must be a sheet's name in quotes")
    if "dayfirst" in data and not isinstance(data["dayfirst"], bool):
        problems.append(
            f"map file: dayfirst = {data['dayfirst']!r}: must be true or false (without quotes)"
        )
    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        problems.append('map file: [columns] must be a table of column = "Their Heading"')
    else:
        problems += [
            f"map file: columns.{k} = {v!r}: must be a heading in quotes"
            for k, v in columns.items()
            if not isinstance(v, str) or not v.strip()
        ]
    values = data.get("values", {})
    if not isinstance(values, dict):
        problems.append('map file: [values.<column>] must be tables of "Their value" = "ours"')
        return problems
    for column, table in values.items():
        if not isinstance(table, dict):
            problems.append(f'map file: values.{column} must be a table of "Their value" = "ours"')
            continue
        problems += [
            f"map file: values.{column}.{k} = {v!r}: must be a value in quotes"
            for k, v in table.items()
            if not isinstance(v, str) or not v.strip()
        ]
        allowed = CODES.get(column)
        if allowed:
            problems += [
                f"map file: values.{column}.{k} = {v!r}: not one of {', '.join(allowed)}"
                for k, v in table.items()
                if isinstance(v, str) and v.strip() and v not in allowed
            ]
    return problems


CATEGORIES_AT_MOST = 30
"""More distinct values than this in a text column read as categories (source, track) is
probably the wrong column (names, notes): the reader says so."""

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


def read_file(
    path: str | Path, wanted: dict[str, str], sheet: str | None = None, needed: tuple = ()
) -> pd.DataFrame:
    """Only the ``wanted`` headings of a CSV, Excel or Parquet file, as text; any other column
    (names, notes, birth dates) is never read. ``wanted``: canonical -> heading. A CSV may be
    UTF-8, UTF-16 (with its byte-order mark) or Latin-1/Windows-1252, separated by commas,
    semicolons, tabs or bars; an Excel file is read from ``sheet``, else from the first sheet
    that has the ``needed`` headings (a cover page before the data is passed over)."""
    path = Path(path)
    _exists(path)
    headings = list(dict.fromkeys(wanted.values()))
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            encoding, separator = _csv_dialect(path)
            present = pd.read_csv(path, nrows=0, encoding=encoding, sep=separator).columns
            use = [h for h in headings if h in present]
            raw = pd.read_csv(
                path,
                usecols=use,
                dtype=str,
                keep_default_na=False,
                encoding=encoding,
                sep=separator,
            )
        elif suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            name = _excel_sheet(path, sheet, [wanted[c] for c in needed if c in wanted])
            present = pd.read_excel(path, sheet_name=name, nrows=0, engine="calamine").columns
            use = [h for h in headings if h in present]
            raw = pd.read_excel(
                path, sheet_name=name, usecols=use, dtype=str, engine="calamine"
            ).fillna("")
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            present = pq.read_schema(path).names
            use = [h for h in headings if h in present]
            raw = pd.read_parquet(path, columns=use).astype("string").fillna("")
        else:
            raise ExtractError([f"{path.name}: read {READABLE}, not '{suffix}'"])
    except ExtractError:
        raise
    except Exception as exc:  # a damaged or unreadable file
        raise ExtractError([f"{path.name} cannot be read ({type(exc).__name__})"]) from None
    out = pd.DataFrame(index=raw.index)
    for canonical, heading in wanted.items():
        if heading in raw.columns:
            out[canonical] = raw[heading].astype(str).str.strip()
    return out


def _exists(path: Path) -> None:
    """ExtractError unless ``path`` is a file."""
    if path.is_dir():
        raise ExtractError([f"{path} is a folder: give the extract file inside it ({READABLE})"])
    if not path.exists():
        raise ExtractError([f"no such file: {path}"])
    if not path.is_file():
        raise ExtractError(
            [f"{path} is not a file but a device or pipe: give an exported {READABLE}"]
        )


READABLE = ".csv, .xlsx, .parquet or a FHIR .json bundle"


def _csv_dialect(path: Path) -> tuple[str, str]:
    """The encoding and separator of a CSV file, from its first bytes and header line."""
    import csv

    head = path.open("rb").read(64 * 1024)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            head.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as exc:  # (a cut multi-byte character at the end is utf-8)
            encoding = "utf-8" if exc.start >= len(head) - 3 else "cp1252"
    text = head.decode(encoding, errors="replace")
    if encoding == "cp1252":
        try:  # the whole file must read (cp1252 leaves five bytes undefined)
            path.read_text(encoding="cp1252")
        except UnicodeDecodeError:
            encoding = "latin-1"
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    try:
        separator = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        separator = ","
    return encoding, separator


def _excel_sheet(path: Path, sheet: str | None, needed: list[str]) -> str | int:
    """The sheet to read: the one named, else the first whose header has the needed headings."""
    from python_calamine import CalamineWorkbook

    names = CalamineWorkbook.from_path(str(path)).sheet_names
    if sheet is not None:
        if sheet not in names:
            raise ExtractError(
                [
                    f"{path.name}: no sheet '{sheet}' (its sheets: {', '.join(names)}); give --sheet NAME"
                ]
            )
        return sheet
    for name in names:
        header = pd.read_excel(path, sheet_name=name, nrows=0, engine="calamine").columns
        if all(h in header for h in needed):
            return name
    raise ExtractError(
        [
            f"{path.name}: no sheet has the headings {', '.join(needed)} in its first row (its "
            f"sheets: {', '.join(names)}); give --sheet NAME, or map the headings with --map"
        ]
    )


def _read_mapped(path, mapping: Mapping, columns: dict, label: str) -> tuple[pd.DataFrame, str]:
    """Only the mapped columns of an extract, as text; ExtractError naming a missing one. A
    FHIR bundle gives its table for these columns (its rows are its entries)."""
    wanted = {c: mapping.columns.get(c, c) for c in columns}
    needed = tuple(c for c, (required, _) in columns.items() if required)
    source = Path(path).name
    if fhir.is_fhir(path):
        raw = _bundle_table(path, columns)
    else:
        raw = read_file(path, wanted, mapping.sheet, needed)
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


def _bundle_table(path, columns: dict) -> pd.DataFrame:
    """The table of a FHIR bundle that has these columns."""
    which = {id(COLUMNS): "episodes", id(ATTENDANCE_COLUMNS): "attendance"}.get(
        id(columns), "staff"
    )
    _exists(Path(path))
    try:
        return fhir.read_bundle(path)[which]
    except fhir.BundleError as exc:
        raise ExtractError(exc.problems, Path(path).name) from None


def bundled(path: str | Path, which: str) -> bool:
    """True when ``path`` is a FHIR bundle that holds ``which`` (attendance, staff) records:
    then the one file serves as that extract too."""
    return (
        fhir.is_fhir(path)
        and Path(path).is_file()
        and len(
            _bundle_table(path, {"attendance": ATTENDANCE_COLUMNS, "staff": STAFF_COLUMNS}[which])
        )
        > 0
    )


_OFFSET = re.compile(
    r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$", re.IGNORECASE
)  # a time followed by a time-zone offset


def _parse_dates(text: pd.Series, dayfirst: bool) -> pd.Series:
    """Dates as the clinic wrote them: a time-zone offset is dropped (the date on the clinic's
    clock is what counts), and a text with no digit ('now', 'today') is no date. Each distinct
    text is parsed once (an attendance extract repeats a few thousand dates millions of
    times)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    values = pd.Series(uniques, dtype=object).astype(str).str.strip()
    values = values.str.replace(_OFFSET, r"\1", regex=True)
    blank = values.isin(["", "nan", "NaT", "None", "<NA>"])
    words = ~values.str.contains(r"\d", regex=True, na=False) & ~blank
    values = values.where(~words, "not a date")
    parsed = pd.to_datetime(values.where(~blank), errors="coerce", format="ISO8601")
    retry = parsed.isna() & ~blank
    if retry.any():
        parsed[retry] = pd.to_datetime(
            values[retry], errors="coerce", dayfirst=dayfirst, format="mixed"
        )
    return pd.Series(parsed.to_numpy()[codes], index=text.index)


def observed_span(table: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The span a date of this extract can plausibly fall in, from the bulk of all its dates
    (every date column pooled): the middle half widened by three times its width and a month
    each side. One mistyped year, a cluster of far-future rows or a 1900 placeholder falls
    outside and would otherwise stretch the observed window (and dilute every rate) by
    decades. None without enough dates to judge (fewer than 20)."""
    columns = [c for c, (_, kind) in COLUMNS.items() if kind == "date" and c in table]
    pooled = pd.concat([table[c] for c in columns]).dropna()
    if len(pooled) < 20:
        return None, None
    q1, q3 = pooled.quantile(0.25), pooled.quantile(0.75)
    width = 3 * (q3 - q1) + pd.Timedelta(days=31)
    return (q1 - width).normalize(), (q3 + width).normalize()


def _rows(mask: pd.Series) -> str:
    """The rows where ``mask`` holds, as the clinic counts them: spreadsheet rows (the header
    is row 1, the first data row 2) or, for a FHIR bundle, entry numbers (its tables' index
    is the entry number - 2)."""
    rows = (np.asarray(mask.index[mask.to_numpy()]) + 2).tolist()
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
    notes: list[str] = []
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
            table[column] = _mapped(text, mapping.values.get(column))
            distinct = table[column][table[column] != ""].nunique()
            if column in CATEGORY_COLUMNS and distinct > CATEGORIES_AT_MOST:
                notes.append(
                    f"{column}: {distinct} different values (more than {CATEGORIES_AT_MOST}): "
                    "is the right column mapped? Each value becomes a "
                    f"{column.replace('_', ' ')} of its own"
                )
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
    low, high = observed_span(table)
    for column, (_, kind) in COLUMNS.items():
        if kind != "date" or low is None:
            continue
        outside = (table[column] < low) | (table[column] > high)
        if outside.any():
            shown = ", ".join(
                f"row {i + 2}: {d.date()}"
                for i, d in zip(
                    outside.index[outside.to_numpy()][:FIRST_ROWS],
                    table.loc[outside, column].iloc[:FIRST_ROWS],
                    strict=False,
                )
            )
            bad[
                f"{column}: outside the span of the extract's dates, {low.date()} to "
                f"{high.date()} (a typo? {shown})"
            ] = outside
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
    # the primary therapist's id stops here too: therapists are numbered (-1: none recorded)
    table["therapist"] = pd.factorize(table["therapist"].replace("", None))[0]
    table["source"] = table["source"].replace("", "community")
    table["age_group"] = table["age_group"].replace("", "adult")
    episodes = Episodes(
        table=table,
        as_of=stamp,
        dropped=dropped,
        dropped_rows=int((~keep).sum()),
        notes=notes,
    )
    if attendance is None and bundled(path, "attendance"):
        attendance = path  # a FHIR bundle's appointments
    if attendance is not None:
        episodes.attendance = _read_attendance(
            attendance,
            mapping,
            dict(zip(ids, table["episode"], strict=True)),
            drop_bad_rows,
            episodes.notes,
        )
    return episodes


def _mapped(text: pd.Series, values: dict[str, str] | None) -> pd.Series:
    """A categorical text column with the map file's values applied (their value, matched
    without case or surrounding spaces -> ours), each distinct value looked up once."""
    if not values:
        return text
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    uniques = pd.Series(uniques, dtype=object)
    mapped = uniques.astype(str).str.strip().str.lower().map(values)
    return pd.Series(
        uniques.where(mapped.isna(), mapped).to_numpy()[codes], index=text.index, dtype=object
    )


def _repeated(*columns: pd.Series) -> pd.Series:
    """Rows whose values in ``columns`` repeat an earlier row's (on integer codes: fast on
    millions of rows)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        span *= len(uniques) + 1
        if span >= 2**62:  # (too many combinations for one integer: compare the values)
            return pd.concat(columns, axis=1).duplicated()
        key = key * (len(uniques) + 1) + codes
    return pd.Series(pd.Series(key).duplicated().to_numpy(), index=columns[0].index)


def _read_attendance(
    path, mapping: Mapping, episode_of: dict[str, int], drop_bad_rows: bool, notes: list[str]
) -> pd.DataFrame:
    """The attendance extract: one row per group session a client was expected at. A row that
    repeats an earlier one (the same episode, date and kind: an export appended twice) would
    count a session twice and halve the fitted dropout after a missed session: refused, or
    dropped with ``drop_bad_rows``. Rows whose episode is not in the episode extract are left
    out and counted in ``notes``; none matching is an error."""
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
    kind = raw["kind"].str.lower() if "kind" in raw else pd.Series("group", index=raw.index)
    repeated = _repeated(raw["episode_id"], dates, kind)
    if repeated.any() and not drop_bad_rows:
        problems.append(
            f"{int(repeated.sum())} row(s) repeat an earlier row's episode, date and kind (the "
            f"export appended twice?) (rows {_rows(repeated)}); each would count a session "
            "twice. Remove them, or add --drop-bad-rows to keep the first of each"
        )
    if problems:
        raise ExtractError(problems, source)
    if repeated.any():
        notes.append(f"attendance: dropped {int(repeated.sum())} repeated row(s)")
    episode = raw["episode_id"].map(episode_of)
    unmatched = episode.isna() & ~repeated
    if unmatched.all() and len(raw):
        raise ExtractError(
            [
                f"none of the {len(raw)} attendance rows names an episode of the episode "
                "extract: are the episode ids the same in both files (and mapped alike)?"
            ],
            source,
        )
    if unmatched.any():
        notes.append(
            f"attendance: {int(unmatched.sum())} row(s) name no episode of the extract (or a "
            "row left out of it) and are left out"
        )
    episode = episode.where(~repeated)
    day = dates.dt.normalize()
    timed = dates != day  # a time of day given (a session's start)
    table = pd.DataFrame(
        {
            "episode": episode,
            "date": day,
            "kind": kind.replace("", "group"),
            "attended": attended.isin(YES),
            "start": dates.dt.strftime("%H:%M").where(timed, ""),
        }
    )
    return table[table["episode"].notna()].astype({"episode": int}).reset_index(drop=True)


LOSS_KNOWN_AFTER_DAYS = 14
"""A loss before assessment has no date in the extract: seen from a date D, a referral is
known lost only if it came at least this many days before D."""


AS_OF_GRACE_DAYS = 31
"""How far past an extract's last date an as-of date may fall: beyond, the weeks in between
would count as observed with nothing in them, and every rate would be diluted."""


def as_of_date(
    episodes: Episodes, date: str | pd.Timestamp, option: str = "--as-of"
) -> pd.Timestamp:
    """``date`` as the day an extract is seen from, or ExtractError saying why it cannot be:
    not a date, a time zone, before the first referral, or well after the extract ends."""
    shown = f"{option} {str(date)!r}"
    try:
        stamp = pd.Timestamp(date)
    except (ValueError, TypeError):
        raise ExtractError([f"{shown}: not a date (write YYYY-MM-DD)"]) from None
    if stamp is pd.NaT or stamp != stamp:
        raise ExtractError([f"{shown}: not a date (write YYYY-MM-DD)"])
    if stamp.tzinfo is not None:
        raise ExtractError(
            [f"{shown}: has a time zone; give the clinic's own date, without one (YYYY-MM-DD)"]
        )
    table = episodes.table
    first = table["referral_date"].min()
    if stamp <= first:
        raise ExtractError(
            [f"{shown}: on or before the first referral ({first.date()}): nothing is known then"]
        )
    dates = table[[c for c, (_, kind) in COLUMNS.items() if kind == "date" and c in table]]
    last = dates.max().max()
    if stamp > last + pd.Timedelta(days=AS_OF_GRACE_DAYS):
        raise ExtractError(
            [
                f"{shown}: {(stamp - last).days} days after the extract's last date "
                f"({last.date()}); the days between would count as observed with nothing in "
                f"them (rates diluted). Give a date up to {AS_OF_GRACE_DAYS} days after it"
            ]
        )
    return stamp


def as_seen_on(episodes: Episodes, date: str | pd.Timestamp) -> Episodes:
    """The extract as it would have looked on ``date``: later referrals gone, later dates
    blank, and what they decided (outcome, discharge reason) not yet known."""
    date = as_of_date(episodes, date)
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


def read_staff(
    path: str | Path, mapping: Mapping | None = None, drop_bad_rows: bool = False
) -> pd.DataFrame:
    """A staff extract: one row per person (or post) and period in a pool, with FTE. Names
    stop here: people are re-numbered. Returns pool, from_date, to_date, fte. A row that
    repeats another (same person, pool and dates) or a person's periods in a pool that
    overlap would count their FTE and cost twice: refused (exact repeats dropped with
    ``drop_bad_rows``)."""
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
    raw, start, end, fte = (x[~repeated.to_numpy()] for x in (raw, start, end, fte))
    return pd.DataFrame(
        {
            "person": pd.factorize(raw["person"])[0],
            "pool": raw["pool"],
            "from_date": start,
            "to_date": end,
            "fte": fte.fillna(1.0),
        }
    )
