"""Contact details and concerns in chat messages (issue 14): pure Python, no Django, no database.

Contact details are masked for the recipient until the booking is paid; the sender is warned before
sending; the original text is kept for staff. The caller decides all of that: this module only finds.

    spans = find_contacts(text)                  # [Span(start, end, kind)], sorted, non-overlapping
    shown = masked(text, spans, placeholder)     # placeholder(kind) -> "[nomor disembunyikan]" etc.
    concerns = find_concerns(text)               # a subset of {"off_platform_payment", "sexual"}

Kinds: "phone", "email", "link" (a messenger / social network / link-in-bio / URL-shortener link) and
"handle" (an @handle, or a name after a platform word: "ig: rina", "line id rina_p", "follow ig rinaputri").

Phones. Runs of digit units are read: ASCII or any Unicode decimal digit (full-width, keycap emoji),
Indonesian and English digit words ("nol", "kosong", "delapan", "eight", also run together:
"noldelapan"), "dobel 7", and "o" stuck to digits ("o812"); joined by separators (spaces, dots, dashes,
slashes, brackets, emoji, zero-width characters, filler words: "terus", "spasi", "titik"). A run is cut
into groups (a group ends at a separator or a word); a phone is a sequence of whole groups whose digits
are an Indonesian number: mobile 08 / 62 8 / +62 8 followed by 8-11 digits (the prefix decides), or a
landline 0 / 62 / +62 with an area code that `phonenumbers` must call valid. After a "+" and another
country code, a valid number per `phonenumbers` is a phone too. `PhoneNumberMatcher` is not run over
messages: it costs ~3 ms per 2,000 characters and takes "1.500.000" for a valid Indonesian number.
Prices with "Rp" or "rb/k/jt", times ("19.00"), dates ("12/12/2026", "2026-12-12"), "No. 12" and booking
references (KMP-XXXXXXXX) are blanked out first and never join a run; counts, house numbers and postal
codes never start with 0 or 62 8.

Speed. Python's regex engine is slow when a pattern cannot start with a literal: it tries every
position. So each finder first looks for cheap anchors (str.find for "@", ".com", "ig", "langsung"...;
one regex with a digit prefix for digit clusters) and runs its full pattern only in a window around
each anchor. A typical 2,000-character message takes well under a millisecond.

Choices made for precision (known gaps, kept on purpose):
- Only links to messengers, social networks, link-in-bio pages and URL shorteners are masked; a maps
  link, an event page or a ticket shop stays readable.
- "IG rinaputri" without ":" / "@" / "id" is a handle only when the name looks like one (a digit, "_"
  or ".") or an imperative comes first ("follow ig rinaputri", "add line rinap"); "ig nya bagus" stays.
- Emails written with words ("rina at gmail dot com") need " at " / "(at)" / "[at]" and either a known
  provider or a "dot" + top-level domain; "rina di gmail" is not masked ("di" is far too common).
- Numbers spoken as numbers ("delapan ratus dua belas" for 812) are not read; digit by digit is.
- "ML", "BO", "ST" / "LT", "plus-plus", "check in" and "long time" are sexual only with context (see
  find_concerns); "ml yuk" alone is not flagged: ML is also Mobile Legends, on an app with gaming buddies.
  "nude" (a colour), "sexy"/"seksi" (a compliment; "seksi" is also a committee section) are not flagged.
- Any "@name" is a handle (a mention of a person in the chat is masked too); a Facebook name written with a
  space after "fb:" loses only its first word; "l" for 1 ("o8l2") is not read.
- An account number next to a bank name is off-platform even when it is a phone number ("Mandiri
  0812..."); a virtual account ("VA BCA 8077...", paid through the app) is not.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import phonenumbers

PHONE = "phone"
EMAIL = "email"
LINK = "link"
HANDLE = "handle"
CONTACT_KINDS = frozenset({PHONE, EMAIL, LINK, HANDLE})

OFF_PLATFORM_PAYMENT = "off_platform_payment"
SEXUAL = "sexual"
CONCERNS = frozenset({OFF_PLATFORM_PAYMENT, SEXUAL})


class Span(NamedTuple):
    """A contact detail at text[start:end]."""

    start: int
    end: int
    kind: str


# --------------------------------------------------------------------------------------------------
# Anchors and windows
# --------------------------------------------------------------------------------------------------


def _lowered(text: str) -> str:
    """text in lower case, character for character (positions stay valid for text)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(character.lower() if len(character.lower()) == 1 else character for character in text)


def _is_alphanumeric(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isalnum()


_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(string.punctuation, " "))
_NOT_ALPHANUMERIC_RE = re.compile(r"[\W_]+")


def _words(lowered: str) -> set[str]:
    """The words of lowered (runs of letters and digits), to skip needles cheaply."""
    words = set(lowered.translate(_PUNCTUATION_TO_SPACE).split())
    for word in [word for word in words if not word.isalnum()]:  # emoji or other symbols glued on
        words.update(_NOT_ALPHANUMERIC_RE.split(word))
    return words


def _anchors(lowered: str, words: set[str], needles: Iterable[str]) -> Iterator[int]:
    """Where each needle starts a word in lowered. A needle ending in "*" is a word start ("ngew*" finds
    "ngewek"); other needles made of letters must be whole words; other needles ("@", ".com") anywhere.
    words: _words(lowered)."""
    for needle in needles:
        prefix = needle.endswith("*")
        word = needle.rstrip("*")
        if not prefix and word.isalnum() and word not in words:
            continue
        wordlike = word[:1].isalnum()
        position = lowered.find(word)
        while position >= 0:
            end = position + len(word)
            if not wordlike or (
                not _is_alphanumeric(lowered, position - 1) and (prefix or not _is_alphanumeric(lowered, end))
            ):
                yield position
            position = lowered.find(word, end)


def _windows(text: str, anchors: Iterable[int], before: int, after: int) -> list[tuple[int, int]]:
    """Merged windows around anchors; a window never ends inside a word (lookaheads at its end see the
    end of the window as the end of the text)."""
    merged: list[list[int]] = []
    for anchor in sorted(anchors):
        start = max(0, anchor - before)
        end = min(len(text), anchor + after)
        if merged and start <= merged[-1][1] and end <= merged[-1][1]:
            continue  # inside the previous window, which already ends at a word's end: nothing to add
        while end < len(text) and not text[end].isspace():  # each character is scanned once in all
            end += 1
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _finditer(pattern: re.Pattern[str], text: str, windows: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    for start, end in windows:
        yield from pattern.finditer(text, start, end)


# --------------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------------

_DIGIT_WORDS = {
    "nol": "0",
    "kosong": "0",
    "zero": "0",
    "satu": "1",
    "one": "1",
    "dua": "2",
    "two": "2",
    "tiga": "3",
    "three": "3",
    "empat": "4",
    "mpat": "4",
    "four": "4",
    "lima": "5",
    "five": "5",
    "enam": "6",
    "six": "6",
    "tujuh": "7",
    "tuju": "7",
    "seven": "7",
    "delapan": "8",
    "lapan": "8",
    "eight": "8",
    "sembilan": "9",
    "nine": "9",
}
_DIGIT_WORDS_LONGEST_FIRST = sorted(_DIGIT_WORDS, key=len, reverse=True)
_REPEATS = {"double": 2, "dobel": 2, "dobble": 2, "triple": 3, "tripel": 3}

_LETTER_AFTER = r"(?![^\W\d_])"
_WORD_DIGIT = "(?:" + "|".join(_DIGIT_WORDS_LONGEST_FIRST) + ")"
# Read on the lower-cased text. Units carry no lookbehind (a lookbehind at the start of a pattern makes the
# engine slow at every position): a word unit glued to the end of a longer word ("kedua") is dropped in
# _phones_in_run instead.
_SINGLE_UNIT = rf"(?:\d|{_WORD_DIGIT}+{_LETTER_AFTER}|o(?:(?=\d)|(?<=\do){_LETTER_AFTER}))"  # "noldelapan", "o812"
_UNIT = rf"(?:{_SINGLE_UNIT}|(?:{'|'.join(_REPEATS)})\s+{_SINGLE_UNIT})"
_SEPARATOR_CHAR = (
    r"[\s.\-\u2010-\u2015/\\()\[\]{}_,:;*~|'\"`•·=#+<>"
    r"\u00ad\u200b-\u200f\u2060\ufeff\ufe0f\u20e3\u2600-\u27bf\U0001f000-\U0001faff]"
)
_FILLER = (
    r"(?:terus|trus|lalu|lanjut|abis|habis|itu|then|and|dan|spasi|space|strip|setrip|titik|koma|dash|dot)"
    rf"{_LETTER_AFTER}"
)
_GAP = rf"(?:{_SEPARATOR_CHAR}{{1,5}}|{_SEPARATOR_CHAR}{{0,3}}{_FILLER}{_SEPARATOR_CHAR}{{0,3}})"
_UNIT_RE = re.compile(_UNIT)
_RUN_RE = re.compile(rf"{_UNIT}(?:{_GAP}?{_UNIT})*")
_RUN_REACH = 16  # how far a run reaches past its digits: a filler word, "dobel", "o", "+", "("
_DIGIT_CLUSTER_RE = re.compile(r"\d(?:[\W_]{0,5}\d)*")  # starts with a digit: the engine skips fast

# Numbers written with inner punctuation, and what makes one not a phone (see _not_a_phone).
_NUMBER_RE = re.compile(r"\d(?:[.,:/-]?\d)*")
_DATE_RE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}")
_TIME_RE = re.compile(r"(?:[01]?\d|2[0-4])[.:][0-5]\d")
_AMOUNT_BEFORE_RE = re.compile(r"(?<![^\W\d_])(?:rp|idr)\.?\s*$")
_AMOUNT_AFTER_RE = re.compile(rf"\s?(?:rb|ribu|rebu|k|jt|juta){_LETTER_AFTER}")
_HOUSE_NUMBER_BEFORE_RE = re.compile(r"(?<![^\W\d_])no\.\s?$")
_BOOKING_REFERENCE_RE = re.compile(r"kmp-[a-z0-9]{8}(?![a-z0-9])")
_MORE_DIGITS_RE = re.compile(r"[\s.-]*\d")

_MOBILE_RE = re.compile(r"8[1-9]\d{7,10}")  # the national number after 0 / 62 / +62
_LANDLINE_RE = re.compile(r"[2-79]\d{6,9}")  # area code + subscriber; phonenumbers confirms it
_MAX_PHONE_DIGITS = 15
_MIN_PHONE_UNITS = 8


def _unit_digits(unit: str) -> str:
    """The digits a unit of _UNIT_RE stands for (unit: lower case)."""
    if len(unit) == 1:
        return "0" if unit == "o" else str(unicodedata.decimal(unit))
    if unit in _DIGIT_WORDS:
        return _DIGIT_WORDS[unit]
    for word, times in _REPEATS.items():
        if unit.startswith(word):
            return _unit_digits(unit[len(word) :].strip()) * times
    digits = []
    position = 0
    while position < len(unit):  # several words run together ("noldelapan")
        word = next((word for word in _DIGIT_WORDS_LONGEST_FIRST if unit.startswith(word, position)), None)
        if word is None:  # pragma: no cover - the regex lets only digit words through
            break
        digits.append(_DIGIT_WORDS[word])
        position += len(word)
    return "".join(digits)


def _is_indonesian(national: str) -> bool:
    """national: the digits after the trunk 0 or the country code 62."""
    if _MOBILE_RE.fullmatch(national):
        return True
    if not _LANDLINE_RE.fullmatch(national):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("0" + national, "ID"))
    except phonenumbers.NumberParseException:
        return False


def _is_phone(digits: str, *, international: bool) -> bool:
    if digits.startswith("62"):
        national = digits[2:]
        return _is_indonesian(national[1:] if national.startswith("0") else national)  # +62 (0)812
    if international:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
        except phonenumbers.NumberParseException:
            return False
    return digits.startswith("0") and _is_indonesian(digits[1:])


def _plus_before(text: str, start: int) -> int | None:
    """The index of a "+" written just before start ("+62", "+ 62", "(+62)"), if any."""
    position = start - 1
    while position >= 0 and text[position] in " (":
        position -= 1
    return position if position >= 0 and text[position] == "+" else None


def _phone_windows(text: str, lowered: str, words: set[str]) -> list[tuple[int, int, bool]]:
    """(start, end, with_words): stretches with at least _MIN_PHONE_UNITS digits and digit words close
    together, widened by _RUN_REACH."""
    clusters = [
        (match.start(), match.end(), sum(map(str.isdigit, match.group())), False)
        for match in _DIGIT_CLUSTER_RE.finditer(text)
    ]
    # Digit words as whole words; as word starts ("noldelapansatu...") only when a long word starts so.
    needles = _DIGIT_WORD_NEEDLES
    if any(len(word) >= 8 and word.startswith(_DIGIT_WORD_STARTS) for word in words):
        needles = _DIGIT_WORD_PREFIXES
    clusters += [(position, position + 3, 1, True) for position in _anchors(lowered, words, needles)]
    stretches: list[list] = []
    for start, end, units, is_word in sorted(clusters):
        if stretches and start - stretches[-1][1] <= _RUN_REACH:
            stretches[-1][1] = max(stretches[-1][1], end)
            stretches[-1][2] += units
            stretches[-1][3] |= is_word
        else:
            stretches.append([start, end, units, is_word])
    return [
        (max(0, start - _RUN_REACH), min(len(text), end + _RUN_REACH), with_words)
        for start, end, units, with_words in stretches
        if units >= _MIN_PHONE_UNITS
    ]


_DIGIT_WORD_NEEDLES = tuple(_DIGIT_WORDS)
_DIGIT_WORD_PREFIXES = tuple(f"{word}*" for word in _DIGIT_WORDS)
_DIGIT_WORD_STARTS = tuple(_DIGIT_WORDS)


def _not_a_phone(lowered: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Prices ("Rp 150.000", "150rb", "1,5jt"), dates, times and time ranges, "No. 12" and booking
    references between start and end: never a phone, and they must not glue onto one."""
    for match in _NUMBER_RE.finditer(lowered, start, end):
        first, last = match.span()
        previous = lowered[first - 1] if first else " "
        amount = _AMOUNT_AFTER_RE.match(lowered, last)
        if amount or (previous in " .p" and _AMOUNT_BEFORE_RE.search(lowered, max(0, first - 5), first)):
            yield first, amount.end() if amount else last
        elif previous.isalnum() or previous == "+":
            continue
        elif not match.group().isdigit():
            number = match.group()
            if _DATE_RE.fullmatch(number) or all(_TIME_RE.fullmatch(part) for part in number.split("-")):
                yield first, last
        elif (
            previous in " ."
            and last - first <= 4
            and _HOUSE_NUMBER_BEFORE_RE.search(lowered, max(0, first - 5), first)
            and not _MORE_DIGITS_RE.match(lowered, last)
        ):
            yield first, last
    if "kmp-" in lowered:
        for match in _BOOKING_REFERENCE_RE.finditer(lowered, max(0, start - 12), end):
            yield match.start(), match.end()


def _phones(text: str, lowered: str, words: set[str], taken: list[Span]) -> list[Span]:
    spans = []
    for start, end, with_words in _phone_windows(text, lowered, words):
        protected = list(_not_a_phone(lowered, start, end))
        chunk = lowered[start:end]
        if protected and not with_words:
            hidden = sum(sum(map(str.isdigit, lowered[first:last])) for first, last in protected)
            if sum(map(str.isdigit, chunk)) - hidden < _MIN_PHONE_UNITS:
                continue  # only prices, times and dates here
        # Runs are read on a copy of the window in which the contacts found so far and every price, time
        # and date are blanked out (same length: positions stay valid).
        characters = list(chunk)
        for first, last in protected + [
            (span.start, span.end) for span in taken if span.start < end and span.end > start
        ]:
            first, last = max(first, start), min(last, end)
            characters[first - start : last - start] = "\0" * (last - first)
        blanked = "".join(characters)
        for run in _RUN_RE.finditer(blanked):
            if run.end() - run.start() >= _MIN_PHONE_UNITS:
                spans += _phones_in_run(blanked, start, lowered, text, run)
    return spans


def _phones_in_run(work: str, offset: int, lowered: str, text: str, run: re.Match[str]) -> list[Span]:
    """work: the blanked window starting at offset in lowered and text."""
    groups: list[list | None] = []  # [start, end, digits] in text; None: a barrier
    previous_end = -1
    previous_word = False
    for unit in _UNIT_RE.finditer(work, run.start(), run.end()):
        start, end = unit.start() + offset, unit.end() + offset
        is_word = not unit.group().isdigit()
        if is_word and start > 0 and lowered[start - 1].isalpha():
            groups.append(None)  # a word glued to a longer word ("kedua", "halo8"): not a digit someone wrote
        elif groups and groups[-1] and start == previous_end and not is_word and not previous_word:
            groups[-1][1] = end
            groups[-1][2] += _unit_digits(unit.group())
        else:
            groups.append([start, end, _unit_digits(unit.group())])
        previous_end, previous_word = end, is_word
    spans = []
    first = 0
    while first < len(groups):
        if groups[first] is None:
            first += 1
            continue
        plus = _plus_before(lowered, groups[first][0])
        digits = ""
        last = None
        for index in range(first, len(groups)):
            if groups[index] is None:
                break
            digits += groups[index][2]
            if len(digits) > _MAX_PHONE_DIGITS:
                break
            if _is_phone(digits, international=plus is not None):
                last = index  # the longest number wins: "0812 3456 7890", not "0812 3456 78"
        if last is None:
            first += 1
            continue
        start = plus if plus is not None else groups[first][0]
        end = groups[last][1]
        if start > 0 and text[start - 1] == "(" and ")" in text[start:end]:
            start -= 1  # "(021) 555-1234": the bracket goes with the number
        spans.append(Span(start, end, PHONE))
        first = last + 1
    return spans


# --------------------------------------------------------------------------------------------------
# Emails, links, handles
# --------------------------------------------------------------------------------------------------

_AT = r"(?:\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+|\s+@\s*|\s*@\s+)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|titik|\.)\s*[)\]}>]\s*|\s+(?:dot|titik)\s+|\s*\.\s*)"
_TLD = rf"(?:co{_DOT}id|ac{_DOT}id|com|net|org|id|co|me|io|my|sg)"
_PROVIDER = r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|icloud|protonmail|proton|aol|yandex|zoho)"
_EMAIL_RE = re.compile(
    rf"""
      (?<![\w.+-])[\w.+-]{{1,64}}@[\w-]+(?:\.[\w-]+)+                            # rina.putri@gmail.com
    | (?<![\w.+-])[\w.+-]{{2,64}}(?:{_AT}|@){_PROVIDER}(?:{_DOT}{_TLD})?(?!\w)  # rina at gmail (dot com)
    | (?<![\w.+-])[\w.+-]{{2,64}}{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}{_TLD}(?!\w)  # rina (at) kantor dot co dot id
    """,
    re.IGNORECASE | re.VERBOSE,
)
_EMAIL_NEEDLES = ("@", " at ", "(at)", "( at )", "[at]", "{at}", "<at>")

_CONTACT_DOMAINS = (
    # messengers
    "wa.me wa.link whatsapp.com t.me telegram.me telegram.dog line.me lin.ee m.me messenger.com signal.me"
    " signal.group open.kakao.com weixin.qq.com wechat.com join.skype.com discord.gg discord.com discordapp.com"
    " michat.me"
    # social networks
    " instagram.com instagr.am ig.me facebook.com fb.com fb.me twitter.com x.com tiktok.com snapchat.com"
    " threads.net onlyfans.com"
    # link-in-bio pages and URL shorteners (they can hide any of the above)
    " linktr.ee lynk.id bio.link beacons.ai s.id bit.ly tinyurl.com cutt.ly shorturl.at rebrand.ly ow.ly"
    " is.gd t.co"
).split()
_LINK_RE = re.compile(
    rf"""
      (?<![\w@.-])(?:https?://)?(?:[\w-]+\.)*(?:{"|".join(re.escape(domain) for domain in _CONTACT_DOMAINS)})
      (?![\w.-]*\w)(?:[/?#][^\s<>"']*(?:[\s.-]\d{{2,}})*)?    # path; wa.me/62 812 3456 takes the digits
    | (?<![\w.])(?:wa|t|line|ig|m)\s*(?:\.|\s(?:dot|titik)\s|\((?:dot|titik)\)|\[(?:dot|titik)\])\s*me
      \s*/\s*\+?[\w.-]+(?:[\s.-]\d{{2,}})*                    # wa . me / 62812..., t dot me/rina
    """,
    re.IGNORECASE | re.VERBOSE,
)
_LINK_NEEDLES = tuple(sorted({"." + domain.rsplit(".", 1)[1] for domain in _CONTACT_DOMAINS})) + (
    " dot ",
    "titik",
    "(dot)",
    "[dot]",
    ". me",
)

_HANDLE_CHARS = r"[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?"
_AT_HANDLE_RE = re.compile(
    rf"""
      (?<![\w.@+-])@(?![Rr][Pp]\.?\s?\d)(?!\d[\d.,]*(?:rb|ribu|k|jt|juta|an|x|jam|pax|org|orang|pcs)?\b)
      {_HANDLE_CHARS}                                         # @rina_putri (not "@150rb", not "@Rp50.000")
    | (?<![\w.@+-])@\s(?=[A-Za-z0-9_.]*[._\d])[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_]   # "@ rina_putri"
    """,
    re.VERBOSE,
)

_PLATFORMS = (
    "instagram insta ig tele telegram tg line twitter twt tiktok snapchat snap facebook fb discord michat wechat"
    " kakaotalk kakao signal skype threads e-mail email imel surel gmail yahoo"
).split()
# "igku", "linenya": the possessive is often glued on.
_PLATFORM_NEEDLES = tuple(
    platform + suffix for platform in _PLATFORMS for suffix in ("", "ku", "mu", "nya", "q", "aku", "sy", "gw")
)
_EMAIL_PLATFORMS = frozenset({"email", "e-mail", "imel", "surel", "gmail", "yahoo"})
_PLATFORM_HANDLE_RE = re.compile(
    rf"""
    (?P<verb>\b(?:follow|follback|folbek|followback|add|cari|search|dm|chat|hubungi|kontak|contact|save|cek|check
        |stalk|invite|tambahin|tambah)\b\s+(?:(?:ke|di|aja|aku|saya|me|my|ya|on|in)\s+)*)?
    (?<![\w@])(?P<id1>id\s+)?
    (?P<platform>{"|".join(sorted(_PLATFORMS, key=len, reverse=True))})
    (?:\s*(?:ku|aku|saya|gw|gue|gua|ane|nya|q|aq|sy))?(?![\w-])
    (?P<id2>\s*(?:id|username|user|uname|akun)\b)?
    (?:\s+(?:is|adalah|yaitu|itu))?
    (?P<separator>\s*[:=]\s*|\s*[-→>]\s+|\s+)
    @?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.+-]{{0,40}}[A-Za-z0-9_]|[A-Za-z0-9_]{{2}})
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Words that follow "ig", "line"... in ordinary sentences: never taken for a name.
_NOT_A_NAME = frozenset(
    """
    ya yah yaa yak aja ajah dong donk deh sih kok kak ka kakak bang mas mba mbak apa apaan ga gak gk nggak ngga
    enggak engga tidak tdk ada aku kamu km dia saya sy ku mu nya yg yang udah udh sudah belum blm nanti ntar
    dulu juga jg lagi lg bagus keren lucu cakep story stories post postingan feed reels reel live bio link
    profile profil di ke dari dr untuk utk buat and the is my your me you please pls plz ok oke okay sama terus
    trus private privat pribadi yuk ayo itu ini kan kalo kalau klo pas lewat via aman sibuk penuh error eror
    down mati rame ramai sepi baru lama banyak doang gitu gini mana dimana nih tuh tau tahu biar supaya boleh
    bisa mau pengen pingin ingin cuma cm official resmi id username user akun account
    """.split()
)
_HANDLE_LIKE_RE = re.compile(r"(?=.*[A-Za-z])(?=.*[._\d])")


def _handles(text: str, lowered: str, words: set[str]) -> list[Span]:
    spans = []
    if "@" in text:
        windows = _windows(text, _anchors(lowered, words, ["@"]), 1, 45)
        spans += [Span(match.start(), match.end(), HANDLE) for match in _finditer(_AT_HANDLE_RE, text, windows)]
    windows = _windows(text, _anchors(lowered, words, _PLATFORM_NEEDLES), 45, 70)
    for match in _finditer(_PLATFORM_HANDLE_RE, text, windows):
        name = match.group("name").rstrip(".-+")
        if name.lower() in _NOT_A_NAME or not any(character.isalpha() for character in name):
            continue
        at_sign = text[match.start("name") - 1] == "@"
        explicit = match.group("id1") or match.group("id2") or match.group("separator").strip() or at_sign
        if explicit or match.group("verb") or _HANDLE_LIKE_RE.match(name):
            kind = EMAIL if match.group("platform").lower() in _EMAIL_PLATFORMS else HANDLE
            spans.append(Span(match.start("name") - at_sign, match.start("name") + len(name), kind))
    return spans


def _strip_trailing_punctuation(text: str, span: Span) -> Span:
    end = span.end
    while end > span.start + 1 and text[end - 1] in ".,!?;:)]}'\"":
        end -= 1
    return span._replace(end=end)


# --------------------------------------------------------------------------------------------------
# Public API: contacts
# --------------------------------------------------------------------------------------------------


def find_contacts(text: str) -> list[Span]:
    """Contact details in text: sorted by start, never overlapping (a link wins over the phone in it)."""
    lowered = _lowered(text)
    words = _words(lowered)
    windows = _windows(text, _anchors(lowered, words, _LINK_NEEDLES), 80, 150)
    found = [
        _strip_trailing_punctuation(text, Span(m.start(), m.end(), LINK)) for m in _finditer(_LINK_RE, text, windows)
    ]
    windows = _windows(text, _anchors(lowered, words, _EMAIL_NEEDLES), 70, 90)
    found += [Span(match.start(), match.end(), EMAIL) for match in _finditer(_EMAIL_RE, text, windows)]
    found += _handles(text, lowered, words)
    found += _phones(text, lowered, words, found)
    return _without_overlaps(found)


def _without_overlaps(spans: Iterable[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in sorted(set(spans), key=lambda span: (span.start, -span.end)):
        if kept and span.start < kept[-1].end:
            if span.end > kept[-1].end:  # partly overlapping: one span covers both
                kept[-1] = kept[-1]._replace(end=span.end)
            continue
        kept.append(span)
    return kept


def masked(text: str, spans: Iterable[Span], replacement: Callable[[str], str]) -> str:
    """text with each span replaced by replacement(span.kind).

    spans: sorted and non-overlapping, as find_contacts returns them."""
    parts = []
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(replacement(span.kind))
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# Concerns
# --------------------------------------------------------------------------------------------------

_ME = r"(?:aku|saya|ku|gw|gue|gua|ane|aq|q|sy|pribadi|sendiri)"
# Either side's own account or wallet: "transfer ke rekening kamu" is as much off the platform.
_PERSONAL = rf"(?:{_ME}|kamu|km|mu|lo|lu|elo|kakak|kak)"
_APP = r"(?:aplikasi|aplikasinya|app|apk|apps|platform|kompanion|sistem|website|web|sini)"
_THROUGH_APP = rf"(?:di|lewat|via|pakai|pake|melalui|dari|dalam)\s+{_APP}"
# An account number: 8-18 digits, maybe grouped; not a date, a time range or an amount in thousands.
_ACCOUNT = (
    r"(?<!\d)(?!\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|[012]?\d[.:]\d\d\b|\d{1,3}(?:[.,]\d{3})+\b)"
    r"\d(?:[\s.-]?\d){7,17}(?!\d)"
)
_PHONE_DIGITS = r"(?:\+?62|0)\s?8(?:[\s.-]?\d){7,11}"
_BANKS = (
    "bca bri bni mandiri bsi btn cimb permata danamon jago seabank sea blu ocbc panin maybank jenius btpn muamalat bank"
).split()
_BANK = rf"(?:cimb\s*niaga|sea\s?bank|bank\s+[a-z]+|{'|'.join(_BANKS)})"
_EWALLETS = "dana ovo gopay go-pay shopeepay shopee spay linkaja link isaku sakuku".split()
_EWALLET = r"(?:dana|ovo|gopay|go-pay|shopeepay|shopee\s?pay|spay|linkaja|link\s?aja|isaku|sakuku)"
_PAY_VERBS = "transfer trf tf transfernya tfnya bayar byr bayarnya".split()
_PAY = rf"(?:{'|'.join(_PAY_VERBS)})"
_TRANSFER = r"(?:transfer|trf|tf|transfernya|tfnya|kirim|kirimin|kirimkan)"
_NEGATION = re.compile(
    r"\b(?:jangan|jgn|dilarang|hindari|(?:tidak|tdk|gak|ga|nggak|ngga|enggak|gk|g)\s*(?:boleh|bisa|usah|perlu)"
    r"|gausah|gaboleh|gabisa|never|don'?t|do\s+not|no\s+need)\b[^.!?\n]{0,25}$"
)
_NEGATION_REACH = 45


class _Rule(NamedTuple):
    """A pattern searched only around its needles (see _anchors); negatable: not when "jangan",
    "tidak boleh"... comes just before ("jangan transfer langsung ya" is the right advice)."""

    needles: tuple[str, ...]
    pattern: re.Pattern[str]
    negatable: bool


def _rule(needles: str | Iterable[str], pattern: str, *, negatable: bool = False) -> _Rule:
    needles = tuple(needles.split() if isinstance(needles, str) else needles)
    return _Rule(needles, re.compile(pattern, re.VERBOSE), negatable)


_OFF_PLATFORM_RULES = (
    _rule(
        "langsung",
        rf"""
          \b{_PAY}\s+(?:(?:aja|saja|dong|ya|sih|deh|uangnya|duitnya)\s+)?langsung\b(?!\s+(?:\w+\s+)?{_THROUGH_APP})
        | \blangsung\s+(?:aja\s+|saja\s+)?{_PAY}\s+(?:aja\s+)?ke\s+(?:{_ME}|rek|rekening)\b
        """,
        negatable=True,
    ),
    _rule(
        "luar diluar",
        r"""
          \b(?:di\s?luar|luar)\s+(?:aplikasi|aplikasinya|app|apk|apps|platform|kompanion|sistem)\b
        | \b(?:bayar|byr|transaksi|deal|dealing|transfer|tf|ketemu|ketemuan)(?:nya)?\s+(?:di\s?luar|lewat\s+luar)\b
        """,
        negatable=True,
    ),
    _rule(
        _PAY_VERBS,
        rf"\b{_PAY}\s+(?:(?:langsung|aja|saja|dulu)\s+)*ke\s+{_ME}\b(?![^.!?\n]{{0,30}}{_THROUGH_APP})",
        negatable=True,
    ),
    _rule(
        "pay outside off",
        r"\bpay\s+(?:me\s+)?(?:directly|direct|outside|in\s+cash|cash)\b|\b(?:outside|off)\s+(?:the\s+)?(?:app|platform)\b",
        negatable=True,
    ),
    _rule(
        "rek rekening norek",
        rf"""
          \b(?:no\.?\s?rek(?:ening)?|norek|nomor\s+rek(?:ening)?|nomer\s+rek(?:ening)?|rek(?:ening)?\s+{_PERSONAL})\b
            [^\n\d]{{0,30}}{_ACCOUNT}
        | \b(?:minta|kirim|kirimin|kasih|bagi|share|sebutin|spill)\s+(?:dong\s+|aja\s+|ya\s+)?
            (?:no\.?\s?rek|norek|nomor\s+rek|nomer\s+rek|rekening)
        | \b(?:{_TRANSFER}|dp|bayar)\w*\s+(?:\w+\s+){{0,2}}ke\s+(?:rek|rekening|norek|akun\s+bank)\s*{_PERSONAL}\b
        """,
    ),
    _rule(
        _EWALLETS,
        rf"""
          \b{_TRANSFER}\w*\s+(?:(?:aja|saja|langsung|via|lewat|ke|pake|pakai|dong)\s+)*{_EWALLET}\s*{_PERSONAL}\b
        | \b(?:bayar|byr)\w*\s+(?:(?:aja|saja|langsung)\s+)*ke\s+{_EWALLET}\s*{_ME}?\b(?![^.!?\n]{{0,30}}{_THROUGH_APP})
        | \b{_EWALLET}\s*{_ME}?\s*[:=-]?\s*(?:ke\s+)?(?:{_PHONE_DIGITS}|{_ACCOUNT})
        """,
    ),
    _rule("qris", rf"\bqris\s+{_ME}\b"),
    _rule("dp", rf"\bdp\s+(?:dulu\s+)?(?:\d+\s*%?\s*)?(?:dulu\s+)?ke\s+{_ME}\b"),
    _rule(
        "potong potongan fee komisi admin pajak hemat",
        r"""
          \b(?:biar|supaya|agar)\s+(?:gak|ga|nggak|ngga|enggak|gk|g|tidak|tdk)\s+(?:kena\s+)?
            (?:potongan|potong|fee|komisi|biaya\s+admin|admin|pajak\s+aplikasi)
        | \bhemat\s+(?:biaya\s+)?(?:fee|komisi|potongan|admin)\b
        """,
    ),
    _rule(
        "usah gausah ngausah nggausah",
        r"""
          (?:\b(?:gak|ga|nggak|ngga|enggak|gk|g|tidak|tdk)\s*usah|\bgausah|\bngg?ausah)
          \s+(?:(?:bayar|transfer|booking|book|pesan)\s+)?(?:lewat|pake|pakai|via|melalui|di)\s+
          (?:aplikasi|aplikasinya|app|apk|apps|platform|kompanion|sistem|website|web)\b
        """,
    ),
    _rule("tanpa", r"\btanpa\s+(?:lewat\s+|melalui\s+|via\s+)?(?:aplikasi|app|apk|apps|platform|kompanion)\b"),
    _rule(
        "cancel* batal*",
        r"""\b(?:cancel|batal|batalin|cancelin)\w*\b[^.!?\n]{0,40}\b(?:bayar|transfer|tf|ketemu|ketemuan|deal)\s+
            (?:aja\s+)?(?:langsung|di\s?luar)\b""",
    ),
    _rule("deal", r"\bdeal\s+(?:langsung|pribadi|sendiri|personal)\b"),
    _rule(
        "cash tunai cas",
        rf"\b(?:(?:bayar|byr)(?:nya)?\s+)?(?:cash|tunai|cas)\s+(?:aja\s+)?(?:ke|sama|ama)\s+{_ME}\b",
    ),
    _rule("money bank", r"\bsend\s+(?:the\s+)?money\s+to\s+(?:me|my)\b|\bbank\s+transfer\s+(?:to\s+me|directly)\b"),
)
# A bank name with an account number; not when a virtual account (paid through the app) is meant.
_BANK_ACCOUNT = _rule(_BANKS, rf"\b{_BANK}\b[^\n\d]{{0,30}}{_ACCOUNT}|{_ACCOUNT}[^\n\d]{{0,15}}\b{_BANK}\b")
_VIRTUAL_ACCOUNT = re.compile(r"\b(?:va|virtual\s+acc(?:ount)?|kode\s+(?:bayar|pembayaran)|midtrans)\b")

_SEX = r"s[e3]+(?:x+|ks+)"
_SEXUAL_RULES = (
    _rule(
        "bo b.o boan open",
        r"""
          \bopen\s*b\.?o\b | \bbo-?an\b
        | \b(?:bisa|terima|trima|nerima|menerima|ready|redi|sedia|jasa|layanan|harga|tarif|rate|include|termasuk
            |sekalian|boleh|plus|mau)\s+b\.?o\b
        | \bb\.?o\s*(?:\?|(?:ga|gak|nggak|ngga|enggak|gk|g|tidak|kah|berapa|brp|st|lt|short|long|nya|semalam
            |sejam)\b|\d+\s*(?:rb|k|jt)\b)
        """,
    ),
    _rule(
        "sex* seks* s3x* s3ks* seex* hubungan love",
        rf"""
          \b{_SEX}\b(?!\s*education) | \bhubungan\s+(?:badan|intim|seks|sex)\b | \bmak(?:e|ing)\s+love\b
        """,
    ),
    _rule(
        """ngew* ngent* entot ewean ngamar* wikwik wik esek* ena ena2 enaena vcs bugil telanjang nudes
        toket memek kontol pepek jembut coli colmek crot* sange* horny horni bercinta threesome 3some fwb escort
        escorts hooker prostitut* pelacur psk lonte jablay gfe hookup kondom condom blowjob handjob sgbb sgdd""",
        r"""
          \b(?:ngew[e3]\w*|ngent[o0][td]\w*|ent[o0]t|ewean|ngamar\w*|wik-?\s?wik|wikwik|esek-?\s?esek)\b
        | \bena-?\s?ena\b | \bena2\b | \benaena\b | \bvcs\b
        | \b(?:bugil|telanjang|nudes|toket|memek|kontol|pepek|jembut|coli|colmek|crot+|sange|sangean|horny|horni
            |bercinta|threesome|3some|fwb|hooker|prostitut\w*|pelacur|psk|lonte|jablay|gfe|hookup|kondom|condom
            |blowjob|handjob|sgbb|sgdd)\b
        | \bescorts?\b(?!\s+(?:me|you|him|her|us|them|to)\b)    # the noun, not "escort me to the gala"
        """,
    ),
    _rule(
        "pijat* pijit* massage* urut* plus ++ layanan servis service",
        r"""
          \b(?:pijat|pijit|massage|urut)\w*\s*(?:plus|\+\+|ples)
        | \b(?:layanan|servis|service|jasa|bisa|terima|ada|open)\s+(?:plus[\s-]?plus|\+\+)
        | (?:plus[\s-]?plus|\+\+)\s*(?:\?|(?:ga|gak|nggak|ngga|enggak|gk|kah|berapa|brp|nya\s+berapa)\b)
        | \b(?:pijat|pijit|massage|urut)\w*\b[^.!?\n]{0,20}\bhappy\s+ending\b
        """,
    ),
    _rule("video vc", rf"\bvideo\s*call\s*{_SEX}\b|\bvc\s*{_SEX}\b"),
    _rule("pap", r"\bpap\s*(?:tt|toket|bugil|telanjang|naked|nude|bb|memek|kontol|hot|seksi|sexy)\b"),
    _rule(
        "hook night friend* booty sugar",
        r"""\bhook\s*-?\s*up\b|\bone\s+night\s+stand\b|\bfriends?\s+with\s+benefits?\b|\bbooty\s+call\b
          |\bsugar\s+(?:daddy|dady|baby|mommy)\b""",
    ),
    _rule(
        "tidur bobo* sekamar nginep menginap nginap",
        r"""
          \btidur\s+(?:bareng|bersama|berdua|seranjang|sekamar|sama\s+(?:aku|kamu|saya|gw|gue|km))\b
        | \b(?:temenin|temani|nemenin|menemani)\s+(?:aku\s+|saya\s+|gw\s+)?(?:tidur|bobo|bobok|bobo?k?an)\b
        | \bbobo?k?\s+(?:bareng|berdua|sama\s+(?:aku|kamu|saya))\b | \bsekamar\s+(?:berdua|bareng|sama)\b
        | \b(?:nginep|menginap|nginap)\s+(?:bareng|berdua|sama\s+(?:aku|kamu|saya|gw|gue))\b
        """,
    ),
    _rule(
        "check* ci",
        r"""
          \b(?:check\s*-?\s*in|checkin|ci)\s+(?:hotel\s+|kamar\s+)?(?:bareng|berdua|yuk|yok|ayo|kuy
            |sama\s+(?:aku|kamu|saya|gw|gue))\b
        | \b(?:yuk|yok|ayo|ayuk|ajak|ngajak|kuy)\s+(?:check\s*-?\s*in|checkin|ci)\b
        """,
    ),
    _rule(
        "st lt short",
        r"""
          \b(?:st|lt)\s*(?:/|&|\+|,|\s|dan|atau|or)\s*(?:st|lt)\b
        | \b(?:st|lt)\s+(?:berapa|brp|rp\.?\s?\d|\d+\s*(?:rb|k|jt|ribu|juta)\b)
        | \b(?:harga|tarif|rate|biaya|hrg)\s+(?:st|lt|short\s*time|long\s*time)\b
        | (?<!\ba\s)\bshort\s*time\b
        """,
    ),
)
# Ambiguous on a companion app: ML is Mobile Legends to a gaming buddy; "long time no see" is a greeting.
# They count only with a sexual context and no gaming one anywhere in the message.
_AMBIGUOUS = _rule("ml long", r"\bml\b|(?<!\ba\s)\blong\s*time\b(?!\s+(?:no\s+see|ago))")
_SEXUAL_CONTEXT = re.compile(
    r"\b(?:hotel|kamar|ngamar|kos|kost|kosan|apart|apartemen|ranjang|kasur|crot|kondom|pengaman|berapa|brp|harga"
    r"|tarif|rate|bayar|st|lt|semalam|sejam|bobo|tidur|puas|hot|sange|horny|bugil|telanjang|\d+\s*(?:rb|k|jt))\b"
)
_GAMING_CONTEXT = re.compile(
    r"\b(?:mabar|rank|ranked|push|hero|mythic|legend|legends|epic|glory|mlbb|game|gaming|squad|moonton|diamond"
    r"|skin|tank|mage|marksman|jungle|jungler|roam|roamer|lane|classic|brawl|draft|winrate|wr|match|ronde|turnamen)\b"
)


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\u00ad\u200b-\u200f\u2060\ufeff]", "", text)


def _matches(rule: _Rule, text: str, words: set[str]) -> Iterator[re.Match[str]]:
    windows = _windows(text, _anchors(text, words, rule.needles), 70, 90)
    for match in _finditer(rule.pattern, text, windows):
        if not (rule.negatable and _NEGATION.search(text, max(0, match.start() - _NEGATION_REACH), match.start())):
            yield match


def _raises(rule: _Rule, text: str, words: set[str]) -> bool:
    return next(_matches(rule, text, words), None) is not None


def find_concerns(text: str) -> set[str]:
    """What staff should look at: "off_platform_payment" (asking to pay outside the app: "transfer
    langsung", an account number next to a bank name, "kirim ke dana saya", "biar gak kena potongan") and
    "sexual" (solicitation, forbidden by the terms). The sender gets the same inline warning for both.

    Precision over recall for ambiguous words: "ML" counts only with a sexual context (hotel, a price,
    "berapa"...) and no gaming one; "BO", "plus-plus", "ST/LT", "check in" and "long time" only in the
    phrasings that solicit ("open BO", "BO ga?", "pijat plus", "ST berapa", "check in berdua")."""
    normal = _normalised(text)
    words = _words(normal)
    concerns = set()
    if any(_raises(rule, normal, words) for rule in _OFF_PLATFORM_RULES) or any(
        not _VIRTUAL_ACCOUNT.search(normal, max(0, match.start() - 30), match.end() + 30)
        for match in _matches(_BANK_ACCOUNT, normal, words)
    ):
        concerns.add(OFF_PLATFORM_PAYMENT)
    if any(_raises(rule, normal, words) for rule in _SEXUAL_RULES) or (
        _raises(_AMBIGUOUS, normal, words) and _SEXUAL_CONTEXT.search(normal) and not _GAMING_CONTEXT.search(normal)
    ):
        concerns.add(SEXUAL)
    return concerns
