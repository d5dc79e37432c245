"""Indonesian banks a companion can be paid out to, or a customer refunded to (code → name).
Codes follow the short names Indonesian disbursement APIs use, so a licensed disbursement adapter can
pass them on as they are. Proper names: not translated."""

BANKS: list[tuple[str, str]] = [
    ("bca", "BCA"),
    ("bri", "BRI"),
    ("bni", "BNI"),
    ("mandiri", "Bank Mandiri"),
    ("bsi", "Bank Syariah Indonesia (BSI)"),
    ("cimb", "CIMB Niaga"),
    ("permata", "Bank Permata"),
    ("danamon", "Bank Danamon"),
    ("btn", "BTN"),
    ("ocbc", "OCBC"),
    ("maybank", "Maybank Indonesia"),
    ("panin", "Panin Bank"),
    ("bjb", "Bank BJB"),
    ("bank_dki", "Bank DKI"),
    ("jago", "Bank Jago"),
    ("seabank", "SeaBank"),
    ("blu", "blu by BCA Digital"),
    ("jenius", "Jenius (SMBC Indonesia)"),
]

BANK_NAMES = dict(BANKS)


def mask_account_number(number: str) -> str:
    """Shown instead of the full number: the last four digits only."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"••••{digits[-4:]}" if len(digits) > 4 else "••••"
