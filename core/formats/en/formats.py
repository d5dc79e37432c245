# Django's default date display in English, with the time zone's abbreviation (WIB, WITA, WIT): the admin
# shows times this way. Site pages format times with core/templatetags, never with these.
DATETIME_FORMAT = "j M Y, g:i A T"
SHORT_DATETIME_FORMAT = "d/m/Y g:i A T"
