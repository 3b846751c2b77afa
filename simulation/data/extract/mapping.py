"""How a clinic's export names things (the map: columns, code values, day-first dates, the sheet), strictly checked, and reading an extract's columns through it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simulation.data import fhir, zones
from simulation.data.extract.columns import (
    ATTENDANCE_COLUMNS,
    BLANKS,
    CODES,
    COLUMNS,
    STAFF_COLUMNS,
)
from simulation.data.extract.files import ExtractError, _exists, read_file


@dataclass
class Mapping:
    """How a clinic's export names things: columns and code values."""

    columns: dict[str, str] = field(default_factory=dict)  # canonical -> their heading
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> their -> ours
    dayfirst: bool | None = None  # numeric dates day first (None: as the file's dates show)
    sheet: str | None = None  # an Excel extract's sheet (default: the first with the columns)
    timezone: str | None = None  # the clinic's time zone: times with an offset read on its clock

    @property
    def zone(self):
        """The clinic's time zone (``zones.clock``), or None; ExtractError if not one."""
        try:
            return zones.clock(self.timezone)
        except zones.ZoneError as exc:
            raise ExtractError([str(exc)]) from None

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
            unknown = set(data) - {"columns", "values", "dayfirst", "sheet", "timezone"}
            if unknown:
                raise ExtractError(
                    [
                        f"map file: unknown table(s) {', '.join(sorted(unknown))}; "
                        "allowed: columns, values, dayfirst, sheet, timezone"
                    ]
                )
            problems = _map_file_problems(data)
            if problems:
                raise ExtractError(problems, Path(path).name)
            mapping.columns.update(data.get("columns", {}))
            for column, table in data.get("values", {}).items():
                mapping.values[column] = {str(k).strip().lower(): v for k, v in table.items()}
            mapping.dayfirst = data.get("dayfirst")
            mapping.sheet = data.get("sheet")
            mapping.timezone = data.get("timezone")
        for item in items:
            key, sep, heading = item.partition("=")
            if not sep or not key.strip() or not heading.strip():
                raise ExtractError([f"--map {item!r}: write COLUMN=Their Heading"])
            mapping.columns[key.strip()] = heading.strip()
        bad = [
            k
            for k in [*mapping.columns, *mapping.values]
            if k not in COLUMNS and k not in ATTENDANCE_COLUMNS and k not in STAFF_COLUMNS
        ]
        if bad:
            raise ExtractError(
                [
                    f"map: '{k}' is not a column of the extracts (episodes: "
                    f"{', '.join(COLUMNS)}; attendance: {', '.join(ATTENDANCE_COLUMNS)}; "
                    f"staff: {', '.join(STAFF_COLUMNS)})"
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
    if "timezone" in data:
        try:
            zones.clock(data["timezone"] if isinstance(data["timezone"], str) else "")
        except zones.ZoneError as exc:
            problems.append(f"map file: {exc}")
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
        allowed = CODES.get(column) or (("yes", "no") if column == "attended" else None)
        if allowed:
            problems += [
                f"map file: values.{column}.{k} = {v!r}: not one of {', '.join(allowed)}"
                for k, v in table.items()
                if isinstance(v, str) and v.strip() and v not in allowed
            ]
    return problems


_CODE_LIKE = re.compile(r"[A-Za-z][A-Za-z /_.&+-]{0,23}")


def looks_like_a_code(value: str) -> bool:
    """True for a value short and plain enough to show (a code or a name: 'AMA', 'Blue
    Plan'); one with digits or longer may hold an identifier or a note, and is never shown."""
    return bool(_CODE_LIKE.fullmatch(str(value).strip()))


def _shown_codes(values: pd.Series, most: int = 5) -> str:
    """The distinct unknown values of a code column, quoted, when they look like codes
    (a few letters: 'AMA', 'Completd'); values that look like free text or carry digits are
    counted, never shown (they may hold a name or a note)."""
    distinct = list(dict.fromkeys(str(v).strip() for v in values))
    blank = "" in distinct  # (an empty cell: said as such, not as a value hidden)
    distinct = [v for v in distinct if v]
    shown = [v for v in distinct if looks_like_a_code(v)]
    parts = ["blank"] if blank else []
    parts += [repr(v) for v in shown[:most]]
    if len(shown) > most:
        parts.append(f"{len(shown) - most} more")
    hidden = len(distinct) - len(shown)
    if hidden:
        parts.append(f"{hidden} value(s) not shown: longer than a code, or with digits")
    return ", ".join(parts)


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


def _read_mapped(
    path, mapping: Mapping, columns: dict, label: str, notes: list[str] | None = None
) -> tuple[pd.DataFrame, str]:
    """Only the mapped columns of an extract, as text; ExtractError naming a missing one. A
    FHIR bundle gives its table for these columns (its rows are its entries). What an export
    writes for an empty cell (``BLANKS``: NULL, N/A, a dash) is blank, and ``notes`` (if
    given) says how many cells were read so."""
    wanted = {c: mapping.columns.get(c, c) for c in columns}
    needed = tuple(c for c, (required, _) in columns.items() if required)
    source = Path(path).name
    if fhir.is_fhir(path):
        raw = _bundle_table(path, columns, mapping.zone)
    else:
        raw = read_file(path, wanted, mapping.sheet, needed, notes)
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
    blanked = 0
    for column in raw.columns:  # (a marker the map file maps to a value is that value)
        markers = raw[column].str.lower().isin(BLANKS - set(mapping.values.get(column, {})))
        if markers.any():
            raw[column] = raw[column].where(~markers, "")
            blanked += int(markers.sum())
    if blanked and notes is not None:
        notes.append(
            f"{label}{blanked} cell(s) written NULL, N/A, a dash or the like read as blank"
        )
    return raw, source


def _bundle_table(path, columns: dict, zone=None) -> pd.DataFrame:
    """The table of a FHIR bundle that has these columns (its times on the clock of ``zone``,
    the clinic's time zone, when given)."""
    which = {id(COLUMNS): "episodes", id(ATTENDANCE_COLUMNS): "attendance"}.get(
        id(columns), "staff"
    )
    _exists(Path(path))
    try:
        return fhir.read_bundle(path, zone)[which]
    except fhir.BundleError as exc:
        raise ExtractError(exc.problems, Path(path).name) from None


def bundled(path: str | Path, which: str, zone=None) -> bool:
    """True when ``path`` is a FHIR bundle that holds ``which`` (attendance, staff) records:
    then the one file serves as that extract too."""
    return (
        fhir.is_fhir(path)
        and Path(path).is_file()
        and len(
            _bundle_table(
                path, {"attendance": ATTENDANCE_COLUMNS, "staff": STAFF_COLUMNS}[which], zone
            )
        )
        > 0
    )
