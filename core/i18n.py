"""Languages and time zones Kompanion serves."""

from django.db import models
from django.utils.translation import gettext_lazy as _

SUPPORTED_LANGUAGES = ("id", "en")


class Language(models.TextChoices):
    INDONESIAN = "id", _("Bahasa Indonesia")
    ENGLISH = "en", _("English")


class IndonesianTimeZone(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (Western Indonesia: Jakarta, Bandung, Medan)")
    WITA = "Asia/Makassar", _("WITA (Central Indonesia: Bali, Makassar)")
    WIT = "Asia/Jayapura", _("WIT (Eastern Indonesia: Papua, Maluku)")


TIME_ZONE_ABBREVIATIONS = {
    IndonesianTimeZone.WIB: "WIB",
    IndonesianTimeZone.WITA: "WITA",
    IndonesianTimeZone.WIT: "WIT",
}
