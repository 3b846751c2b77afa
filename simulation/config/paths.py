"""Dotted keys into a scenario's data (``staff.therapists.count``): reading a value and parsing the text of one."""

from __future__ import annotations

import tomllib
from typing import Any


def value_at(data: dict, key: str) -> Any:
    """The value at a dotted key (list items by name), or KeyError naming what is missing."""
    node: Any = data
    for part in _key_parts(key):
        if isinstance(node, list):
            named = {item.get("name"): item for item in node if isinstance(item, dict)}
            if part not in named:
                raise KeyError(f"no item '{part}' (items: {', '.join(map(str, named))})")
            node = named[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"no key '{part}'")
    return node


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as evening is taken as a string


def _split_outside(text: str, separator: str, first_only: bool = False) -> list[str]:
    """``text`` split at ``separator`` where it is not inside quotes or [brackets]."""
    parts, current, quote, depth = [], [], "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif ch == separator and depth == 0:
            parts.append("".join(current))
            if first_only:
                return [*parts, text[i + 1 :]]
            current = []
            continue
        current.append(ch)
    return [*parts, "".join(current)]


def _key_parts(key: str) -> list[str]:
    """'targets."kpi[track=evening]"' -> ['targets', 'kpi[track=evening]']."""
    return [p.strip().strip("\"'") for p in _split_outside(key, ".")]
