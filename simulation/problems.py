"""Errors that list what is wrong, one line per problem, for a person to read."""

from __future__ import annotations


class ProblemsError(Exception):
    """Input that cannot be used; ``problems`` has one line per problem (``source``: where)."""

    what = "the input"

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(problems))

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        return f"{head}{n} problem{'s' if n != 1 else ''} in {self.what}:\n{lines}"
