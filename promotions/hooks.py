"""What promotions asks of the apps above it, answered by them at startup (their AppConfig.ready()).

The referral programme refuses a reward when the friend shares the referrer's bank account number. Bank
accounts belong to payments, which sits above promotions: payments registers `bank_numbers` here. With
nothing registered (promotions tested alone) nobody shares a number; a test asserts the real app registers it."""

from collections.abc import Callable

_bank_numbers: list[Callable[..., set[str]]] = []


def register_bank_numbers(provider: Callable[..., set[str]]) -> None:
    """`provider(user) -> {account numbers}`: every bank account number the person gave us (payout account,
    refund details). One provider: a second registration replaces the first."""
    _bank_numbers[:] = [provider]


def bank_numbers(user) -> set[str]:
    if not _bank_numbers or getattr(user, "pk", None) is None:
        return set()
    return {number for number in _bank_numbers[0](user) if number}


def registered() -> dict[str, tuple]:
    return {"bank_numbers": tuple(_bank_numbers)}
