"""The personal-data registry (UU PDP No. 27/2022): each app declares, for its own models, how a person's
data is exported, purged, and kept no longer than its retention period; and what must be finished before
an account may be deleted.

core knows no app: apps register here from their `AppConfig.ready()` (in a module of their own,
`<app>/personal_data.py`), and the privacy app, at the top, runs the export, the purge and the retention
job through this registry only. A test fails when a model with a foreign key to the user (or to the
companion profile, the user's other half), or a model that lists `PERSONAL_FIELDS`, is covered by no
declaration.

- `export(user, ctx)` returns a list of JSON-ready dicts (dates as ISO strings, money as integers); it may
  add files to the archive with `ctx.add_file(name, file)`.
- `purge(user, ctx)` removes or replaces the person's data in its models. It runs inside the one
  transaction of that person's purge, with the person's row locked; stored files are handed to
  `ctx.shred(fieldfile_or_storage_and_name)`, which deletes them only after the transaction commits (and a
  sweep retries what failed), so a rolled-back purge never loses a file and a committed one never keeps
  one. Running it twice changes nothing the second time.
- `kept` says, for the privacy page and the export, what is deliberately kept and why (the books, proof
  of consent), pseudonymised.
- A deletion blocker `blocker(user) -> list[str]` returns what the person must finish first (translated
  sentences, empty when nothing blocks).
- A retention rule `run(now) -> int` deletes or blanks what is older than its period (a setting, in
  days) and returns how many rows or files it touched; running it twice at the same `now` touches nothing
  the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Declaration",
    "ExportContext",
    "PurgeContext",
    "RetentionRule",
    "blockers",
    "declarations",
    "register",
    "register_blocker",
    "register_retention",
    "retention_rules",
]


class ExportContext:
    """What an export function is given: the moment of the export and a way to add files."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.files: list[tuple[str, Any]] = []

    def add_file(self, name: str, file: Any) -> None:
        """Adds a stored file (a FieldFile or anything with `open()`/`read()`) to the archive as `name`."""
        self.files.append((name, file))


class PurgeContext:
    """What a purge function is given: the moment, the pseudonym that replaces the person's names, and a
    way to delete stored files after the commit."""

    def __init__(self, *, now: datetime, pseudonym: str) -> None:
        self.now = now
        self.pseudonym = pseudonym
        self.files: list[tuple[Any, str]] = []

    def shred(self, file: Any, name: str | None = None) -> None:
        """Deletes a stored file once the purge commits: pass a FieldFile, or a storage and a name."""
        if name is None:
            if not file:
                return
            storage, name = file.storage, file.name
        else:
            storage = file
        if name:
            self.files.append((storage, name))


@dataclass(frozen=True)
class Declaration:
    kind: str  # the name of this kind of data in the export ("bookings", "messages", ...)
    models: tuple[str, ...]  # "app_label.ModelName" that this declaration covers
    export: Callable[[Any, ExportContext], list[dict]] | None
    purge: Callable[[Any, PurgeContext], None] | None
    kept: str = ""  # what stays after the purge and why (shown on the privacy page)
    order: int = 100  # purges run in ascending order (children before parents where it matters)


@dataclass(frozen=True)
class RetentionRule:
    name: str
    setting: str  # the settings name of its period in days
    describe: Callable[[], str]  # a translated sentence for the privacy page
    run: Callable[[datetime], int]


@dataclass
class _Registry:
    declarations: dict[str, Declaration] = field(default_factory=dict)
    blockers: list[Callable[[Any], list[str]]] = field(default_factory=list)
    retention: dict[str, RetentionRule] = field(default_factory=dict)


_registry = _Registry()


def register(
    kind: str,
    *,
    models: tuple[str, ...],
    export: Callable[[Any, ExportContext], list[dict]] | None,
    purge: Callable[[Any, PurgeContext], None] | None,
    kept: str = "",
    order: int = 100,
) -> None:
    """Declares one kind of personal data (registering the same kind again replaces it)."""
    _registry.declarations[kind] = Declaration(kind, tuple(models), export, purge, kept, order)


def register_blocker(blocker: Callable[[Any], list[str]]) -> None:
    if blocker not in _registry.blockers:
        _registry.blockers.append(blocker)


def register_retention(name: str, *, setting: str, describe: Callable[[], str], run: Callable[[datetime], int]) -> None:
    _registry.retention[name] = RetentionRule(name, setting, describe, run)


def declarations() -> list[Declaration]:
    """Every declaration, in purge order."""
    return sorted(_registry.declarations.values(), key=lambda item: (item.order, item.kind))


def blockers() -> list[Callable[[Any], list[str]]]:
    return list(_registry.blockers)


def retention_rules() -> list[RetentionRule]:
    return sorted(_registry.retention.values(), key=lambda rule: rule.name)


def covered_models() -> set[str]:
    return {label for declaration in _registry.declarations.values() for label in declaration.models}
