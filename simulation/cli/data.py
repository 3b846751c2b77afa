"""``iopsim synth`` and ``iopsim fit``: synthetic extracts, and a scenario of the clinic
fitted from its own records."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import click

from simulation.cli import main
from simulation.cli.common import fail, json_option, load_scenario, out_option, say


def extract_options(function):
    """How to read an extract: column map, value map file, day-first dates, bad rows."""
    options = [
        click.option(
            "--map",
            "maps",
            multiple=True,
            metavar="COLUMN=HEADING",
            help="Their heading for one of the extract's columns (repeatable).",
        ),
        click.option(
            "--map-file",
            type=click.Path(path_type=Path),
            help="TOML with [columns] and [values.<column>] tables (and dayfirst = true).",
        ),
        click.option(
            "--drop-bad-rows",
            is_flag=True,
            help="Go on without rows that fail the checks (reported with counts).",
        ),
        click.option(
            "--attendance",
            type=click.Path(path_type=Path),
            help="Attendance extract (episode_id, date, kind, attended).",
        ),
        click.option(
            "--staff",
            type=click.Path(path_type=Path),
            help="Staff extract (person, pool, from_date, to_date, fte): who is in post on the "
            "date fitted.",
        ),
        click.option(
            "--sheet",
            help="The sheet of an Excel extract to read (default: the first sheet that has "
            "the extract's columns).",
        ),
        click.option(
            "--timezone",
            help="The clinic's time zone (e.g. America/New_York): times the export writes "
            "with an offset (Z, +00:00) are read on the clinic's clock. Needed when every "
            "time is in UTC.",
        ),
        click.option(
            "--template",
            default="baseline",
            show_default=True,
            help="Scenario whose values the data cannot inform are kept.",
        ),
    ]

    @functools.wraps(function)
    def command(*args, **kwargs):
        records = ExtractOptions(**{name: kwargs.pop(name) for name in EXTRACT_FIELDS})
        return function(*args, records=records, **kwargs)

    for option in reversed(options):
        command = option(command)
    return command


EXTRACT_FIELDS = (
    "maps",
    "map_file",
    "drop_bad_rows",
    "attendance",
    "staff",
    "sheet",
    "timezone",
)


@dataclass
class ExtractOptions:
    """How to read a clinic's extract (the options of ``extract_options``), as one value."""

    maps: tuple[str, ...]
    map_file: Path | None
    drop_bad_rows: bool
    attendance: Path | None
    staff: Path | None
    sheet: str | None
    timezone: str | None = None

    def read(self, path, named_as=None):
        """The episode extract (and the staff extract, or None), or exit 2 with the problems;
        with ``named_as`` (a scenario) its names read as that scenario's (data.names)."""
        episodes, people = read_extract(
            path,
            self.maps,
            self.map_file,
            self.drop_bad_rows,
            self.attendance,
            self.staff,
            self.sheet,
            self.timezone,
        )
        if named_as is not None:
            from simulation.data.names import as_named_in

            episodes, note = as_named_in(episodes, named_as)
            if note:
                say(note, err=True)
        return episodes, people


def read_extract(
    path, maps, map_file, drop_bad_rows, attendance, staff=None, sheet=None, timezone=None
):
    """The episode extract (and the staff extract, or None), or exit 2 with the problems."""
    from simulation.data.extract import ExtractError, Mapping, bundled, read_episodes, read_staff

    try:
        mapping = Mapping.parse(maps, map_file)
        if sheet is not None:
            mapping.sheet = sheet
        if timezone is not None:
            mapping.timezone = timezone
            _ = mapping.zone  # (refused now, named, if it is not a time zone)
        episodes = read_episodes(path, mapping, None, drop_bad_rows, attendance)
        if staff is None and bundled(path, "staff", mapping.zone):
            staff = path  # a FHIR bundle's practitioner roles
        staff_notes: list[str] = []
        people = None
        if staff is not None:
            people = read_staff(staff, mapping, drop_bad_rows, staff_notes)
    except ExtractError as exc:
        fail(str(exc))
    for what, count in episodes.dropped.items():
        say(f"dropped {count} row(s): {what}", err=True)
    for note in episodes.notes + staff_notes:
        say(note, err=True)
    if len(episodes.dropped) > 1:
        say(f"dropped {episodes.dropped_rows} distinct row(s) in all", err=True)
    return episodes, people


@main.command()
@click.argument("scenario", required=False)
@click.option(
    "--years",
    type=click.FloatRange(0.1, 20),
    default=2.0,
    show_default=True,
    help="Years of records after the warm-up.",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), default=1, show_default=True, help="Random seed."
)
@click.option(
    "--messy",
    is_flag=True,
    help="Untidy like a real export: renamed columns, day-first dates, codes, decoy identifiers, a few bad rows (and a map file).",
)
@out_option(
    "Extract file: .csv, .xlsx, .parquet, or .json for --format fhir (default: extract.csv)."
)
@click.option(
    "--format",
    "kind",
    type=click.Choice(["table", "fhir"]),
    default="table",
    show_default=True,
    help="table: one row per referral (CSV, Excel or Parquet by --out's suffix); fhir: a FHIR "
    "R4 Bundle (.json) with episodes, assessments, appointments and staff roles in one file.",
)
@click.option(
    "--with-attendance",
    is_flag=True,
    help="Also write the attendance extract (every group session each client was expected at) beside it: NAME.attendance.csv (a FHIR bundle always holds it).",
)
@click.option("--force", is_flag=True, help="Replace the file(s) if they exist.")
def synth(scenario, years, seed, messy, out, kind, with_attendance, force):
    """Write an episode extract of SCENARIO's simulated clinic (default: baseline)."""
    from simulation.data.synth import extract_end, extract_start, synthesize_records
    from simulation.outputs import write_file_atomic

    sc = load_scenario(scenario)
    fhir = kind == "fhir"
    out = out or Path("extract.json" if fhir else "extract.csv")
    allowed = (".json",) if fhir else (".csv", ".xlsx", ".parquet")
    if out.suffix.lower() not in allowed:
        fail(f"--out {out}: with --format {kind}, write {' or '.join(allowed)}")
    with_attendance = with_attendance and not fhir
    sessions = out.with_suffix(".attendance" + out.suffix)
    for path in (out, sessions) if with_attendance else (out,):
        if path.exists() and not force:
            fail(f"{path} already exists; choose another --out or add --force")
    table, map_text, attendance = synthesize_records(sc, years, seed, messy, fhir=fhir)
    out.parent.mkdir(parents=True, exist_ok=True)
    end = extract_end(sc, years).date()
    if fhir:
        import json

        from simulation.data.synth_fhir import bundle

        body = bundle(table, attendance, sc, extract_start(sc))
        write_file_atomic(out, json.dumps(body, separators=(",", ":")))
        say(
            f"FHIR bundle: {out} ({len(table)} referrals and {len(attendance)} group sessions "
            f"up to {end}; use: iopsim fit {out})"
        )
    else:
        _write_table(table, out)
        say(f"Episode extract: {out} ({len(table)} referrals up to {end})")
    if with_attendance:
        _write_table(attendance, sessions)
        say(
            f"Attendance extract: {sessions} ({len(attendance)} group sessions; use: "
            f"iopsim fit {out} --attendance {sessions})"
        )
    if map_text:
        map_path = out.with_suffix(".map.toml")
        write_file_atomic(map_path, map_text)
        say(f"Map file: {map_path} (use: iopsim fit {out} --map-file {map_path})")


def _write_table(table, out: Path) -> None:
    """A table as CSV, Excel or Parquet by the file's suffix, atomically."""
    tmp = out.with_name(f".{out.name}.partial{out.suffix}")
    if out.suffix.lower() == ".csv":
        table.to_csv(tmp, index=False)
    elif out.suffix.lower() == ".xlsx":
        table.to_excel(tmp, index=False)
    else:
        table.to_parquet(tmp, index=False)
    tmp.replace(out)


@main.command()
@click.argument("extract", type=click.Path(path_type=Path))
@extract_options
@click.option(
    "--as-of",
    "as_of",
    help="Fit on what was known on this date and write the clinic's state then (default: no state; the extract's end).",
)
@out_option(
    "The fitted scenario (default: my_clinic.toml); NAME.fit-report.html is written beside it."
)
@click.option("--force", is_flag=True, help="Replace the scenario file if it exists.")
@json_option
def fit(
    extract,
    records,
    template,
    as_of,
    out,
    force,
    as_json,
):
    """Fit a scenario of the clinic to its episode EXTRACT, with the evidence for each value."""
    import json

    from simulation.dashboard.page import fit_report
    from simulation.data.extract import as_seen_on
    from simulation.fit.clinic import fitted_scenario
    from simulation.outputs import fit_report_path, write_files_atomic

    out = out or Path("my_clinic.toml")
    report = fit_report_path(out)
    if out.exists() and not force:
        fail(f"{out} already exists; choose another --out or add --force")
    # (a report without its scenario is what an interrupted fit left: replaced)
    base = load_scenario(template)
    episodes, people = records.read(extract)
    if as_of is not None:
        from simulation.data.extract import ExtractError

        try:
            episodes = as_seen_on(episodes, as_of)
        except ExtractError as exc:
            fail(str(exc))
    from simulation.config import ScenarioError

    try:
        sc, result, text = fitted_scenario(
            episodes, base, with_state=as_of is not None, staff=people
        )
    except ScenarioError as exc:
        fail(f"the fitted values do not make a valid clinic with template {template}: {exc}")
    from simulation.fit.network import at_template_sites

    episodes, _ = at_template_sites(episodes, [s.name for s in base.sites])  # (as fitted)
    # the report first, the scenario last: a scenario on disk always has its report
    write_files_atomic({report: fit_report(sc, result, episodes), out: text})
    if as_json:
        click.echo(
            json.dumps(
                {
                    "scenario": str(out),
                    "report": str(report),
                    "fitted": [
                        {
                            "key": e.key,
                            "value": e.value,
                            "ci_low": e.low,
                            "ci_high": e.high,
                            "n": e.n,
                            "method": e.method,
                        }
                        for e in result.evidence
                    ],
                    "notes": result.notes,
                },
                indent=2,
                default=str,
            )
        )
        return
    say(
        f"Fitted {len(result.evidence)} values from {len(episodes.table)} referrals up to {episodes.as_of.date()}:"
    )
    for e in result.evidence:
        say(f"  {e.key}: {e.comment()}"[:160])
    for note in result.notes:
        say(f"Note: {note}")
    if sc.state is not None:
        say(f"State on {sc.state.as_of}: {len(sc.state.clients)} clients on the books")
    say(f"Scenario: {out}  Report: {report}")
