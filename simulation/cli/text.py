"""Tables of text for the terminal: headline KPIs, targets, groups, comparisons, plans.

Every function returns lines; commands print them with ``say`` (which escapes control
characters). Widths are kept under 100 columns so a table fits an ordinary terminal.
"""

from __future__ import annotations

from simulation.kpis import HEADLINE, describe, fmt, fmt_signed, fmt_with_ci, kpi_label, split_group


def _row(summary_by_kpi, name):
    return summary_by_kpi.loc[name] if name in summary_by_kpi.index else None


def summary_lines(summary, targets=None, kpis=HEADLINE) -> list[str]:
    """The headline KPIs with their 95% CIs, then the targets, as lines of text."""
    by_kpi = summary.set_index("kpi")
    total = int(summary["n"].max()) if "n" in summary and len(summary) else 0
    lines = []
    for name in kpis:
        row = _row(by_kpi, name)
        if row is None:
            continue
        unit = describe(name).unit
        shown = fmt_with_ci(row["mean"], row["ci_low"], row["ci_high"], unit)
        value, _, ci = shown.partition(" (")
        ci = f"  ({ci}" if ci else ""
        if "n" in row and 0 < row["n"] < total:
            ci += (
                f"  [from {int(row['n'])} of {total} replications: the others had no one to count]"
            )
        lines.append(f"  {describe(name).description:<62} {value:>11}{ci}")
    return lines + few_replications(summary) + target_lines(targets)


FEW_REPLICATIONS = 5
"""Under this many replications, intervals are rough and the output says so."""


def few_replications(summary) -> list[str]:
    """A warning when the intervals rest on too few replications."""
    n = int(summary["n"].max()) if len(summary) else 0
    if n >= FEW_REPLICATIONS:
        return []
    if n <= 1:
        return ["  One replication: no confidence intervals (use --replications 10 or auto)."]
    return [
        f"  Only {n} replications: the intervals are wide and rough (use --replications 10 "
        "or --replications auto before deciding on them)."
    ]


def target_lines(targets) -> list[str]:
    """One line per target, bound and values in the same unit (days stay days)."""
    if targets is None or targets.empty:
        return []
    from simulation.results.summary import too_few  # (pandas: not for --help)

    lines = ["Targets (met only if the whole 95% CI is on the right side):"]
    for row in targets.itertuples():
        unit = describe(row.kpi).unit
        op, _, bound = str(row.target).partition(" ")
        shown = f"{op} {fmt(float(bound), unit, weeks=False)}"
        few = too_few(row)
        if few:
            lines.append(f"  {row.kpi} {shown}: TOO FEW TO JUDGE ({few})")
            continue
        verdict = {True: "MET", False: "NOT MET", None: "no data"}[row.met]
        lines.append(
            f"  {row.kpi} {shown}: {verdict} (mean {fmt(row.value, unit, weeks=False)}, "
            f"worst end of the CI {fmt(row.worst_case, unit, weeks=False)})"
        )
    return lines


GROUP_COLUMNS = (
    ("wait_to_iop_days_p90", "wait p90"),
    ("lost_from_waitlist_share", "gave up"),
    ("iop_census_mean", "in IOP"),
    ("admissions_per_week", "starts/wk"),
    ("client_weeks_meeting_hours_share", "hours met"),
)


def group_lines(summary) -> list[str]:
    """A compact table of the KPIs by track, age group and referral source."""
    by_kpi = summary.set_index("kpi")
    groups: dict[str, dict[str, float]] = {}
    for name in by_kpi.index:
        base, group = split_group(name)
        if group is not None:
            groups.setdefault(group, {})[base] = by_kpi.loc[name, "mean"]
    shown_columns = {k for k, _ in GROUP_COLUMNS}
    groups = {g: v for g, v in groups.items() if shown_columns & set(v)}  # (a level's: none)
    if len(groups) < 2:
        return []
    width = min(max(len(g) for g in groups), 36)
    head = f"  {'group':<{width}} " + " ".join(f"{title:>10}" for _, title in GROUP_COLUMNS)
    lines = ["By group (means; waits and losses of clients referred after the warm-up):", head]
    for group, values in groups.items():
        cells = [fmt(values[k], describe(k).unit) if k in values else "" for k, _ in GROUP_COLUMNS]
        shown = group if len(group) <= width else group[: width - 1] + "~"
        lines.append(f"  {shown:<{width}} " + " ".join(f"{c:>10}" for c in cells))
    return lines


def comparison_lines(table, labels: list[str], kpis=HEADLINE) -> list[str]:
    """The comparison as a table that fits a terminal: one row per KPI, one column per
    scenario; differences to the first (paired 95% CI) under the values, shares in
    percentage points."""
    lines = ["Scenarios:"] + [f"  [{i + 1}] {label}" for i, label in enumerate(labels)]
    width = 13
    lines.append(
        f"  {'indicator':<32}" + "".join(f"{f'[{i + 1}]':>{width}}" for i in range(len(labels)))
    )
    for kpi in kpis:
        rows = table[table["kpi"] == kpi]
        if rows.empty:
            continue
        unit = describe(kpi).unit
        by_label = rows.set_index("scenario")
        values, diffs = [], []
        for i, label in enumerate(labels):
            if label not in by_label.index:
                values.append("")
                diffs.append("")
                continue
            r = by_label.loc[label]
            values.append(fmt(r["mean"], unit))
            if i == 0:
                diffs.append("")
            else:
                diffs.append(_difference(r, unit))
        lines.append(f"  {kpi_label(kpi)[:32]:<32}" + "".join(f"{v:>{width}}" for v in values))
        if any(diffs):
            lines.append(f"  {'':<32}" + "".join(f"{d:>{width}}" for d in diffs))
    lines.append(
        "  (second line: difference to [1]; * when its 95% CI excludes zero; "
        "shares in percentage points)"
    )
    return lines


def _difference(r, unit: str) -> str:
    d, low, high = r["difference"], r["difference_ci_low"], r["difference_ci_high"]
    if d is None or d != d:
        return "n/a"
    star = "*" if (low > 0 or high < 0) else ""
    if unit == "share":
        return f"{'+' if d >= 0 else '-'}{100 * abs(d):.1f} pp{star}"
    return fmt_signed(d, unit) + star
