"""The rule registry: every rule class by code, and selection by code or prefix.

Codes are a family prefix plus digits (``NDC-004``), so ``--select NDC`` picks a whole family
and ``--ignore JWZ-004`` a single rule, as in ruff. Registration is explicit (each family
module lists its classes) and a duplicate code is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from edi837.rules.base import Rule, document


class UnknownRuleError(ValueError):
    """A selection names a code or prefix no rule has."""


def matches(code: str, pattern: str) -> bool:
    """``NDC`` matches every NDC rule, ``NDC-00`` the first nine, ``NDC-004`` one; ``ALL`` all."""
    pattern = pattern.strip().upper()
    return pattern == "ALL" or code == pattern or code.startswith(pattern)


class Registry:
    """All known rules, in catalogue order."""

    def __init__(self, classes: Iterable[type[Rule]]) -> None:
        self._rules: dict[str, Rule] = {}
        for cls in classes:
            if not cls.code:
                raise ValueError(f"{cls.__name__} is not named by a rule code")
            if cls.code in self._rules:
                raise ValueError(f"rule code {cls.code} is registered twice")
            self._rules[cls.code] = cls()
        self._documented = False

    def _document(self) -> None:
        """Make sure every rule has its summary and sections (see :func:`.base.document`).

        Only the ways that show documentation ask for it: a check selects its rules without.
        """
        if not self._documented:
            for rule in self._rules.values():
                document(type(rule))
            self._documented = True

    def __iter__(self) -> Iterator[Rule]:
        self._document()
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, code: object) -> bool:
        return code in self._rules

    def all(self) -> list[Rule]:
        """Every rule."""
        self._document()
        return list(self._rules.values())

    def get(self, code: str) -> Rule:
        """The rule with exactly this code."""
        self._document()
        try:
            return self._rules[code.upper()]
        except KeyError:
            raise UnknownRuleError(f"no rule has the code {code!r}") from None

    def validate(self, patterns: Iterable[str]) -> None:
        """Refuse a pattern that selects nothing (a typo would silently disable checks)."""
        for pattern in patterns:
            if not any(matches(code, pattern) for code in self._rules):
                raise UnknownRuleError(f"no rule code starts with {pattern!r}")

    def selected(self, select: list[str] | None, ignore: Iterable[str] = ()) -> list[Rule]:
        """The rules that ``select`` (default: all) picks and ``ignore`` does not drop."""
        ignore = list(ignore)
        self.validate(list(select or []) + ignore)
        return [
            rule
            for code, rule in self._rules.items()
            if (select is None or any(matches(code, p) for p in select))
            and not any(matches(code, p) for p in ignore)
        ]
