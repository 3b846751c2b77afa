"""The episode extract: one row per referral, read, mapped and checked into Episodes (ids re-numbered), with the attendance extract; the extract as seen on an earlier date."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.data import fhir, zones
from simulation.data.extract.ahead import written_ahead
from simulation.data.extract.columns import (
    ATTENDANCE_COLUMNS,
    CATEGORIES_AT_MOST,
    CATEGORY_COLUMNS,
    CODES,
    COLUMNS,
    FIRST_ROWS,
    NO,
    ORDER,
    YES,
)
from simulation.data.extract.dates import in_utc, parse_dates, read_day_order
from simulation.data.extract.files import ExtractError, _rows
from simulation.data.extract.mapping import Mapping, _mapped, _read_mapped, _shown_codes, bundled

PATHWAY = (
    "source",
    "age_group",
    "assessment_date",
    "assessment_outcome",
    "waitlist_date",
    "iop_start_date",
    "iop_end_date",
    "discharge_reason",
    "track",
)
"""The pathway's columns a fit reads most from: each one absent from an extract is said."""


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
    # rows left out (--drop-bad-rows) for a problem after a sound referral: referral_date,
    # source, level (they were referrals all the same: the referral rate counts them)
    dropped_referrals: pd.DataFrame | None = None


SPAN_MARGIN_AT_LEAST = pd.Timedelta(days=365)


def observed_span(table: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The span a date of this extract can plausibly fall in, from the bulk of all its dates
    (every date column pooled): the middle half widened by three times its width and a month
    each side. One mistyped year, a cluster of far-future rows or a 1900 placeholder falls
    outside and would otherwise stretch the observed window (and dilute every rate) by
    decades. The margin is a year at least: in a short extract (a new clinic's first months)
    the bulk of the dates is a few weeks wide, and a stay, a step-down or a wait that ends months
    after it is no typo. None without enough dates to judge (fewer than 20)."""
    columns = [c for c, (_, kind) in COLUMNS.items() if kind == "date" and c in table]
    pooled = pd.concat([table[c] for c in columns]).dropna()
    if len(pooled) < 20:
        return None, None
    q1, q3 = pooled.quantile(0.25), pooled.quantile(0.75)
    width = max(3 * (q3 - q1) + pd.Timedelta(days=31), SPAN_MARGIN_AT_LEAST)
    return (q1 - width).normalize(), (q3 + width).normalize()


PLACEHOLDER_DATES = np.array(
    [
        "9999-12-31",
        "9999-01-01",
        "2999-12-31",
        "2099-12-31",
        "2100-01-01",
        "1970-01-01",
        "1900-01-01",
        "1899-12-31",
        "1899-12-30",
        "1753-01-01",
        "0001-01-01",
    ],
    dtype="datetime64[us]",
)
"""Dates systems write for "no date": an open stay's end as 9999-12-31, a null timestamp as
1970-01-01 (Unix) or 1899-12-30 (a spreadsheet's day 0), SQL Server's 1753-01-01. Outside
the span of the extract's other dates they are read as blank (said), not refused as typos:
refused, the only way on was --drop-bad-rows, which dropped every client still in the IOP
(the longest stays, and the state's census)."""


def blank_placeholders(table: pd.DataFrame, notes: list[str]) -> dict[str, pd.Series]:
    """Read PLACEHOLDER_DATES outside the span of the extract's other dates as blank, in
    place, with a note of how many, which and where (a row number, never an id); the cells
    blanked, by column (a required date so blanked is then missing)."""
    columns = [c for c, (_, kind) in COLUMNS.items() if kind == "date" and c in table]
    marked = {  # (as numpy microseconds: a column of nanoseconds cannot hold year 9999)
        c: pd.Series(
            np.isin(table[c].to_numpy(dtype="datetime64[us]"), PLACEHOLDER_DATES),
            index=table.index,
        )
        for c in columns
    }
    blanked: dict[str, pd.Series] = {}
    if not any(m.any() for m in marked.values()):
        return blanked
    low, high = observed_span(table[columns].mask(pd.DataFrame(marked)))
    said = []
    for column, mask in marked.items():
        if low is not None:
            mask = mask & ((table[column] < low) | (table[column] > high))
        if not mask.any():
            continue
        values = table.loc[mask, column].dt.date.astype(str).value_counts()
        first = int(mask.to_numpy().argmax())
        said.append(
            f"{int(mask.sum())} in {column} ({', '.join(values.index)}; as in row "
            f"{table.index[first] + 2})"
        )
        table.loc[mask, column] = pd.NaT
        blanked[column] = mask
    if said:
        notes.append(
            "dates written as a system's placeholder for no date read as blank (an open stay "
            f"is still in care): {'; '.join(said)}"
        )
    return blanked


AGE = r"(\d{1,3}(?:\.\d+)?)\s*(?:y|yrs?|years?)?"
"""An age in years as exports write it: 15, 15.0, 15 y, 15 yrs, 15 years."""

AGES = (10, 110)
"""The ages an IOP's clients have (adolescent programmes take 12 and over): a column with a
number outside them holds codes (1 = adult, 2 = adolescent), not ages."""


def _ages_as_groups(text: pd.Series, value: pd.Series, notes: list[str]) -> pd.Series:
    """``value`` (the age_group column's codes) with ages in years read as age groups: under
    ADULT_FROM_AGE an adolescent, else an adult (an export writes the client's age where the
    fit needs only which programme they belong to). The ages are not kept; a note counts
    them."""
    found = text.astype(str).str.strip().str.extract(f"^{AGE}$", flags=re.IGNORECASE)[0]
    years = pd.to_numeric(found, errors="coerce")
    age = years.notna() & ~value.isin(CODES["age_group"])
    if not age.any() or not years[age].between(*AGES).all():
        return value  # (numbers that are no client's age, 1 and 2: codes, refused)
    grouped = np.where(years < fhir.ADULT_FROM_AGE, "adolescent", "adult")
    notes.append(
        f"age_group: {int(age.sum())} value(s) written as ages in years read as age groups "
        f"(under {fhir.ADULT_FROM_AGE}: adolescent); the ages are not kept"
    )
    return value.where(~age, pd.Series(grouped, index=value.index))


def _outside_key(bad: dict, column: str) -> str:
    """The key of ``bad`` that holds ``column``'s dates outside the extract's span ("" if
    none)."""
    return next((k for k in bad if k.startswith(f"{column}: outside the span")), "")


def _level(level: pd.Series) -> pd.Series:
    """A row's level of care: "iop" for the IOP (blank or iop, in any case), else as named."""
    return level.where(~level.str.lower().isin(["", "iop"]), "iop")


def _as_referrals(rows: pd.DataFrame) -> pd.DataFrame | None:
    """Rows left out as referrals the rate still counts: their referral date, source and
    level as the kept rows have them; None if there are none."""
    if rows.empty:
        return None
    return pd.DataFrame(
        {
            "referral_date": rows["referral_date"],
            "source": rows["source"].replace("", "community"),
            "level": _level(rows["level"]),
        }
    ).reset_index(drop=True)


def read_episodes(
    path: str | Path,
    mapping: Mapping | None = None,
    as_of: str | pd.Timestamp | None = None,
    drop_bad_rows: bool = False,
    attendance: str | Path | None = None,
) -> Episodes:
    """Read, map and check an episode extract (and optionally an attendance extract)."""
    mapping = mapping or Mapping()
    notes: list[str] = []
    raw, source = _read_mapped(path, mapping, COLUMNS, "", notes)
    absent = [c for c in PATHWAY if c not in raw]
    if absent:
        notes.append(
            f"not in the extract, so read as blank: {', '.join(absent)} (every referral then "
            "has no such date or code: one never assessed is still waiting, one never "
            "started never started, every source community, every client an adult); if "
            "they are there under other headings, map them with --map COLUMN=HEADING"
        )
    bad: dict[str, pd.Series] = {}
    dated = [c for c, (_, kind) in COLUMNS.items() if kind == "date" and c in raw]
    order = read_day_order({c: raw[c] for c in dated}, mapping.dayfirst, "", source, notes)
    zone = mapping.zone
    utc = None if zone is not None else in_utc({c: raw[c] for c in dated})
    if utc:
        notes.append(
            f"{utc}: each is read as the date in UTC, and an event late in the clinic's "
            f"evening may fall on the next day; {zones.UTC_ADVICE}"
        )
    table = pd.DataFrame(index=raw.index)
    for column, (_, kind) in COLUMNS.items():
        if column not in raw:
            table[column] = pd.NaT if kind == "date" else ""
            continue
        text = raw[column]
        if kind == "date":
            # the day alone (on the clinic's clock): a time written on some dates and not on
            # others would shorten or stretch every wait by the hours of the day
            table[column] = parse_dates(text, order, zone).dt.normalize()
            unreadable = table[column].isna() & (text != "")
            if unreadable.any():
                bad[f"{column}: not a date"] = unreadable
        elif kind == "code":
            lowered = text.str.lower().str.replace(" ", "_")
            mapped = text.str.strip().str.lower().map(mapping.values.get(column, {}))
            value = lowered.astype(object).where(mapped.isna(), mapped.astype(object))
            if column == "age_group":
                value = _ages_as_groups(text, value, notes)
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
    blanked = blank_placeholders(table, notes)
    ids = raw["episode_id"]
    if (ids == "").any():
        bad["episode_id: missing"] = ids == ""
    duplicated = ids.duplicated(keep="first") & (ids != "")
    if duplicated.any():
        bad["episode_id: the same episode twice"] = duplicated
    if table["referral_date"].isna().any():
        empty = raw["referral_date"] == ""
        if "referral_date" in blanked:
            empty |= blanked["referral_date"]
        bad["referral_date: missing"] = table["referral_date"].isna() & empty
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
    iop = table["level"].str.lower().isin(["", "iop"])  # (a level's rows have no IOP rules)
    # in a continuum (rows of other levels) a client assessed as needing higher care may come
    # to the IOP later, stepping down from that level
    other_care = ["outpatient", "lost"] + (["higher_care"] if iop.all() else [])
    checks = {
        "iop_end_date without iop_start_date": ended & ~started,
        "discharge_reason without iop_end_date": (table["discharge_reason"] != "") & ~ended,
        "iop_end_date without discharge_reason": ended & (table["discharge_reason"] == "") & iop,
        "iop_start_date with assessment_outcome other than iop": started
        & table["assessment_outcome"].isin(other_care)
        & iop,
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
    sound = ~pd.concat(
        [m for what, m in bad.items() if "referral_date" in what or what.startswith("episode_id")]
        or [pd.Series(False, index=table.index)],
        axis=1,
    ).any(axis=1)
    dropped_referrals = _as_referrals(table[~keep & sound & table["referral_date"].notna()])
    # the extract's last date, over the rows left out too (but a date out of its span): a
    # row left out for a missing discharge reason does not move the date the records end
    dated = [c for c, (_, k) in COLUMNS.items() if k == "date"]
    latest = pd.Series(
        [
            table[c].mask(bad.get(_outside_key(bad, c), pd.Series(False, index=table.index))).max()
            for c in dated
        ],
        dtype="datetime64[us]",
    ).max()  # (NaT, a column with no date, skipped)
    table = table[keep]
    ids = ids[keep]
    if table.empty:
        raise ExtractError(["no usable rows"], source)
    stamp = (
        pd.Timestamp(as_of) if as_of is not None else (latest + pd.Timedelta(days=1)).normalize()
    )
    ahead = written_ahead(table) if as_of is None else None
    if ahead is not None:
        stamp = ahead[0]
        notes.append(ahead[1])
    # records after the date we stand on are not known yet
    order = np.argsort(table["referral_date"].to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    ids = ids.iloc[order].reset_index(drop=True)
    table.insert(0, "episode", np.arange(len(table)))
    table = table.drop(columns=["episode_id"])
    # the primary therapist's id stops here too: therapists are numbered (-1: none recorded)
    table["therapist"] = pd.factorize(table["therapist"].replace("", None))[0]
    table["source"] = table["source"].replace("", "community")
    table["level"] = _level(table["level"])
    table["age_group"] = table["age_group"].replace("", "adult")
    episodes = Episodes(
        table=table,
        as_of=stamp,
        dropped=dropped,
        dropped_rows=int((~keep).sum()),
        notes=notes,
        dropped_referrals=dropped_referrals,
    )
    if attendance is None and bundled(path, "attendance", mapping.zone):
        attendance = path  # a FHIR bundle's appointments
    if attendance is not None:
        episodes.attendance = _read_attendance(
            attendance,
            mapping,
            dict(zip(ids, table["episode"], strict=True)),
            drop_bad_rows,
            episodes.notes,
            table[["iop_start_date", "iop_end_date"]],
            None if fhir.is_fhir(attendance) else stamp,  # (a bundle's statuses say it)
        )
    if ahead is not None:  # (after the attendance is checked against the stays as written)
        episodes = _seen_on(episodes, stamp, losses_known=True)
    return episodes


def _outside_stay(episode: pd.Series, day: pd.Series, stays: pd.DataFrame) -> pd.Series:
    """Rows of a known episode dated before its stay's first day or after its last (still in
    care: no last day), or of an episode with no stay."""
    known = episode.notna().to_numpy()
    at = episode.fillna(0).astype(int).to_numpy()
    first = stays["iop_start_date"].to_numpy()[at]
    last = stays["iop_end_date"].to_numpy()[at]
    when = day.to_numpy()
    with np.errstate(invalid="ignore"):
        out = pd.isna(first) | (when < first) | (~pd.isna(last) & (when > last))
    return pd.Series(known & ~pd.isna(when) & out, index=episode.index)


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
    path,
    mapping: Mapping,
    episode_of: dict[str, int],
    drop_bad_rows: bool,
    notes: list[str],
    stays: pd.DataFrame,
    as_of: pd.Timestamp | None,
) -> pd.DataFrame:
    """The attendance extract: one row per group session a client was expected at. A row that
    repeats an earlier one (the same episode, date and kind: an export appended twice) would
    count a session twice and halve the fitted dropout after a missed session; a group
    session dated outside its episode's stay (``stays``: each episode's start and end, by episode number)
    is a wrong date or episode id, and every session after the stay would read as one missed
    with no dropout after it: both refused, or dropped with ``drop_bad_rows``. Rows whose
    episode is not in the episode extract are left out and counted in ``notes``; none
    matching is an error. Rows dated on or after ``as_of`` (the day the records are read as
    of) and after the last session attended are sessions booked, not yet held (an
    appointments export lists the coming weeks'): left out, whatever their attended cell
    says, and said (``as_of`` None: a FHIR bundle, whose appointments' statuses say which
    were held)."""
    raw, source = _read_mapped(path, mapping, ATTENDANCE_COLUMNS, "attendance: ", notes)
    if "kind" not in raw:
        notes.append("attendance: no kind column: every row is read as a group session")
    attended = _mapped(raw["attended"], mapping.values.get("attended")).str.strip().str.lower()
    unknown = ~attended.isin(YES | NO)
    order = read_day_order({"date": raw["date"]}, mapping.dayfirst, "attendance: ", source, notes)
    zone = mapping.zone
    utc = None if zone is not None else in_utc({"date": raw["date"]}, "attendance: ")
    if utc:  # (the sessions' start and weekday are read from these times)
        raise ExtractError(
            [
                f"{utc}: the sessions' start times and weekdays cannot be read from them; "
                + zones.UTC_ADVICE
            ],
            source,
        )
    dates = parse_dates(raw["date"], order, zone)
    booked = pd.Series(False, index=raw.index)
    if as_of is not None:
        held = dates[attended.isin(YES)].max()  # (a session attended was held, whenever)
        if held == held and held >= as_of:
            as_of = (held + pd.Timedelta(days=1)).normalize()
        booked = dates >= as_of
    if booked.any():  # (each would read as one missed, and lower the attendance fitted)
        notes.append(
            f"attendance: {int(booked.sum())} row(s) dated on or after {as_of.date()}, after "
            "the day the records are read as of and the last session attended, are sessions "
            "booked, not yet held: left out"
        )
        raw, dates, unknown, attended = (
            raw[~booked],
            dates[~booked],
            unknown[~booked],
            attended[~booked],
        )
    problems = []
    if unknown.any():
        problems.append(
            f"{int(unknown.sum())} row(s): attended is not yes/no: "
            f"{_shown_codes(raw['attended'][unknown])} (rows {_rows(unknown)}); map others "
            'with [values.attended], e.g. "Late arrival" = "yes"'
        )
    if dates.isna().any():
        problems.append(
            f"{int(dates.isna().sum())} row(s): date is not a date (rows {_rows(dates.isna())})"
        )
    kind = (
        _mapped(raw["kind"], mapping.values.get("kind"))
        .astype(raw["kind"].dtype)
        .str.strip()
        .str.lower()
        if "kind" in raw
        else pd.Series("group", index=raw.index)
    )
    if len(raw) and not (kind.str.contains("group") | (kind == "")).any():  # (blank: group)
        problems.append(  # (the fit reads group sessions: it would use none and not say why)
            f"no row is a group session (kinds: {_shown_codes(raw['kind'])}): map the "
            'clinic\'s word for a group session with [values.kind], e.g. "IOP session" = "group"'
        )
    repeated = _repeated(raw["episode_id"], dates, kind)
    if repeated.any() and not drop_bad_rows:
        problems.append(
            f"{int(repeated.sum())} row(s) repeat an earlier row's episode, date and kind (the "
            f"export appended twice?) (rows {_rows(repeated)}); each would count a session "
            "twice. Remove them, or add --drop-bad-rows to keep the first of each"
        )
    episode = raw["episode_id"].map(episode_of)
    group = kind.str.contains("group") | (kind == "")  # (others, e.g. step-down, may follow)
    outside = _outside_stay(episode, dates.dt.normalize(), stays) & group & ~repeated
    if outside.any() and not drop_bad_rows:
        problems.append(
            f"{int(outside.sum())} group session row(s): date outside their episode's stay (before its "
            f"iop_start_date, after its iop_end_date, or an episode that never started) (rows "
            f"{_rows(outside)}): a wrong date or episode id? Each would count a session the "
            "client was not in care for. Fix them, or add --drop-bad-rows to go on without them"
        )
    if problems:
        raise ExtractError(problems, source)
    if repeated.any():
        notes.append(f"attendance: dropped {int(repeated.sum())} repeated row(s)")
    if outside.any():
        notes.append(
            f"attendance: dropped {int(outside.sum())} row(s) dated outside their episode's stay"
        )
    dropped = repeated | outside
    unmatched = episode.isna() & ~dropped
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
    episode = episode.where(~dropped)
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


def at_iop(table: pd.DataFrame) -> pd.Series:
    """The rows of an episode table that are IOP episodes (the others are stays at other
    levels of care; a table without a level column is all IOP)."""
    if "level" not in table:
        return pd.Series(True, index=table.index)
    return table["level"] == "iop"


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
    return _seen_on(episodes, as_of_date(episodes, date))


def _seen_on(episodes: Episodes, date: pd.Timestamp, losses_known: bool = False) -> Episodes:
    """``as_seen_on`` for a date already checked (``losses_known``: the extract was written
    on ``date``, so a loss it records is known then, however recent)."""
    t = episodes.table[episodes.table["referral_date"] < date].copy()
    for column, (_, kind) in COLUMNS.items():
        if kind == "date" and column in t:
            t[column] = t[column].where(t[column] < date)
    t["discharge_reason"] = t["discharge_reason"].where(t["iop_end_date"].notna(), "")
    decided = t["assessment_date"].notna() | (
        (t["assessment_outcome"] == "lost")
        & (losses_known | (t["referral_date"] <= date - pd.Timedelta(days=LOSS_KNOWN_AFTER_DAYS)))
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
        notes=list(episodes.notes),
        dropped_referrals=_as_referrals(
            episodes.dropped_referrals[episodes.dropped_referrals["referral_date"] < date]
        )
        if episodes.dropped_referrals is not None
        else None,
    )
