"""What products asks of the apps above it, answered at startup (their AppConfig.ready()).

Sorotan is sold only to a companion with no open safety report; reports belong to safety, above products:
safety registers `open_safety_report`. With nothing registered (products tested alone) nobody has one; a test
asserts the real app registers it."""

from collections.abc import Callable

_open_report: list[Callable[..., bool]] = []


def register_open_safety_report(check: Callable[..., bool]) -> None:
    """`check(user) -> bool`: the person is the subject of a safety report our team has not closed."""
    _open_report[:] = [check]


def open_safety_report(user) -> bool:
    return bool(_open_report) and _open_report[0](user)


def registered() -> dict[str, tuple]:
    return {"open_safety_report": tuple(_open_report)}
