"""The words a person writes to us on WhatsApp to stop or restart our messages, read in one place."""

STOP_WORDS = frozenset({"STOP", "BERHENTI", "UNSUBSCRIBE", "STOPALL"})
START_WORDS = frozenset({"START", "MULAI", "UNSTOP"})


def consent_word(body: str) -> bool | None:
    """False for a STOP word, True for a START word, None for anything else ("stop." and " Mulai!" count)."""
    word = (body or "").strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        return False
    if word in START_WORDS:
        return True
    return None
