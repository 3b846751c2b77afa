"""Synthetic episode extracts: a simulated clinic's records in the documented format, so
anyone can try fitting, back-testing and forecasting without real data (and so tests can check
that fitting recovers what made the data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation import clock
from simulation.clock import HOURS_PER_DAY
from simulation.config import Scenario, apply_overrides
from simulation.model.levels import REFERRED

MESSY_HEADINGS = {
    "episode_id": "Episode #",
    "referral_date": "Referral Dt",
    "source": "Referral Source",
    "age_group": "Age Grp",
    "assessment_date": "Assessment Dt",
    "assessment_outcome": "Assessment Result",
    "waitlist_date": "Waitlisted",
    "waitlist_exit_date": "Removed From Waitlist",
    "iop_start_date": "IOP Admit Dt",
    "track": "Program Track",
    "iop_end_date": "IOP Discharge Dt",
    "discharge_reason": "Discharge Reason",
    "step_down_start_date": "OP Start",
    "step_down_end_date": "OP End",
    "payer": "Primary Insurance",
}
MESSY_REASONS = {
    "completed": "Completed Tx",
    "dropped_out": "AMA",
    "escalated": "Transfer - Higher LOC",
    "other": "Other",
    "authorisation_ended": "Auth Denied",
}
MESSY_OUTCOMES = {
    "iop": "IOP",
    "higher_care": "Higher LOC",
    "outpatient": "OP Only",
    "lost": "No Show",
}


def synthesize(
    scenario: Scenario, years: float, seed: int = 1, messy: bool = False
) -> tuple[pd.DataFrame, str]:
    """An episode extract of ``years`` years of the scenario's clinic (after its warm-up), and
    the map file text a clinic would write for it (empty unless ``messy``)."""
    table, map_text, _ = synthesize_records(scenario, years, seed, messy)
    return table, map_text


def synthesize_records(
    scenario: Scenario, years: float, seed: int = 1, messy: bool = False, fhir: bool = False
) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """As ``synthesize``, with the attendance extract of the same clients: one row per group
    session each was expected at (``episode_id``, ``date``, ``kind``, ``attended`` yes/no).
    ``fhir``: the tables a FHIR bundle is written from (our column names and ISO dates; when
    ``messy``, the clinic's codes, bad rows and a map file of values only)."""
    from simulation.replication import run_replication

    weeks = max(int(round(52 * years)), 1)
    sc = apply_overrides(scenario, [f"horizon_weeks={weeks}"])
    result = run_replication(sc, 0, seed, attendance_records=True)
    clients = result.clients
    start = sc.warmup_weeks * 168.0
    c = clients[clients["referred"] >= start].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(100_000, 100_000 + 10 * max(len(c), 1)), size=len(c), replace=False)
    episode = dict(zip(c["id"], (f"EP{i}" for i in ids), strict=True))
    table = records_of(c, sc.start_date)
    table.insert(0, "episode_id", [episode[i] for i in c["id"]])
    if result.level_visits is not None and len(result.level_visits):
        # a client placed at a level directly (no intake) has an IOP episode only if they came
        # on to the IOP, referred to it the day they joined its waitlist; their stays at the
        # level are its rows (below)
        entry = {src.name: src.level for src in sc.referrals.sources}
        placed = (c["source"].map(entry).fillna("iop") != "iop").to_numpy()
        came = c["iop_waitlisted"].notna().to_numpy()
        monday = pd.Timestamp(clock.week_zero_monday(sc.start_date))
        day = np.floor(c["iop_waitlisted"].to_numpy(dtype=float) / HOURS_PER_DAY)
        referred = [monday + pd.Timedelta(days=d) if np.isfinite(d) else pd.NaT for d in day]
        table.loc[placed & came, "referral_date"] = pd.Series(referred)[placed & came].to_numpy()
        table = table[~placed | came].reset_index(drop=True)
        table = pd.concat(
            [
                table.assign(level="", discharged_to=""),
                level_records(result.level_visits, clients, start, sc.start_date),
            ],
            ignore_index=True,
        )
    sessions = result.extra["group_attendance"]
    sessions = sessions[sessions["client_id"].isin(episode)]
    monday = pd.Timestamp(clock.week_zero_monday(sc.start_date))
    hours = sessions["time"].to_numpy(dtype=float)
    # a table gives the day; a FHIR appointment its start, to the minute
    moment = np.floor(hours * 60) / 60 if fhir else np.floor(hours / HOURS_PER_DAY) * HOURS_PER_DAY
    attendance = pd.DataFrame(
        {
            "episode_id": sessions["client_id"].map(episode).to_numpy(),
            "date": (monday + pd.to_timedelta(moment, unit="h")).strftime(
                "%Y-%m-%dT%H:%M" if fhir else "%d/%m/%Y" if messy else "%Y-%m-%d"
            ),
            "kind": "group",
            "attended": np.where(sessions["attended"], "yes", "no"),
        }
    )
    if not messy:
        return _as_text(table, "%Y-%m-%d"), "", attendance
    if fhir:
        return (*_messy(table, rng, tabular=False), attendance)
    attendance = attendance.rename(columns={"episode_id": MESSY_HEADINGS["episode_id"]})
    return (*_messy(table, rng), attendance)  # (the map's id heading names it in both)


def records_of(c: pd.DataFrame, start_date) -> pd.DataFrame:
    """Simulated clients as an episode extract records them: dates (the day, not the hour)
    of each milestone, the assessment outcome, the track and the discharge reason."""
    monday = pd.Timestamp(clock.week_zero_monday(start_date))

    def date(hours: pd.Series) -> pd.Series:
        days = np.floor(hours.to_numpy(dtype=float) / HOURS_PER_DAY)
        return pd.Series(
            [monday + pd.Timedelta(days=d) if np.isfinite(d) else pd.NaT for d in days]
        )

    assessed = c["assessed"].notna()
    gone = c["status"].isin(["lost", "turned_away"])
    outcome = np.where(assessed, c["outcome"], np.where(gone, "lost", ""))
    left_waitlist = c["iop_waitlisted"].notna() & c["iop_start"].isna() & (c["status"] == "lost")
    return pd.DataFrame(
        {
            "referral_date": date(c["referred"]),
            "source": c["source"],
            "age_group": c["age_group"],
            "assessment_date": date(c["assessed"]),
            "assessment_outcome": outcome,
            "waitlist_date": date(c["iop_waitlisted"]),
            "waitlist_exit_date": date(c["left"].where(left_waitlist)),
            "iop_start_date": date(c["iop_start"]),
            "track": c["track"],
            # the primary therapist, by a code (as an export gives a staff number)
            "therapist": _therapist_codes(c["therapist"]),
            "iop_end_date": date(c["iop_end"]),
            "discharge_reason": c["exit_reason"].where(c["iop_end"].notna(), ""),
            "step_down_start_date": date(c["op_start"]),
            "step_down_end_date": date(c["op_end"]),
        }
    ).assign(**_where_seen(c), **_paid_by(c))


def _paid_by(c: pd.DataFrame) -> dict:
    """(a clinic with payers) who paid for each client's care."""
    if "payer" not in c or not (c["payer"] != "").any():
        return {}
    return {"payer": c["payer"].to_numpy()}


def _where_seen(c: pd.DataFrame) -> dict:
    """(a network's clients) the site they were seen at and the region they came from."""
    if "site" not in c or not (c["site"] != "").any():
        return {}
    return {"site": c["site"].to_numpy(), "region": c["region"].to_numpy()}


def level_records(
    visits: pd.DataFrame, clients: pd.DataFrame, start: float, start_date
) -> pd.DataFrame:
    """Stays at levels of care beside the IOP as an extract records them: one row per stay
    begun after the warm-up, its admission and discharge in the start and end columns, the
    level, where the client went next (blank: out of care) and why the stay ended. A referral
    who waited for the place out of care, and anyone who left its waitlist without one (gave
    up, or relapsed on the way), has the waitlist dates: joined, and left without a place.
    Episode ids EL1, EL2, ..."""
    monday = pd.Timestamp(clock.week_zero_monday(start_date))
    v = visits[visits["queued"] >= start].reset_index(drop=True)
    client = clients.set_index("id")

    def date(hours: pd.Series) -> pd.Series:
        days = np.floor(hours.to_numpy(dtype=float) / HOURS_PER_DAY)
        return pd.Series(
            [monday + pd.Timedelta(days=d) if np.isfinite(d) else pd.NaT for d in days]
        )

    placed = v["admitted"].notna()
    without = ~placed & v["left"].notna()  # left the waitlist without a place
    waited = v["came_from"].isin(REFERRED) | without
    return pd.DataFrame(
        {
            "episode_id": [f"EL{k + 1}" for k in range(len(v))],
            "referral_date": date(v["queued"]),
            "source": v["client_id"].map(client["source"]).to_numpy(),
            "age_group": v["client_id"].map(client["age_group"]).to_numpy(),
            "waitlist_date": date(v["queued"].where(waited)),
            "waitlist_exit_date": date(v["left"].where(without)),
            "iop_start_date": date(v["admitted"]),
            "iop_end_date": date(v["left"].where(placed)),
            "level": v["level"].to_numpy(),
            "discharged_to": v["to"].where(~v["to"].isin(["discharge"]), "").to_numpy(),
            # why the stay ended, in the extract's codes (a step-up is "escalated")
            "discharge_reason": v["reason"]
            .replace({"stepped_up": "escalated"})
            .where(placed & v["left"].notna(), "")
            .to_numpy(),
        }
    )


def _therapist_codes(names: pd.Series) -> pd.Series:
    """Therapists' names as codes T1, T2, ... (in order of first appearance; blank: none)."""
    codes, _ = pd.factorize(names.where(names.notna() & (names != ""), None))
    return pd.Series(np.where(codes >= 0, [f"T{k + 1}" for k in codes], ""), index=names.index)


def _messy(table: pd.DataFrame, rng, tabular: bool = True) -> tuple[pd.DataFrame, str]:
    """The extract as real exports come: renamed columns, local dates, coded reasons, decoy
    identifying columns and a few bad rows; and the map file that reads it. Not
    ``tabular`` (a FHIR bundle's tables): only the codes and the bad rows (the bundle carries
    its own decoys; its columns and dates are FHIR's)."""
    table["assessment_outcome"] = table["assessment_outcome"].map(MESSY_OUTCOMES).fillna("")
    table["discharge_reason"] = table["discharge_reason"].map(MESSY_REASONS).fillna("")
    text = _as_text(table, "%d/%m/%Y" if tabular else "%Y-%m-%d")
    if tabular:  # what real exports carry and iopsim must never read or copy
        text.insert(1, "Client Name", [f"Decoy Person {i}" for i in range(len(text))])
        text.insert(2, "Date of Birth", "01/02/1980")
        text["Notes"] = "free text the clinic wrote; never read"
    bad = rng.choice(len(text), size=min(3, len(text)), replace=False)
    if len(bad) == 3:
        text.loc[bad[0], "discharge_reason"] = "???"
        text.loc[bad[1], "referral_date"] = "31/12/2999" if tabular else "2999-12-31"
        text.loc[bad[2], "episode_id"] = text.loc[bad[0], "episode_id"]
    lines = ["# how this clinic's export names things (iopsim fit --map-file)"]
    if tabular:
        text = text.rename(columns=MESSY_HEADINGS)
        lines += ["dayfirst = true", "", "[columns]"]
        lines += [f'{k} = "{v}"' for k, v in MESSY_HEADINGS.items() if k in table]
    lines += ["", "[values.discharge_reason]"]
    lines += [f'"{v}" = "{k}"' for k, v in MESSY_REASONS.items()]
    lines += ["", "[values.assessment_outcome]"]
    lines += [f'"{v}" = "{k}"' for k, v in MESSY_OUTCOMES.items()]
    return text, "\n".join(lines) + "\n"


def _as_text(table: pd.DataFrame, date_format: str) -> pd.DataFrame:
    out = table.copy()
    for column in out.columns:
        if column.endswith("_date"):
            out[column] = out[column].dt.strftime(date_format).fillna("")
    return out.fillna("")


def extract_start(scenario: Scenario) -> pd.Timestamp:
    """The first day of a synthetic extract: the end of the simulated warm-up."""
    monday = pd.Timestamp(clock.week_zero_monday(scenario.start_date))
    return monday + pd.Timedelta(weeks=scenario.warmup_weeks)


def extract_end(scenario: Scenario, years: float) -> pd.Timestamp:
    """The date the synthetic extract was taken: the end of the simulated run."""
    weeks = scenario.warmup_weeks + max(int(round(52 * years)), 1)
    return pd.Timestamp(clock.week_zero_monday(scenario.start_date)) + pd.Timedelta(weeks=weeks)
