"""Money arithmetic shared by the apps: whole Rupiah integers, never floats."""

BASIS_POINTS = 10_000


def percent_of(amount: int, basis_points: int) -> int:
    """amount x basis_points / 10,000, rounded half up, in whole Rupiah (no floats)."""
    return (amount * basis_points + BASIS_POINTS // 2) // BASIS_POINTS
