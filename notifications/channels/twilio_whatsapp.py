"""WhatsApp through Twilio's Messages API (the `twilio` client, with an explicit timeout)."""

import json
from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NameResolutionError, NewConnectionError

from notifications.channels.base import ChannelError, Sent, WhatsAppMessage

# Twilio error codes after which retrying cannot help (../shared/INTEGRATIONS.md).
PERMANENT_CODES = {21211, 21610, 63003, 63014, 63016, 21408, 21614}


def _never_reached_twilio(error: BaseException) -> bool:
    """True only when the request surely did not arrive: the connection could not be opened."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


def _prefixed(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class TwilioWhatsApp:
    def __init__(self, *, account_sid: str, auth_token: str, sender: str, timeout: float, base_url: str = ""):
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if base_url:  # a local fake in tests
            self.client.api.base_url = base_url.rstrip("/")
        self.sender = _prefixed(sender)

    def _call(self, function, **kwargs):
        try:
            return function(**kwargs)
        except TwilioRestException as error:
            code = int(error.code or 0)
            transient = error.status == 429 or error.status >= 500
            if code in PERMANENT_CODES:
                transient = False
            raise ChannelError(str(error.msg)[:280], transient=transient, code=str(code or error.status)) from error
        except (TwilioException, OSError) as error:  # requests' errors are OSErrors
            if _never_reached_twilio(error):
                raise ChannelError(str(error)[:280], transient=True, code="network") from error
            # A read timeout or a connection lost mid-answer: Twilio may have accepted the message.
            raise ChannelError(str(error)[:280], transient=True, code="timeout", ambiguous=True) from error

    def send(self, message: WhatsAppMessage) -> Sent:
        arguments = {"from_": self.sender, "to": _prefixed(message.to)}
        if message.content_sid:
            arguments.update(content_sid=message.content_sid, content_variables=json.dumps(message.variables))
        else:
            arguments["body"] = message.body
        if message.status_callback:
            arguments["status_callback"] = message.status_callback
        created = self._call(self.client.messages.create, **arguments)
        return Sent(provider_id=created.sid, status=created.status or "queued", created_at=created.date_created)

    def sent_to(self, to: str, *, since: datetime) -> list[Sent]:
        # Every message from our sender to `to`, kept if created since `since` (a minute of clock skew
        # allowed). No DateSent filter: a message Twilio accepted but still holds in its queue (bulk sends,
        # WhatsApp's rate limits) has no date_sent yet, and it is exactly the one an interrupted send must
        # find. Up to 1,000 per page; one number gets far fewer from us, and this runs only after a crash.
        messages = self._call(self.client.messages.list, to=_prefixed(to), from_=self.sender, page_size=1000)
        return [
            Sent(
                provider_id=message.sid,
                status=message.status or "",
                created_at=message.date_created,
                body=message.body or "",
            )
            for message in messages
            if message.date_created is None or message.date_created >= since - timedelta(minutes=1)
        ]
