"""Languages and time zones Kompanion serves."""

from django.db import models
from django.utils.translation import gettext_lazy as _

SUPPORTED_LANGUAGES = ("id", "en")


class Language(models.TextChoices):
    INDONESIAN = "id", _("Bahasa Indonesia")
    ENGLISH = "en", _("English")


class IndonesianTimeZone(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (Jakarta, Medan)")
    WITA = "Asia/Makassar", _("WITA (Bali, Makassar)")
    WIT = "Asia/Jayapura", _("WIT (Ambon, Jayapura)")


TIME_ZONE_ABBREVIATIONS = {
    IndonesianTimeZone.WIB: "WIB",
    IndonesianTimeZone.WITA: "WITA",
    IndonesianTimeZone.WIT: "WIT",
}
