"""Changing a scenario's data by dotted key (``--set KEY=VALUE``), with the field names a key may take at each level."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import (
    BaseModel,
)

from simulation.config.base import ScenarioError, _did_you_mean
from simulation.config.paths import _key_parts, item_index, item_labels
from simulation.config.scenario import Scenario

_FREE_KEY_TABLES = {
    ("targets",),
    ("uncertainty",),
}  # tables whose keys the user names (KPI names, checked later)


def _set_path(data: dict, path: str, value: Any) -> None:
    node: Any = data
    walked: list[str | int] = []
    parts = _key_parts(path)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(map(str, parts[:i])) or "the scenario"
        if isinstance(node, list):
            index = item_index(node, part)
            if index is None:
                labels = item_labels(node)
                items = f"items: {', '.join(labels)}" if labels else "it has none"
                hint = _did_you_mean(part, labels)
                raise ScenarioError([f"--set {path}: {where} has no item '{part}'{hint}; {items}"])
            if last:
                node[index] = value
                return
            node, walked = node[index], [*walked, index]
            continue
        if not isinstance(node, dict):
            raise ScenarioError([f"--set {path}: {where} is a value, not a table"])
        if tuple(walked) == ("staff",) and part not in node:
            pools = list(node)
            raise ScenarioError(
                [
                    f"--set {path}: there is no staff pool '{part}'{_did_you_mean(part, pools)}; "
                    f"pools: {', '.join(pools) or 'none'} (an override never creates a pool)"
                ]
            )
        free = (
            tuple(walked) in _FREE_KEY_TABLES
            or tuple(walked) == ("staff",)
            or walked[:1] == ["uncertainty"]  # its keys are dotted scenario keys
        )
        allowed = [] if free else _field_names_at(tuple(walked))
        if not free and part not in node and part not in allowed:
            hint = _did_you_mean(part, allowed)
            raise ScenarioError([f"--set {path}: '{part}' is not a key of {where}{hint}"])
        if last:
            node[part] = value
            if len(walked) == 2 and walked[0] == "staff" and part in ("count", "members"):
                node.pop("members" if part == "count" else "count", None)  # one replaces the other
            return
        node, walked = node.setdefault(part, {}), [*walked, part]


def _models_in(annotation) -> list[type[BaseModel]]:
    """Pydantic model classes reachable from a type annotation (through unions, lists, dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _field_names_at(loc: tuple) -> list[str]:
    """The allowed keys of the table at ``loc`` in a scenario (for 'did you mean')."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        nxt = []
        for model in models:
            field = model.model_fields.get(part) if isinstance(part, str) else None
            if field is not None:
                nxt += _models_in(field.annotation)
            else:  # a list index, dict key or union tag: stay on the same models
                nxt.append(model)
        models = nxt
    names: list[str] = []
    for model in models:
        names += [n for n in model.model_fields if n not in names]
    return names
