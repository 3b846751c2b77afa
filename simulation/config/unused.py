"""Values a scenario holds that nothing in it uses: the finance table's rates and billable-day
rule beside [[payers]] (every client pays by their payer's), the family sessions' length
when none are held, medication reviews' when no client needs medication, intake's when
referrals skip it. Changing one changes no number, so a planner must be told, not shown a
run, a sensitivity or a plan that it did nothing."""

from __future__ import annotations

from simulation.config.demand import Intake
from simulation.config.scenario import Scenario

PAID_BY_PAYERS = (
    "finance.iop_per_diem",
    "finance.iop_per_diem_4plus",
    "finance.op_session_rate",
    "finance.billable_day",
)
"""The finance table's keys that every client's payer replaces when there are [[payers]]
(each referral, a state's clients and readmissions included, is given a payer)."""


def unused_keys(scenario: Scenario) -> dict[str, str]:
    """Each dotted key the scenario holds that nothing uses, with why (a key's sub-keys, such
    as ``finance.billable_day.min_hours``, are unused with it: see ``why_unused``)."""
    out = {}
    if scenario.payers:
        for key in PAID_BY_PAYERS:
            name = key.removeprefix("finance.")
            out[key] = (
                f"with [[payers]] every client pays by their payer's {name.replace('_', ' ')} "
                f"(payers.<name>.{name}), so no client pays the finance table's"
            )
    if not scenario.iop.family_session_interval_weeks:
        out["iop.family_session_hours"] = (
            "iop.family_session_interval_weeks is 0, so no family session is held"
        )
    if scenario.iop.medication_share == 0:  # (an evaluation for a payer is a first visit)
        for key in ("iop.medication_review_hours", "iop.medication_interval_weeks"):
            out[key] = "iop.medication_share is 0, so no client has medication reviews"
    if not scenario.intake.enabled:
        for name in Intake.model_fields:
            if name != "enabled":
                out[f"intake.{name}"] = (
                    "intake.enabled is false, so referrals join the IOP waitlist with no assessment"
                )
    return out


def why_unused(scenario: Scenario, key: str) -> str | None:
    """Why ``key`` (or the table it is in) is used by nothing, or None if it may be used."""
    for unused, why in unused_keys(scenario).items():
        if key == unused or key.startswith(unused + "."):
            return why
    return None


def finance_rate_warnings(scenario: Scenario) -> list[str]:
    """The finance table's rates set to what no payer pays, beside [[payers]]: someone who
    changes finance.iop_per_diem to see a higher per diem gets the same revenue, as every
    client pays their payer's (a rate some payer pays, such as the defaults the baseline's
    commercial payer pays, is not warned of). Each line starts with the key."""
    if not scenario.payers:
        return []
    notes = []
    for key in PAID_BY_PAYERS:
        name = key.removeprefix("finance.")
        value = getattr(scenario.finance, name)
        theirs = [getattr(p, name) for p in scenario.payers]
        if value is None or value in theirs:
            continue
        shown = ", ".join(
            f"{p.name} {_show(v)}" for p, v in zip(scenario.payers, theirs, strict=True)
        )
        notes.append(
            f"{key} = {_show(value)}: paid by no client: with [[payers]] every client pays "
            f"their payer's ({shown}); set payers.<name>.{name} to change what the IOP earns"
        )
    return notes


def _show(value) -> str:
    """A value as the scenario file writes it (a table inline)."""
    if hasattr(value, "model_dump"):
        return "{ " + ", ".join(f"{k} = {_show(v)}" for k, v in value.model_dump().items()) + " }"
    if isinstance(value, str):
        return f'"{value}"'
    return "none" if value is None else f"{value:g}"


def unused_change_warnings(scenario: Scenario, keys) -> list[str]:
    """A line for each key a person changes (``--set``, a sweep's or a plan's factor, an
    uncertain input) that nothing in ``scenario`` uses: the runs will not differ by it."""
    notes = []
    for key in dict.fromkeys(keys):
        why = why_unused(scenario, key)
        if why is not None:
            notes.append(f"{key}: changing it changes no number: {why}")
    return notes
