"""Indonesian display formats (UI.md): money, phones. Filters, not the locale's defaults."""

from django import template
from django.utils.translation import get_language

from core.formatting import format_phone_national, format_rupiah

register = template.Library()


@register.filter
def rupiah(amount) -> str:
    """150000 -> "Rp 150.000" (no-break space; English pages use "Rp 150,000")."""
    if amount in (None, ""):
        return ""
    return format_rupiah(int(amount), language=get_language() or "id")


@register.filter
def phone_display(e164: str) -> str:
    """+6281234567890 -> 0812-3456-7890."""
    return format_phone_national(e164) if e164 else ""
