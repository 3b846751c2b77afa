"""User text made safe to show: control characters (escape sequences, BEL, NUL, bidi
overrides) are written out as escapes, never obeyed, wherever a name reaches a person."""

from __future__ import annotations


def shown(text: object, keep: str = "") -> str:
    """``text`` with every non-printable character except those in ``keep`` escaped
    (``\\x1b``, ``\\x00``, ``\\u202e``)."""
    return "".join(ch if ch.isprintable() or ch in keep else repr(ch)[1:-1] for ch in str(text))
