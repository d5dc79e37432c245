"""The WhatsApp channel interface (settings.WHATSAPP_BACKEND: "twilio" or "outbox"). Adapters take
and return plain data; they never touch our models (the outbox keeps its own "phone")."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ChannelError(Exception):
    """Sending failed. `transient` errors (429, 5xx, timeouts) are retried with backoff; permanent ones
    (invalid number, not on WhatsApp, blocked, opted out, no template outside the 24 h window) stop."""

    def __init__(self, message: str, *, transient: bool, code: str = "", ambiguous: bool = False):
        super().__init__(message)
        self.transient = transient or ambiguous
        self.code = code
        # The request may have reached the provider (e.g. the answer timed out): never simply resend.
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class WhatsAppMessage:
    to: str  # E.164
    template_key: str
    body: str  # the rendered text: sent as free text only inside the 24 h window
    variables: dict[str, str] = field(default_factory=dict)  # {"1": ..., "2": ...} for the template
    content_sid: str = ""  # the approved template; empty means free text
    status_callback: str = ""


@dataclass(frozen=True)
class Sent:
    provider_id: str
    status: str  # queued, sent...
    created_at: datetime | None = None
    body: str = ""  # what the provider says it sent (templates rendered), when it says


class WhatsAppChannel(Protocol):
    def send(self, message: WhatsAppMessage) -> Sent: ...

    def sent_to(self, to: str, *, since: datetime) -> list[Sent]:
        """Messages the provider accepted for `to` since `since`: how a send that crashed half-way
        finds out whether the provider got it (so it is never sent twice)."""
