# Django's default date display in Indonesian, with the time zone's abbreviation (WIB, WITA, WIT): the
# admin shows times this way. Site pages format times with core/templatetags, never with these.
DATETIME_FORMAT = "j M Y, H.i T"
SHORT_DATETIME_FORMAT = "d-m-Y H.i T"
