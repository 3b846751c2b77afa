"""Results as an Excel workbook (``results.xlsx``): what planners open first. One sheet for the
brief, the summary with confidence intervals, the targets, the KPIs by group (track, age
group, source, payer, site, region, level), the weekly means, a plan or a comparison when there
is one, and a sheet that says what each KPI means. Numbers are numbers, with formats by unit
(percentages, money, days), headers frozen and columns sized.

Built with openpyxl (a dependency of a plain install: it also writes the synthetic extracts
and reads clinics' .xlsx exports). Only results are written: no client-level row, nothing
that identifies anyone.
"""

from __future__ import annotations

import io
import math

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from simulation.kpis import describe, split_group

FORMATS = {
    "share": "0.0%",
    "money_per_week": '"$"#,##0;-"$"#,##0',
    "days": "0.0",
    "hours_per_week": "0.0",
    "per_week": "0.00",
    "clients": "0.0",
    "minutes": "0",
}
"""Excel number formats by KPI unit (others: general)."""

HEADER = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
TITLE = Font(bold=True, size=14)


def run_workbook(
    summary: pd.DataFrame,
    brief: list[tuple[str, list[str]]],
    title: str,
    targets: pd.DataFrame | None = None,
    weekly: pd.DataFrame | None = None,
    extra: dict[str, pd.DataFrame] | None = None,
) -> bytes:
    """The workbook of a run (or of a plan or comparison, with its table in ``extra``)."""
    book = Workbook()
    _brief_sheet(book.active, title, brief)
    overall, grouped = _split(summary)
    _table_sheet(book, "Summary", overall, unit_column="unit")
    if targets is not None and not targets.empty:
        _table_sheet(book, "Targets", targets)
    if not grouped.empty:
        _table_sheet(book, "By group", grouped, unit_column="unit")
    if weekly is not None and not weekly.empty:
        _table_sheet(book, "Weekly", weekly)
    for name, table in (extra or {}).items():
        _table_sheet(book, name, table)
    _table_sheet(book, "KPI meanings", _meanings(summary))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def tables_workbook(
    title: str, brief: list[tuple[str, list[str]]], sheets: dict[str, pd.DataFrame]
) -> bytes:
    """The workbook of a plan or a comparison: its brief, its tables, and what each KPI in
    them means."""
    book = Workbook()
    _brief_sheet(book.active, title, brief)
    kpis: list[str] = []
    for name, table in sheets.items():
        _table_sheet(book, name, table)
        if "kpi" in table:
            kpis += [str(k) for k in table["kpi"]]
    if kpis:
        _table_sheet(book, "KPI meanings", _meanings(pd.DataFrame({"kpi": kpis})))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _brief_sheet(sheet, title: str, brief: list[tuple[str, list[str]]]) -> None:
    sheet.title = "Brief"
    sheet["A1"] = _clean(title)
    _text_safe(sheet["A1"]).font = TITLE
    row = 3
    for heading, lines in brief:
        sheet.cell(row=row, column=1, value=_clean(heading)).font = Font(bold=True)
        row += 1
        for line in lines:
            cell = _text_safe(sheet.cell(row=row, column=1, value=_clean(line)))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
        row += 1
    sheet.column_dimensions["A"].width = 120


def _split(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary's network-wide KPIs, and its KPIs by group as kind, group and KPI columns."""
    table = summary.copy()
    parts = [split_group(str(k)) for k in table["kpi"]]
    grouped = [g is not None for _, g in parts]
    overall = table[[not g for g in grouped]].reset_index(drop=True)
    by = table[grouped].reset_index(drop=True)
    if by.empty:
        return overall, by
    kinds = [split_group(str(k))[1].partition("=") for k in by["kpi"]]
    by.insert(0, "group", [k[2] for k in kinds])
    by.insert(0, "by", [k[0] for k in kinds])
    by["kpi"] = [split_group(str(k))[0] for k in by["kpi"]]
    return overall, by.sort_values(["by", "group", "kpi"], kind="stable").reset_index(drop=True)


def _meanings(summary: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name in dict.fromkeys(split_group(str(k))[0] for k in summary["kpi"]):
        try:
            kpi = describe(name)
        except KeyError:
            continue
        rows.append(
            {"kpi": name, "unit": kpi.unit, "better": kpi.better, "meaning": kpi.description}
        )
    return pd.DataFrame(rows)


def _table_sheet(book: Workbook, name: str, table: pd.DataFrame, unit_column: str | None = None):
    """A sheet of ``table``: a bold frozen header, numbers as numbers (formatted by the row's
    unit when the table has one), dates as dates, columns sized to their contents."""
    sheet = book.create_sheet(_clean(name)[:31])
    columns = [str(c) for c in table.columns]
    for j, column in enumerate(columns, start=1):
        cell = _text_safe(sheet.cell(row=1, column=j, value=_clean(column)))
        cell.font, cell.fill = HEADER, HEADER_FILL
    units = table[unit_column].tolist() if unit_column and unit_column in table else None
    numeric = {"mean", "std", "ci_low", "ci_high", "value", "bound"}
    for i, row in enumerate(table.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            cell = _text_safe(sheet.cell(row=i, column=j, value=_plain(value)))
            if units is not None and columns[j - 1] in numeric:
                fmt = FORMATS.get(str(units[i - 2]))
                if fmt is not None:
                    cell.number_format = fmt
    sheet.freeze_panes = "A2"
    for j, column in enumerate(columns, start=1):
        longest = max([len(column), *(len(str(v)) for v in table.iloc[:200, j - 1])], default=8)
        sheet.column_dimensions[get_column_letter(j)].width = min(max(longest + 2, 8), 60)
    return sheet


def _text_safe(cell):
    """Text is text: a name a user wrote that begins like a formula (``=HYPERLINK(...)``) is
    stored as a string, never as a formula Excel would run."""
    if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"
    return cell


def _clean(text: str) -> str:
    """Text without the control characters a worksheet cannot hold (escapes in a name)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _plain(value):
    """A cell value Excel takes: numbers as numbers (NaN as an empty cell), timestamps as
    dates, everything else as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else value
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    return _clean(str(value))
