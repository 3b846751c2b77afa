"""The recorder: what happened, kept cheaply during the run and turned into tables after it.

During the run it appends plain tuples (attendance, busy time, sessions) and keeps
time-weighted monitors of every waitlist and census; pandas is used only once the run is over.
The event log follows the vidigi convention (``run_number, entity_id, event_type, event, time,
resource_id, pathway``) so animation and process-mining tools can read it directly.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from simulation.clock import HOURS_PER_WEEK

STATUSES = (
    "intake_waitlist",
    "in_assessment",
    "authorisation",
    "evaluation",
    "iop_waitlist",
    "iop",
    "blocked",
    "op_waitlist",
    "op",
    "level",
)
"""Statuses a client can be in while still on the clinic's books (each has a monitor);
"level": waiting for or holding a place at a level of care beside the IOP (config/levels.py)."""

FINAL_STATUSES = ("discharged", "lost", "turned_away", "referred_on", "transferred")
"""How a client leaves the books; "transferred": from a level of care back to the IOP as a
new episode (the first episode's record ends there)."""

BLOCKING = ("blocked_any", "blocked_by_seats", "blocked_by_caseload", "blocked_by_cohort")
"""0/1 monitors: someone waits for an IOP place that cannot be given, and why (several
reasons can hold at once: one age group may lack seats while another lacks a therapist)."""


SESSION_COLUMNS = {
    "track": "str",
    "time": "float",
    "week": "int",
    "held": "bool",
    "cancelled": "bool",
    "attendees": "int",
    "enrolled": "int",
    "room": "str",
    "facilitators": "str",
    "outcome": "str",
}
"""The columns of the session table and their types."""


class Monitor:
    """A piecewise-constant quantity over time (a queue length, a census)."""

    def __init__(self) -> None:
        self.value = 0
        self.times: list[float] = [0.0]
        self.values: list[int] = [0]

    def add(self, t: float, delta: int) -> None:
        self.set(t, self.value + delta)

    def set(self, t: float, value: int) -> None:
        """The quantity is ``value`` from time ``t`` on."""
        if value == self.value:
            return
        self.value = value
        if self.times[-1] == t:
            self.values[-1] = self.value
        else:
            self.times.append(t)
            self.values.append(self.value)

    def bin_means(self, edges: np.ndarray) -> np.ndarray:
        """Time-weighted mean between consecutive ``edges``."""
        t = np.asarray(self.times)
        v = np.asarray(self.values, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(v[:-1] * np.diff(t))])
        i = np.searchsorted(t, edges, side="right") - 1
        area = cum[i] + v[i] * (edges - t[i])
        return np.diff(area) / np.diff(edges)

    def max_between(self, start: float, end: float) -> float:
        t = np.asarray(self.times)
        v = np.asarray(self.values)
        first = max(np.searchsorted(t, start, side="right") - 1, 0)
        last = np.searchsorted(t, end, side="left")
        return float(v[first:last].max()) if last > first else float(v[first])


class Recorder:
    """Collects a replication's raw records."""

    def __init__(self) -> None:
        self.clients: list = []
        self.monitors: dict[str, Monitor] = {
            name: Monitor() for name in (*STATUSES, "seats_held", *BLOCKING, "caseload_held")
        }
        self.attendance: list[tuple[int, float, str, float]] = []
        self.absences: list[tuple[int, float]] = []  # (client, time) missed a group session
        self.busy_log: list[tuple[str, float, float, str]] = []
        self.sessions: list[tuple] = []
        self.appointments: list[tuple[str, float, bool]] = []  # kind, time due, booked?
        self.medication_delays: list[tuple[float, float]] = []  # start, hours after it was due
        self.indirect_log: list[tuple[str, float, float, str]] = []  # documentation booked
        self.documentation_unbooked = 0.0  # hours of notes that found no time that day
        self.turned_away: list[tuple[float, int]] = []  # (time, clients) from full groups
        self.claims = None  # with payers: every claim, kept by the weekly table for the KPIs
        self.reassigned: list[tuple[float, bool]] = []  # a leaver's client: time, new clinician?
        self.employment: list = []  # (person, pool, first week, week gone, agency locum?)
        self.level_visits: list[dict] = []  # a stay at a level of care (model/levels.py)
        # (client id, level, time, hours): a day of a level's programme attended
        self.level_attendance: list[tuple[int, str, float, float]] = []

    def add_monitor(self, name: str) -> None:
        """A monitor of one more series (a level's census, waitlist, blocked)."""
        self.monitors.setdefault(name, Monitor())

    # -- during the run ----------------------------------------------------------------------
    def move(self, client, status: str, t: float) -> None:
        """Client changes status; waitlist and census monitors follow."""
        old = client.status
        if old in self.monitors:
            self.monitors[old].add(t, -1)
        if status in self.monitors:
            self.monitors[status].add(t, +1)
        client.status = status

    def seats(self, t: float, delta: int) -> None:
        self.monitors["seats_held"].add(t, delta)

    def attended(self, client_id: int, t: float, kind: str, hours: float) -> int:
        self.attendance.append((client_id, t, kind, hours))
        return len(self.attendance) - 1

    def all_attended(self, client_ids: list[int], t: float, kind: str, hours: float) -> None:
        """Several clients attended one session (a group)."""
        self.attendance.extend([(cid, t, kind, hours) for cid in client_ids])

    def busy(self, resource: str, start: float, end: float, activity: str) -> int:
        self.busy_log.append((resource, start, end, activity))
        return len(self.busy_log) - 1

    def cancel(self, attendance: int | None, busy: list[int]) -> None:
        """Take back what was recorded for an appointment that will not happen."""
        if attendance is not None:
            self.attendance[attendance] = None
        for i in busy:
            self.busy_log[i] = None

    def indirect(self, person: str, start: float, end: float, activity: str) -> None:
        """Time at work that is not with clients (documentation)."""
        self.indirect_log.append((person, start, end, activity))

    def session(
        self, track, t, week, held, cancelled, attendees, enrolled, room, facilitators, outcome=""
    ) -> None:
        """A timetabled session: held, cancelled (no facilitator), or neither (nobody enrolled,
        closed, too few came, merged); ``outcome`` says which."""
        outcome = outcome or ("held" if held else "cancelled" if cancelled else "empty")
        self.sessions.append(
            (track, t, week, held, cancelled, attendees, enrolled, room, facilitators, outcome)
        )

    def appointment(self, kind: str, t: float, booked: bool, track: str = "") -> int:
        """An appointment due in the week from ``t``, booked or not, of a client of ``track``
        (an IOP track; none for outpatient care)."""
        self.appointments.append((kind, t, booked, track))
        return len(self.appointments) - 1

    def booked_later(self, index: int) -> None:
        """An appointment counted unbooked found a slot after all (a cancellation list)."""
        kind, t, _, track = self.appointments[index]
        self.appointments[index] = (kind, t, True, track)

    # -- after the run -----------------------------------------------------------------------
    def client_table(self) -> pd.DataFrame:
        """One row per referral. Text columns are plain Python strings (object dtype): the
        results compare and group them many times, which is several times quicker on plain
        objects than on pandas' Arrow strings; ``as_text`` turns a finished table's text
        columns into pandas' own string type."""
        from simulation.model.pathway import Client

        kinds = [(f.name, f.type) for f in fields(Client) if not f.name.startswith("_")]
        people = self.clients
        return pd.DataFrame(
            {name: column([getattr(c, name) for c in people], kind) for name, kind in kinds}
        )

    def attendance_table(self) -> pd.DataFrame:
        """Every attended session or appointment: client, time, kind (plain strings, as in
        ``client_table``), hours."""
        rows = [r for r in self.attendance if r is not None]
        return pd.DataFrame(
            {
                "client_id": np.array([r[0] for r in rows], dtype=np.int64),
                "time": np.array([r[1] for r in rows], dtype=float),
                "kind": column([r[2] for r in rows], "str"),
                "hours": np.array([r[3] for r in rows], dtype=float),
            }
        )

    def group_attendance_table(self, attendance: pd.DataFrame) -> pd.DataFrame:
        """Every group session a client was expected at, as a clinic's attendance records
        keep them: client, time, attended (a session they came to that merged counts once)."""
        came = attendance.loc[attendance["kind"] == "group", ["client_id", "time"]]
        missed = pd.DataFrame(self.absences, columns=["client_id", "time"])
        table = pd.concat([came.assign(attended=True), missed.assign(attended=False)])
        return table.sort_values(["time", "client_id"], kind="stable").reset_index(drop=True)

    def busy_table(self) -> pd.DataFrame:
        rows = [r for r in self.busy_log if r is not None]
        return pd.DataFrame(rows, columns=["resource", "start", "end", "activity"])

    def indirect_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.indirect_log, columns=["resource", "start", "end", "activity"])

    def session_table(self) -> pd.DataFrame:
        """Every timetabled session (text as plain strings, as in ``client_table``)."""
        kinds = SESSION_COLUMNS
        rows = self.sessions
        return pd.DataFrame(
            {
                name: column([r[i] for r in rows], kind)
                for i, (name, kind) in enumerate(kinds.items())
            }
        )

    def appointment_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.appointments, columns=["kind", "time", "booked", "track"])

    def appointment_arrays(self) -> dict[str, np.ndarray]:
        """The appointments due as numpy columns: kind, time, booked, track."""
        rows = self.appointments
        return {
            "kind": np.array([a[0] for a in rows], dtype=object),
            "time": np.array([a[1] for a in rows], dtype=float),
            "booked": np.array([a[2] for a in rows], dtype=bool),
            "track": np.array([a[3] for a in rows], dtype=object),
        }


_DTYPES = {"float": float, "int": np.int64, "bool": bool}


def column(values, kind: str):
    """A table column from values of one type (a list or an array; ``kind``: the type's name,
    as a dataclass field gives it): numbers as numpy arrays, text as plain Python strings."""
    if kind in _DTYPES:
        return np.array(values, dtype=_DTYPES[kind])
    return pd.Series(values, dtype=object)


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its plain-string (object) columns in pandas' own string type, as a result
    table is written and shown (a recorder's tables keep plain strings while they are used)."""
    text = [n for n, dtype in table.dtypes.items() if pd.api.types.is_object_dtype(dtype)]
    if not text:
        return table
    out = table.copy()
    for name in text:  # (column by column: quicker than astype with a dict of them)
        out[name] = pd.array(table[name].to_numpy(dtype=object), dtype="str")
    return out


def _group_index(resources, group_of: dict[str, str], groups: list[str]) -> np.ndarray:
    """The position in ``groups`` of each resource's group (-1: none reported)."""
    position = {g: i for i, g in enumerate(groups)}
    at, names = pd.factorize(np.asarray(resources, dtype=object))  # (hashed: no sort)
    index = np.array([position.get(group_of.get(r, r), -1) for r in names], dtype=int)
    return index[at] if len(at) else np.zeros(0, dtype=int)


def busy_by_week(log: list, group_of: dict[str, str], groups: list[str], weeks: int) -> np.ndarray:
    """Busy hours per group (pool or room) per week, an array (groups x weeks), from a log of
    (resource, start, end, activity) rows (None: taken back); intervals that cross Sunday
    midnight are split between the two weeks."""
    out = np.zeros((len(groups), weeks))
    rows = [r for r in log if r is not None]
    if not rows:
        return out
    g = _group_index([r[0] for r in rows], group_of, groups)
    start = np.array([r[1] for r in rows], dtype=float)
    end = np.array([r[2] for r in rows], dtype=float)
    w0 = (start // HOURS_PER_WEEK).astype(int)
    w1 = ((end - 1e-9) // HOURS_PER_WEEK).astype(int)
    for w in range(int((w1 - w0).max()) + 1):  # 0 or 1 extra week for any real session
        week = w0 + w
        lo = np.maximum(start, week * HOURS_PER_WEEK)
        hi = np.minimum(end, (week + 1) * HOURS_PER_WEEK)
        keep = (hi > lo) & (g >= 0) & (week < weeks)
        np.add.at(out, (g[keep], week[keep]), (hi - lo)[keep])
    return out


def busy_by_hour_of_week(
    busy: pd.DataFrame,
    group_of: dict[str, str],
    groups: list[str],
    from_time: float,
    to_time: float,
) -> np.ndarray:
    """Mean busy hours in each of the 168 hours of the week per group, over a period."""
    out = np.zeros((len(groups), 168))
    busy = busy[(busy["end"] > from_time) & (busy["start"] < to_time)]
    if busy.empty:
        return out
    weeks = max((to_time - from_time) / HOURS_PER_WEEK, 1e-9)
    g = _group_index(busy["resource"].to_numpy(dtype=object), group_of, groups)
    start = np.maximum(busy["start"].to_numpy(), from_time)
    end = np.minimum(busy["end"].to_numpy(), to_time)
    first = np.floor(start)
    for k in range(int(np.ceil((end - first).max())) + 1):
        h = first + k
        overlap = np.minimum(end, h + 1) - np.maximum(start, h)
        keep = (overlap > 0) & (g >= 0)
        np.add.at(out, (g[keep], (h[keep] % HOURS_PER_WEEK).astype(int)), overlap[keep])
    return out / weeks


def event_log(clients: pd.DataFrame, busy: pd.DataFrame, run_number: int) -> pd.DataFrame:
    """The vidigi-style event log: client milestones plus staff and room use."""
    milestone_events = [
        ("referred", "arrival_departure", "arrival"),
        ("intake_start", "resource_use", "intake_assessment_start"),
        ("assessed", "resource_use_end", "intake_assessment_end"),
        ("iop_waitlisted", "queue", "iop_waitlist_join"),
        ("iop_start", "resource_use", "iop_start"),
        ("blocked_from", "queue", "step_down_blocked"),
        ("iop_end", "resource_use_end", "iop_end"),
        ("op_start", "resource_use", "op_start"),
        ("op_end", "resource_use_end", "op_end"),
        ("left", "arrival_departure", "depart"),
    ]
    parts = []
    for column, event_type, event in milestone_events:
        rows = clients[clients[column].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "run_number": run_number,
                    "entity_id": rows["id"].to_numpy(),
                    "event_type": event_type,
                    "event": event,
                    "time": rows[column].to_numpy(dtype=float),
                    "resource_id": rows["track"].to_numpy() if "iop" in column else "",
                    "pathway": rows["source"].to_numpy(),
                    "status": rows["status"].to_numpy(),
                }
            )
        )
    for event_type, column in (("resource_use", "start"), ("resource_use_end", "end")):
        parts.append(
            pd.DataFrame(
                {
                    "run_number": run_number,
                    "entity_id": -1,
                    "event_type": event_type,
                    "event": busy["activity"].to_numpy(),
                    "time": busy[column].to_numpy(),
                    "resource_id": busy["resource"].to_numpy(),
                    "pathway": "staff_and_rooms",
                    "status": "",
                }
            )
        )
    log = pd.concat(parts, ignore_index=True)
    return log.sort_values(["time", "entity_id"], kind="stable").reset_index(drop=True)
