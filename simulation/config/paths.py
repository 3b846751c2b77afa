"""Dotted keys into a scenario's data (``staff.therapists.count``): reading a value and parsing the text of one."""

from __future__ import annotations

import tomllib
from typing import Any

LABELS = ("name", "to", "reason")
"""What a list item is called in a key: its name; an item without one (a level's routes) by
its destination, or by its reason where several go to one destination."""


def item_index(items: list, label: str) -> int | None:
    """The position of the item of ``items`` that ``label`` names (``LABELS``: the first field
    in which exactly that one item has the label; a name is unique), or a position written
    as a number; None if it names none, or more than one."""
    for field in LABELS:
        found = [i for i, x in enumerate(items) if isinstance(x, dict) and x.get(field) == label]
        if len(found) == 1 or (found and field == "name"):
            return found[0]
    if label.isdigit() and int(label) < len(items):
        return int(label)
    return None


def item_labels(items: list) -> list[str]:
    """How each item of ``items`` can be named in a key (see ``item_index``)."""
    labels = []
    for i, x in enumerate(items):
        names = [x.get(f) for f in LABELS] if isinstance(x, dict) else []
        label = next((n for n in names if n is not None and item_index(items, n) == i), i)
        labels.append(str(label))
    return labels


def value_at(data: dict, key: str) -> Any:
    """The value at a dotted key (list items by ``item_index``), or KeyError naming what is
    missing."""
    node: Any = data
    for part in _key_parts(key):
        if isinstance(node, list):
            index = item_index(node, part)
            if index is None:
                raise KeyError(f"no item '{part}' (items: {', '.join(item_labels(node))})")
            node = node[index]
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
