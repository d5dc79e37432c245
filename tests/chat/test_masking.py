"""Contact masking and concern detection for the chat (issue 14): every corpus line passes, and the
figures over the corpus (precision, recall, time per 2,000 characters) are printed. Pure functions: no
database."""

import re
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.masking import (
    CONTACT_KINDS,
    OFF_PLATFORM_PAYMENT,
    SEXUAL,
    Span,
    find_concerns,
    find_contacts,
    masked,
)
from tests.chat.masking_corpus import HARMLESS, MUST_MASK, NEAR_MISSES, OFF_PLATFORM_LINES, SEXUAL_LINES

PLACEHOLDERS = {"phone": "[nomor disembunyikan]"}


def placeholder(kind: str) -> str:
    return PLACEHOLDERS.get(kind, "[kontak disembunyikan]")


# An independent reading of the digits a reader could still recover (digits, full-width digits, words).
WORD_DIGITS = {
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
    "four": "4",
    "lima": "5",
    "five": "5",
    "enam": "6",
    "six": "6",
    "tujuh": "7",
    "seven": "7",
    "delapan": "8",
    "lapan": "8",
    "eight": "8",
    "sembilan": "9",
    "nine": "9",
}


def recoverable_digits(text: str) -> str:
    digits = []
    for token in re.findall(r"\d|[^\W\d_]+", text):
        if token.isdigit():
            digits.append(str(unicodedata.decimal(token)))
        else:
            digits.append(WORD_DIGITS.get(token.lower(), ""))
    return "".join(digits)


def survivors(case, shown: str) -> list[str]:
    """What of case.gone is still readable in shown."""
    left = []
    remaining_digits = recoverable_digits(shown)
    for secret in case.gone:
        if secret.isdigit():
            windows = {secret[index : index + 7] for index in range(len(secret) - 6)}
            left += [window for window in windows if window in remaining_digits]
        elif secret.lower() in shown.lower():
            left.append(secret)
    return left


def contact_case_passes(case) -> bool:
    spans = find_contacts(case.text)
    return {span.kind for span in spans} == case.kinds and not survivors(case, masked(case.text, spans, placeholder))


@pytest.mark.parametrize("case", MUST_MASK, ids=[case.text[:40] for case in MUST_MASK])
def test_contact_details_are_masked(case):
    spans = find_contacts(case.text)
    shown = masked(case.text, spans, placeholder)
    assert {span.kind for span in spans} == case.kinds, (spans, shown)
    assert survivors(case, shown) == [], shown
    assert "[" in shown  # a placeholder took their place


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_left_alone(text):
    assert find_contacts(text) == []
    assert masked(text, find_contacts(text), placeholder) == text


@pytest.mark.parametrize("text", OFF_PLATFORM_LINES)
def test_off_platform_payment_is_a_concern(text):
    assert find_concerns(text) == {OFF_PLATFORM_PAYMENT}


@pytest.mark.parametrize("text", SEXUAL_LINES)
def test_sexual_solicitation_is_a_concern(text):
    assert find_concerns(text) == {SEXUAL}


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_raise_no_concern(text):
    assert find_concerns(text) == set()


def test_the_corpus_is_as_large_as_issue_14_asks():
    assert len(MUST_MASK) >= 80
    assert len(HARMLESS) >= 40
    assert len(OFF_PLATFORM_LINES) >= 15
    assert len(SEXUAL_LINES) >= 15
    assert len(NEAR_MISSES) >= 20
    assert {kind for case in MUST_MASK for kind in case.kinds} == CONTACT_KINDS


def test_precision_and_recall_over_the_corpus(capsys):
    """A line counts as found when every expected kind is reported and nothing of it stays readable; a
    harmless line that changes is a false positive. Every corpus line must pass, so both are 1.0."""
    found = sum(contact_case_passes(case) for case in MUST_MASK)
    false_positives = sum(bool(find_contacts(text)) for text in HARMLESS)
    masking_precision = found / (found + false_positives)
    masking_recall = found / len(MUST_MASK)

    figures = {"masking": (masking_precision, masking_recall)}
    for concern, lines in ((OFF_PLATFORM_PAYMENT, OFF_PLATFORM_LINES), (SEXUAL, SEXUAL_LINES)):
        others = [line for line in OFF_PLATFORM_LINES + SEXUAL_LINES if line not in lines] + NEAR_MISSES
        true_positives = sum(concern in find_concerns(line) for line in lines)
        false_positives = sum(concern in find_concerns(line) for line in others)
        figures[concern] = (true_positives / max(1, true_positives + false_positives), true_positives / len(lines))

    with capsys.disabled():
        print(
            f"\nmasking corpus: {len(MUST_MASK)} to mask, {len(HARMLESS)} harmless; concerns:"
            f" {len(OFF_PLATFORM_LINES)} off-platform, {len(SEXUAL_LINES)} sexual, {len(NEAR_MISSES)} near misses"
        )
        for name, (precision, recall) in figures.items():
            print(f"{name}: precision {precision:.3f}, recall {recall:.3f}")
    assert figures == {name: (1.0, 1.0) for name in figures}


# A long booking chat: ordinary words with prices, times, dates, counts and an address, no contact.
TYPICAL_LINES = (
    "Halo kak, aku mau booking buat acara kantor hari Sabtu, dari sore sampai malam. Nanti kita ketemu di"
    " lobby hotel dulu ya, terus jalan bareng ke ballroom. Harganya Rp 150.000 per jam kan? Dress code batik,"
    " acaranya mulai jam 19.00 sampai 22.00, tanggal 12/12/2026. Alamatnya Jl. Sudirman No. 12, Jakarta 12190."
    " Aku tinggi 165, bawa 2 teman. Kalau macet aku kabari lewat chat ini ya. "
)


def seconds_per_call(message: str) -> float:
    """Best of five rounds of CPU time (the machine is shared: the best round is the least disturbed)."""
    find_contacts(message), find_concerns(message)  # warm up (the first landline check loads metadata)
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(40):
            find_contacts(message)
            find_concerns(message)
        rounds.append((time.process_time() - started) / 40)
    return min(rounds)


def test_a_2000_character_message_is_read_in_about_a_millisecond(capsys):
    typical = (TYPICAL_LINES * 8)[:2000]
    # The corpus run together: contacts, prices, concerns and near misses on every line (a worst case).
    dense = " ".join(HARMLESS + NEAR_MISSES + [case.text for case in MUST_MASK[:20]])[:2000]
    typical_ms = seconds_per_call(typical) * 1000
    dense_ms = seconds_per_call(dense) * 1000
    with capsys.disabled():
        print(
            f"\n2,000 characters, find_contacts + find_concerns: typical {typical_ms:.2f} ms, dense {dense_ms:.2f} ms"
        )
    # Generous against a loaded CI machine; the printed figures are the measurement.
    assert typical_ms < 5
    assert dense_ms < 10


def test_spans_are_sorted_and_never_overlap():
    text = " ".join(case.text for case in MUST_MASK)
    spans = find_contacts(text)
    assert spans == sorted(spans)
    assert all(left.end <= right.start for left, right in zip(spans, spans[1:], strict=False))
    assert all(span.kind in CONTACT_KINDS for span in spans)


def test_masked_replaces_each_span_with_the_callers_placeholder_per_kind():
    text = "WA 0812 3456 7890 atau ig @rina_p, jam 19.00"
    spans = find_contacts(text)
    assert spans == [Span(3, 17, "phone"), Span(26, 33, "handle")]
    assert masked(text, spans, placeholder) == "WA [nomor disembunyikan] atau ig [kontak disembunyikan], jam 19.00"
    assert masked(text, [], placeholder) == text


def test_a_link_wins_over_the_phone_inside_it():
    assert find_contacts("wa.me/6281234567890") == [Span(0, 19, "link")]


# Pieces people type around contact details, glued in any order: the finders never fail, their spans
# stay inside the text, sorted and apart, and masking leaves everything outside the spans as it was.
PIECES = (
    "0 8 1 2 62 +62 ( ) - . / @ at dot nol kosong delapan satu dobel o ig line: id wa.me/ t.me/ rina_p gmail com"
    " Rp 150.000 rb 19.00 12/12/2026 No. KMP-2345ABCD bo ml st lt transfer langsung bca 1234567890 ０ ８ 🙏"
    " \u200b İ ß ﬁ ² ١"
).split(" ")


@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(["", " ", "  ", "-", ".", "\n"])), max_size=40))
def test_any_text_gives_valid_spans(pieces):
    text = "".join(piece + glue for piece, glue in pieces)
    spans = find_contacts(text)
    assert all(0 <= span.start < span.end <= len(text) for span in spans)
    assert all(left.end <= right.start for left, right in zip(spans, spans[1:], strict=False))
    shown = masked(text, spans, lambda kind: "\x00")
    assert shown.split("\x00") == [
        text[start:end]
        for start, end in zip(
            [0] + [span.end for span in spans], [span.start for span in spans] + [len(text)], strict=True
        )
    ]
    assert find_concerns(text) <= {OFF_PLATFORM_PAYMENT, SEXUAL}
