"""Scenario data as a commented TOML file: every fitted value with its evidence beside it,
every value the data could not inform marked as the template's estimate."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML has no NaN or infinity")
        return repr(round(value, 6))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


toml_value = _value  # one value as TOML text (the studio writes its changes with it)


def _inline(value) -> bool:
    """A value written on one line: scalars, lists of scalars or small tables, flat tables."""
    if isinstance(value, dict):
        return all(not isinstance(v, dict | list) or _flat_list(v) for v in value.values())
    if isinstance(value, list):
        return _flat_list(value)
    return True


def _flat_list(value) -> bool:
    return isinstance(value, list) and all(
        not isinstance(v, dict | list) or (isinstance(v, dict) and _deep_inline(v)) for v in value
    )


def _deep_inline(value) -> bool:
    """A table in a list written on one line, nested tables and lists included (a level's
    routes with their gap distributions): TOML gives a table inside an array of tables no
    header of its own."""
    if isinstance(value, dict):
        return all(_deep_inline(v) for v in value.values())
    if isinstance(value, list):
        return all(_deep_inline(v) for v in value)
    return True


def toml_text(data: dict, comments: dict[str, str], header: list[str]) -> str:
    """``data`` as TOML; ``comments`` maps dotted keys (list items by name) to a comment."""
    lines = [f"# {line}" if line else "" for line in header]
    lines.append("")
    _table(lines, data, [], comments, top=True)
    return "\n".join(lines).rstrip() + "\n"


def _table(
    lines: list[str], table: dict, path: list[str], comments: dict, top: bool = False
) -> None:
    later = []
    for key, value in table.items():
        is_tables = (
            isinstance(value, list)
            and value
            and all(isinstance(v, dict) for v in value)
            and not _flat_simple(value)
        )
        if (
            (isinstance(value, dict) and not _inline(value))
            or is_tables
            or (top and isinstance(value, dict))
        ):
            later.append((key, value))
            continue
        dotted = ".".join([*path, key])
        note = comments.get(dotted, "")
        lines.append(f"{_key(key)} = {_value(value)}" + (f"  # {note}" if note else ""))
    for key, value in later:
        here = [*path, key]
        header = ".".join(_key(k) for k in here)
        if isinstance(value, dict):
            lines += ["", f"[{header}]"]
            _table(lines, value, here, comments)
        else:
            for item in value:
                lines += ["", f"[[{header}]]"]
                named = [*here, str(item.get("name", ""))]
                _table(lines, item, named, comments)


def _flat_simple(items: list) -> bool:
    """Lists of small tables written inline (roster shifts, step changes)."""
    return all(isinstance(v, dict) and "name" not in v and _deep_inline(v) for v in items)
