"""Reading a clinic's file: CSV (its encoding and separator found), Excel (the sheet with the columns), Parquet or a FHIR bundle; only the wanted columns, as text. The error that lists an extract's problems."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.data import fhir
from simulation.data.extract.columns import FIRST_ROWS
from simulation.problems import ProblemsError


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


def read_file(
    path: str | Path,
    wanted: dict[str, str],
    sheet: str | None = None,
    needed: tuple = (),
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Only the ``wanted`` headings of a CSV, Excel or Parquet file, as text; any other column
    (names, notes, birth dates) is never read. ``wanted``: canonical -> heading. A CSV may be
    UTF-8, UTF-16 (with its byte-order mark) or Latin-1/Windows-1252, separated by commas,
    semicolons, tabs or bars; an Excel file is read from ``sheet``, else from the first sheet
    that has the ``needed`` headings (a cover page before the data is passed over)."""
    path = Path(path)
    _exists(path)
    suffix = path.suffix.lower()
    heads = [wanted[c] for c in needed if c in wanted]
    top = 0  # rows above the header (a title block)
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            encoding, separator, top = _csv_dialect(path, heads)
            # (blank lines kept as rows: skipped later, said, and the rows after them keep
            # their own numbers in the file)
            options = {"encoding": encoding, "sep": separator, "skiprows": top}
            options["skip_blank_lines"] = False
            present = pd.read_csv(path, nrows=0, **options).columns
            wanted, use = _columns(wanted, present)
            raw = pd.read_csv(path, usecols=use, dtype=str, keep_default_na=False, **options)
        elif suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            name, top = _excel_sheet(path, sheet, heads, notes)
            options = {"sheet_name": name, "header": top, "engine": "calamine"}
            present = pd.read_excel(path, nrows=0, **options).columns
            wanted, use = _columns(wanted, present)
            raw = pd.read_excel(path, usecols=use, dtype=str, **options).fillna("")
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            present = pq.read_schema(path).names
            wanted, use = _columns(wanted, present)
            raw = pd.read_parquet(path, columns=use).astype("string").fillna("")
        else:
            raise ExtractError([f"{path.name}: read {READABLE}, not '{suffix}'"])
    except ExtractError:
        raise
    except Exception as exc:  # a damaged or unreadable file
        raise ExtractError([f"{path.name} cannot be read ({type(exc).__name__})"]) from None
    raw.index = raw.index + top  # (rows are named as the clinic's spreadsheet numbers them)
    out = pd.DataFrame(index=raw.index)
    for canonical, heading in wanted.items():
        if heading in raw.columns:
            out[canonical] = raw[heading].astype(str).str.strip()
    return _not_data(out, {c: wanted[c] for c in out.columns}, notes)


def _not_data(table: pd.DataFrame, headings: dict, notes: list[str] | None) -> pd.DataFrame:
    """``table`` without the rows that are not records, said in ``notes``: rows whose every
    cell read is empty (a spreadsheet's blank lines, a row of separators) and rows that
    repeat the column headings (two exports joined into one file). Left in, each was a row
    of missing or unreadable values in every column, refused one column at a time."""
    if table.empty or not len(table.columns):
        return table
    empty = (table == "").all(axis=1)
    same = [table[c].map(loose_key) == loose_key(h) for c, h in headings.items()]
    header = pd.concat(same, axis=1).all(axis=1)
    footer = _footer(table, empty)
    if notes is not None:
        if footer.any():
            notes.append(
                f"skipped {int(footer.sum())} row(s) at the end that sum the export up (a "
                f"total, a count, a report's footer) (rows {_rows(footer)})"
            )
        if empty.any():
            notes.append(f"skipped {int(empty.sum())} empty row(s) (rows {_rows(empty)})")
        if header.any():
            notes.append(
                f"skipped {int(header.sum())} row(s) repeating the column headings (rows "
                f"{_rows(header)}): two exports joined into one file? Each export's rows are "
                "read; check none is there twice"
            )
    return table[~(empty | header | footer)]


SUMMARY = re.compile(
    r"(grand\s+|sub\s*)?totals?\b|(count|sum)\b|(number|no\.?)\s+of\b|page\s+\d"
    r"|(report|generated|printed|exported|extracted|run)\b.*\b(on|by|at)\b",
    re.IGNORECASE,
)
"""How a row that sums an export up begins a cell: Total, Grand total, Count, Number of
records, Page 3, Report generated on ..."""

DATED = re.compile(r"\d{1,4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,4}")
"""A date written with separators (a record's date, never a total)."""


def _footer(table: pd.DataFrame, empty: pd.Series) -> pd.Series:
    """The rows at the end of ``table`` (below its last record; blank rows between them
    aside) that sum it up: a cell begins as SUMMARY does and no date column holds a date.
    Left in, a totals row was refused as a row with no referral date."""
    footer = pd.Series(False, index=table.index)
    dates = [c for c in table.columns if c.endswith("date")]
    for i in reversed(range(len(table))):
        row = table.iloc[i]
        if empty.iloc[i]:
            continue
        summed = any(SUMMARY.match(v.strip()) for v in row if v)
        if not summed or any(DATED.search(row[c]) for c in dates):
            break
        footer.iloc[i] = True
    return footer


def loose_key(text) -> str:
    """A heading or name once capitals, surrounding spaces and runs of spaces, hyphens and
    underscores are set aside ('Referral Date', 'referral_date' and 'REFERRAL-DATE' alike)."""
    return " ".join(re.split(r"[\s_\-]+", str(text).strip())).casefold()


def loose_match(text, names) -> str | None:
    """The one of ``names`` that ``text`` is but for capitals, spaces, hyphens or
    underscores (``loose_key``); None if none is, or more than one."""
    key = loose_key(text)
    found = [name for name in names if loose_key(name) == key]
    return found[0] if len(found) == 1 else None


def _columns(wanted: dict[str, str], present) -> tuple[dict[str, str], list[str]]:
    """``wanted`` (canonical -> heading) with each heading the file lacks replaced by the one
    it has that differs only in capitals, spaces, hyphens or underscores (``loose_match``),
    and the headings to read."""
    present = list(present)
    wanted = {
        canonical: heading if heading in present else (loose_match(heading, present) or heading)
        for canonical, heading in wanted.items()
    }
    return wanted, [h for h in dict.fromkeys(wanted.values()) if h in present]


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


HEADER_WITHIN = 20
"""An export's header row is looked for in its first rows (a title block may come first)."""


def _header_row(rows: list[list[str]], heads: list[str]) -> int | None:
    """The first of ``rows`` that holds every heading in ``heads`` (``loose_key``), or None."""
    wanted = {loose_key(h) for h in heads}
    for i, row in enumerate(rows[:HEADER_WITHIN]):
        if wanted and wanted <= {loose_key(v) for v in row}:
            return i
    return None


def _csv_dialect(path: Path, heads: list[str] = ()) -> tuple[str, str, int]:
    """The encoding and separator of a CSV file, from its first bytes and header line, and
    the rows above the header (the first line holding the ``heads``, if one of the first
    does; else none)."""
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
    lines = text.lstrip("\ufeff").splitlines()
    for separator in ",;\t|":  # a header further down (a title block above it)
        top = _header_row(
            [next(csv.reader([line], delimiter=separator), []) for line in lines[:HEADER_WITHIN]],
            list(heads),
        )
        if top:
            return encoding, separator, top
    first = lines[0] if text.strip() else ""
    try:
        separator = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        separator = ","
    return encoding, separator, 0


def _excel_sheet(
    path: Path, sheet: str | None, needed: list[str], notes: list[str] | None = None
) -> tuple[str | int, int]:
    """The sheet to read and the rows above its header: the sheet named, else the first whose
    first rows hold the needed headings (a cover page, or a title block above the header, is
    passed over); other sheets that hold them too (an export split by year) are named in
    ``notes``: only one sheet is read."""
    from python_calamine import CalamineWorkbook

    names = CalamineWorkbook.from_path(str(path)).sheet_names
    if sheet is not None and sheet not in names:
        raise ExtractError(
            [f"{path.name}: no sheet '{sheet}' (its sheets: {', '.join(names)}); give --sheet NAME"]
        )

    def header_of(name) -> int | None:
        top = pd.read_excel(
            path, sheet_name=name, header=None, nrows=HEADER_WITHIN, dtype=str, engine="calamine"
        ).fillna("")
        return _header_row(top.values.tolist(), needed)

    for i, name in enumerate([sheet] if sheet is not None else names):
        found = header_of(name)
        if found is None:
            continue
        also = [] if sheet is not None else [n for n in names[i + 1 :] if header_of(n) is not None]
        if also and notes is not None:
            notes.append(
                f"{path.name}: read sheet '{name}' only; sheet(s) {', '.join(also)} have the "
                "same headings and were not read (an export split by sheet: join them into "
                "one, or give --sheet NAME to choose)"
            )
        return name, found
    if sheet is not None:
        return sheet, 0  # (its missing headings are said column by column)
    raise ExtractError(
        [
            f"{path.name}: no sheet has the headings {', '.join(needed)} in its first "
            f"{HEADER_WITHIN} rows (its sheets: {', '.join(names)}); give --sheet NAME, or map "
            "the headings with --map"
        ]
    )


def _rows(mask: pd.Series) -> str:
    """The rows where ``mask`` holds, as the clinic counts them: spreadsheet rows (the header
    is row 1, the first data row 2) or, for a FHIR bundle, entry numbers (its tables' index
    is the entry number - 2)."""
    rows = (np.asarray(mask.index[mask.to_numpy()]) + 2).tolist()
    shown = ", ".join(map(str, rows[:FIRST_ROWS]))
    return shown + (", ..." if len(rows) > FIRST_ROWS else "")
