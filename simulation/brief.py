"""The decision brief: a run, comparison or plan answered in sentences and a few numbers, for a
director to read in a minute and print on one page.

A brief is a list of (heading, sentences). Every number in it is taken from the same summary
the KPI table shows (mean and 95% CI), formatted the same way, so the brief and summary.csv
never disagree. It says: whether each target is met, and for whom not (tracks, age groups,
sources); what limits admissions; flow and losses; whether clients get their hours and
appointments; what it costs and earns; and, when a sensitivity run is given, which
assumptions the answer hinges on.
"""

from __future__ import annotations

import math

import pandas as pd

from simulation import results
from simulation.config import MONEY_KEYS
from simulation.kpis import DECISION, describe, fmt, fmt_with_ci, split_group

Brief = list[tuple[str, list[str]]]


def _value(by: pd.DataFrame, kpi: str, column: str = "mean") -> float:
    return float(by.loc[kpi, column]) if kpi in by.index else math.nan


def _with_ci(by: pd.DataFrame, kpi: str) -> str:
    unit = describe(kpi).unit
    mean, low, high = (_value(by, kpi, c) for c in ("mean", "ci_low", "ci_high"))
    shown = fmt_with_ci(mean, low, high, unit, weeks=False)
    counted = "n" in by
    n, total = (_value(by, kpi, "n"), by["n"].max()) if counted else (math.nan, math.nan)
    if 0 < n < total:  # (the others had no one it is about)
        shown += f" [from {n:.0f} of {total:.0f} replications]"
    return shown


def target_sentences(summary: pd.DataFrame, targets: list[tuple[str, str, float]]) -> list[str]:
    """Each target met or not with its value; the groups (tracks, age groups, sources,
    payers) whose own mean misses it; and a word when only the interval, not the mean, does."""
    if not targets:
        return ["No targets are set (add [targets] to the scenario to have them judged)."]
    by = summary.set_index("kpi")
    table = results.evaluate_targets(summary, targets)
    lines = []
    for (kpi, op, bound), row in zip(targets, table.itertuples(), strict=True):
        unit = describe(kpi).unit
        sign = "≤" if op == "<=" else "≥"
        verdict = {True: "Met", False: "NOT met", None: "No data for"}[row.met]
        few = results.too_few(row)
        if few:
            verdict = "Too few to judge"
        lines.append(
            f"{verdict}: {describe(kpi).description}: {_with_ci(by, kpi)}; target {sign} "
            f"{fmt(bound, unit, weeks=False)}." + (f" ({few[0].upper()}{few[1:]}.)" if few else "")
        )

        def misses(value: float, op=op, bound=bound) -> bool:
            return math.isfinite(value) and not (value <= bound if op == "<=" else value >= bound)

        mean = _value(by, kpi)
        if row.met is False and not misses(mean):
            lines.append(
                "  The mean meets it, but its 95% interval reaches past it: more replications "
                "would tell."
            )
        missed = []
        for name in by.index:
            base, group = split_group(name)
            if base == kpi and group is not None and misses(_value(by, name)):
                who = group.replace("_", " ").replace("=", " ")
                missed.append(f"{who} ({fmt(_value(by, name), unit, weeks=False)})")
        if missed:
            lines.append("  Missed on average for: " + "; ".join(missed) + ".")
    return lines


CARE = (
    "client_weeks_meeting_hours_share",
    "individual_sessions_unbooked_share",
    "medication_visits_unbooked_share",
    "evaluated_in_time_share",
    "sessions_cancelled_share",
)
"""What clients get once in care, in the brief's order: the hours rule, their appointments,
their evaluation, their groups."""

GROUP_GAP = 0.05  # a group whose hours share is this far under the whole is named


def care_sentences(by: pd.DataFrame) -> list[str]:
    """Do clients get their hours: the share of full client-weeks meeting the hours rule (and
    the group furthest under it), the appointments that found no slot, evaluations in time
    and cancelled groups, each as the summary has it."""
    lines = []
    for kpi in CARE:
        value = _value(by, kpi)
        if not math.isfinite(value) or (kpi == "sessions_cancelled_share" and value == 0):
            continue
        line = f"{describe(kpi).description}: {_with_ci(by, kpi)}."
        lines.append(line + _worst_group(by, kpi, value))
    return lines


def _worst_group(by: pd.DataFrame, kpi: str, whole: float) -> str:
    """The group of clients (a track, an age group, ...) furthest on the wrong side of the
    whole, when GROUP_GAP or more from it: " Lowest: track evening (41%).", or "Highest"
    for a KPI where lower is better; else nothing."""
    higher = describe(kpi).better == "higher"
    groups = [
        (_value(by, name) if higher else -_value(by, name), group)
        for name in by.index
        for base, group in [split_group(name)]
        if base == kpi and group is not None and math.isfinite(_value(by, name))
    ]
    if not groups:
        return ""
    worst, group = min(groups)
    if (whole - worst if higher else -worst - whole) < GROUP_GAP:
        return ""
    who = group.replace("_", " ").replace("=", " ")
    share = worst if higher else -worst
    return f" {'Lowest' if higher else 'Highest'}: {who} ({fmt(share, 'share')})."


ENDINGS = (
    ("completion_share", "completed"),
    ("dropout_share", "dropped out"),
    ("escalation_share", "escalated"),
    ("authorisation_ended_share", "ended when a payer's review refused an extension"),
)
"""How IOP stays end, in the brief's order; what they leave is transfers and other reasons."""


def stays_sentence(by: pd.DataFrame) -> list[str]:
    """How the period's IOP stays ended (completed, dropped out, escalated, cut short by a
    payer's review, other) and how long they lasted; with reviews, the payer that refused
    most: a payer whose reviews end half the stays changes completion, revenue and who the
    clinic can serve, and the director must read it, not find it in the exit chart."""
    shares = [(_value(by, kpi), words) for kpi, words in ENDINGS]
    if not all(math.isfinite(v) for v, _ in shares[:3]):
        return []  # (no stay ended in the period)
    shown = [f"{fmt(v, 'share')} {words}" for v, words in shares if math.isfinite(v) and v > 0]
    rest = 1.0 - sum(v for v, _ in shares if math.isfinite(v))
    if rest > 0.0005:
        shown.append(f"{fmt(rest, 'share')} transferred or for other reasons")
    line = f"IOP stays ended: {', '.join(shown)}"
    stay = _value(by, "iop_length_of_stay_days_mean")
    if math.isfinite(stay):
        line += f"; {fmt(stay, 'days', weeks=False)} in the IOP on average"
    line += "."
    ended = _value(by, "authorisation_ended_share")
    if math.isfinite(ended) and ended > 0:
        refused = [
            (_value(by, name), group.removeprefix("payer="))
            for name in by.index
            for base, group in [split_group(name)]
            if base == "extensions_refused_share" and group is not None
        ]
        refused = sorted((v, g) for v, g in refused if math.isfinite(v) and v > 0)
        if refused:
            most, payer = refused[-1]
            line += (
                f" Payer {payer} refused an extension to {fmt(most, 'share')} of its clients "
                "(authorised_days, extension_days and extension_probability in [[payers]])."
            )
    return [line]


def about_money(note: str) -> bool:
    """A scenario's warning about a cost it leaves out (its key comes first)."""
    key = note.split(":", 1)[0]
    return any(name in key for name in MONEY_KEYS)


def run_brief(
    summary: pd.DataFrame,
    targets: list[tuple[str, str, float]],
    notes: list[str] = (),
    hinges: list[str] | None = None,
    fix: list[str] | None = None,
) -> Brief:
    """The brief of one run (``hinges``: findings of a sensitivity run of this scenario;
    ``fix``: the recommendation of a plan run on it)."""
    by = summary.set_index("kpi")
    flow = []
    if "admissions_per_week" in by.index:
        flow.append(
            f"Admitted {_with_ci(by, 'admissions_per_week')} from "
            f"{_with_ci(by, 'referrals_per_week')} referrals; "
            f"{fmt(_value(by, 'lost_before_assessment_share'), 'share')} lost before assessment "
            f"and {fmt(_value(by, 'lost_from_iop_waitlist_share'), 'share')} from the IOP waitlist."
        )
    if "referral_to_iop_days_mean" in by.index:
        flow.append(
            f"Waits as clients live them: {_with_ci(by, 'referral_to_iop_days_mean')} from "
            f"referral to the first IOP day on average, 9 in 10 within "
            f"{fmt(_value(by, 'referral_to_iop_days_p90'), 'days', weeks=False)}. Of that, "
            f"referral to assessment {_with_ci(by, 'wait_to_intake_days_mean')} "
            f"(p90 {fmt(_value(by, 'wait_to_intake_days_p90'), 'days', weeks=False)}) and "
            f"assessment to the first IOP day {_with_ci(by, 'wait_to_iop_days_mean')} "
            f"(p90 {fmt(_value(by, 'wait_to_iop_days_p90'), 'days', weeks=False)})."
        )
    flow += stays_sentence(by)
    waiting = _value(by, "referrals_waiting_at_end_share")
    if math.isfinite(waiting) and waiting > 0.05:
        flow.append(
            f"{fmt(waiting, 'share')} of the period's referrals were still waiting when the run "
            "ended (shares of losses count only those whose fate is known)."
        )
    flow += [note for note in notes if not about_money(note)]
    money = []
    if "revenue_per_week" in by.index:
        money.append(
            f"Revenue {_with_ci(by, 'revenue_per_week')}, cost {_with_ci(by, 'cost_per_week')}, "
            f"margin {_with_ci(by, 'margin_per_week')}."
        )
        money += [note for note in notes if about_money(note)]
    staff = []
    for kpi in ("therapist_utilisation", "intake_utilisation", "room_utilisation"):
        if kpi in by.index and math.isfinite(_value(by, kpi)):
            staff.append(f"{describe(kpi).description}: {_with_ci(by, kpi)}.")
    brief: Brief = [
        ("Targets", target_sentences(summary, targets)),
        ("What limits admissions", results.limiting_factors(summary)[:2]),
        ("Flow", flow),
        ("Levels of care", results.level_sentences(summary)),
        ("Care clients get", care_sentences(by)),
        ("Staff and rooms", staff),
        ("Money", money),
    ]
    if fix:
        brief.append(("The cheapest fix (from a plan)", list(fix)))
    if hinges:
        brief.append(("What the answer hinges on", list(hinges)))
    else:
        brief.append(
            (
                "What the answer hinges on",
                [
                    "Not measured for this run: iopsim sensitivity shows which assumptions move "
                    "these answers (iopsim dashboard RUN --sensitivity FOLDER adds them here, "
                    "and --plan FOLDER the cheapest fix a plan found)."
                ],
            )
        )
    return [(h, lines) for h, lines in brief if lines]


def as_markdown(title: str, brief: Brief) -> str:
    out = [f"# {title}", ""]
    for heading, lines in brief:
        out += [f"## {heading}", ""]
        out += [
            f"- {line.strip()}" if not line.startswith("  ") else f"  - {line.strip()}"
            for line in lines
        ]
        out.append("")
    return "\n".join(out)


def compare_brief(
    table: pd.DataFrame,
    labels: list[str],
    targets: list[tuple[str, str, float]],
    climbing: dict[str, list[str]] | None = None,
) -> Brief:
    """Each scenario against the first: targets met, and the differences that are clear of
    chance (paired 95% CI excluding zero) in the measures a director weighs; ``climbing``:
    each scenario's queues that climb without end (``results.overloaded_queues``), said first."""
    from simulation.kpis import fmt_signed

    lines = []
    for label in labels:
        rows = table[table["scenario"] == label]
        summary = rows[["kpi", "mean", "ci_low", "ci_high"]]
        met = results.evaluate_targets(summary, targets)["met"] if targets else pd.Series([])
        told = f"{int((met == True).sum())} of {len(targets)} targets met" if targets else ""  # noqa: E712
        queues = (climbing or {}).get(label)
        if queues:
            lines.append(
                f"OVERLOADED in {label}: the {' and the '.join(queues)} climbs without end, so "
                "its waits depend on how long the run is and mean little."
            )
        if label == labels[0]:
            lines.append(f"{label} (the reference)" + (f": {told}." if told else "."))
            continue
        clear, unclear = [], []
        by = rows.set_index("kpi")
        for kpi in DECISION:
            if kpi not in by.index:
                continue
            r = by.loc[kpi]
            unit = describe(kpi).unit
            d, low, high = r["difference"], r["difference_ci_low"], r["difference_ci_high"]
            if not math.isfinite(d):
                continue
            change = f"{100 * d:+.1f} points" if unit == "share" else fmt_signed(d, unit)
            text = f"{describe(kpi).description}: {change} (to {fmt(r['mean'], unit, weeks=False)})"
            (clear if (low > 0 or high < 0) else unclear).append(text)
        sentence = f"{label}" + (f": {told}" if told else "")
        sentence += "; clearly different: " + ("; ".join(clear) if clear else "nothing") + "."
        lines.append(sentence)
        if unclear:
            lines.append("  Within chance: " + "; ".join(unclear) + ".")
    return [
        ("Scenarios against the first", lines),
        (
            "How to read it",
            [
                "Differences are paired by replication (the same referrals arrive in each "
                "scenario); 'clearly' means the 95% interval of the difference excludes zero."
            ],
        ),
    ]


def plan_brief(lines: list[str]) -> Brief:
    """The plan's outcome (the lines ``iopsim plan`` prints) as a brief: the recommendation
    and what it costs first, then how it was found."""
    answer = [
        x
        for x in lines
        if x.startswith(("Recommended", "Runner-up", "    ", "Robust", "No "))
        or "every target holds in" in x
    ]
    how = [x for x in lines if x not in answer]
    return [
        ("The cheapest capacity that meets the targets", answer or ["Nothing meets them."]),
        ("How it was found", how),
    ]
