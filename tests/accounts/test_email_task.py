"""Account emails (confirm your address, reset your password) are sent at least once too (issue 11,
failure 5): a lost answer is retried under the Message-ID the email got when it was rendered, so a
duplicate is folded by the mail client; a recipient the server refuses for good (5xx) is not retried."""

import re
import smtplib

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from accounts import tasks
from tests.notifications.fake_smtp import FlakyBackend


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.notifications.fake_smtp.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.calls = [], 0
    return FlakyBackend


def rendered() -> dict:
    email = EmailMultiAlternatives(
        subject="Confirm", body="Text", from_email="halo@kompanion.id", to=["rina@example.id"]
    )
    email.attach_alternative("<p>Text</p>", "text/html")
    return tasks.email_as_dict(email)


def test_an_email_resent_after_a_lost_answer_keeps_its_message_id(flaky):
    message = rendered()
    assert re.fullmatch(r"<account\.[0-9a-f]{24}@testserver>", message["headers"]["Message-ID"])
    assert rendered()["headers"]["Message-ID"] != message["headers"]["Message-ID"]
    # The server took it, the connection dropped before it said so: the task's retry sends it again.
    flaky.failures = [(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True)]

    # In-process the retry runs at once, inside the first attempt (a worker would schedule it).
    tasks.send_email_task.apply(args=[message], throw=False)

    assert flaky.calls == 2
    first, second = (sent.message()["Message-ID"] for sent in mail.outbox)
    assert first == second == message["headers"]["Message-ID"]


def test_a_recipient_refused_for_good_is_not_retried(flaky):
    flaky.failures = [(smtplib.SMTPRecipientsRefused({"rina@example.id": (550, b"5.1.1 no such user")}), False)]

    result = tasks.send_email_task.apply(args=[rendered()])

    assert result.successful() and flaky.calls == 1 and mail.outbox == []


def test_a_recipient_refused_for_now_is_retried(flaky):
    flaky.failures = [(smtplib.SMTPRecipientsRefused({"rina@example.id": (451, b"4.7.1 try later")}), False)]

    tasks.send_email_task.apply(args=[rendered()], throw=False)  # retried in-process, at once

    assert flaky.calls == 2
    assert [sent.to for sent in mail.outbox] == [["rina@example.id"]]
