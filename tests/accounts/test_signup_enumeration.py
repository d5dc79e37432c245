"""Defect 17: sign-up must not tell who has an account. An address that is registered was answered in
about 0.1 s, a new one in about 2 s (password hashing and SMTP inside the request). Both paths now hash
a password once, send their email from a task after the response, and answer the same."""

import re

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts import tasks
from accounts.models import User
from tests.accounts.test_signup import signup_data
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value=""'),
    (re.compile(r'nonce="[^"]+"'), 'nonce=""'),
    (re.compile(r'"X-CSRFToken": "[^"]+"'), '"X-CSRFToken": ""'),
]


@pytest.fixture
def hashes(monkeypatch):
    """Counts password hashes (tests use the MD5 hasher)."""
    calls = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return calls


@pytest.fixture
def queued(monkeypatch):
    """The account emails the request handed to the task queue (instead of sending them itself)."""
    messages = []
    monkeypatch.setattr(tasks.send_email_task, "delay", messages.append)
    return messages


def sign_up_as(client, email):
    response = client.post(reverse("account_signup"), signup_data(email=email), REMOTE_ADDR="203.0.113.7")
    page = client.get(response["Location"]).content.decode()
    for pattern, replacement in VOLATILE:
        page = pattern.sub(replacement, page)
    return response, page.replace(email, "<email>")


def test_a_registered_and_a_new_address_get_the_same_answer_and_the_same_work(client, hashes, queued):
    CustomerFactory(email="taken@example.id")
    hashes.clear()

    taken_response, taken_page = sign_up_as(client, "taken@example.id")
    taken_hashes, taken_queued = len(hashes), list(queued)
    client.cookies.clear()
    new_response, new_page = sign_up_as(client, "new@example.id")

    assert User.objects.filter(email="new@example.id").exists()
    assert User.objects.filter(email="taken@example.id").count() == 1
    # The same answer: status, redirect and the page it leads to.
    assert (taken_response.status_code, taken_response["Location"]) == (302, reverse("account_email_verification_sent"))
    assert (new_response.status_code, new_response["Location"]) == (302, reverse("account_email_verification_sent"))
    assert taken_page == new_page
    # The same work: one password hash each (a new account's password; a throwaway for the registered one).
    assert taken_hashes == 1
    assert len(hashes) == 2
    # No email was sent inside either request: each went to the queue, to be sent after the response.
    assert mail.outbox == []
    assert len(taken_queued) == 1 and len(queued) == 2

    for message in queued:
        tasks.send_email_task.apply(args=[message])
    taken_mail, new_mail = mail.outbox
    assert (taken_mail.to, new_mail.to) == (["taken@example.id"], ["new@example.id"])
    with translation.override("id"):
        subject = "[Kompanion] " + gettext("About your sign-up")
    assert taken_mail.subject == new_mail.subject == subject
    taken_lines, new_lines = taken_mail.body.strip().splitlines(), new_mail.body.strip().splitlines()
    assert taken_lines[0] == new_lines[0]  # the same greeting
    assert taken_lines[-2:] == new_lines[-2:]  # the same sign-off
    assert "/accounts/password/reset/" in taken_mail.body
    assert "/accounts/confirm-email/" in new_mail.body


def test_the_email_task_sends_what_the_request_rendered():
    message = {
        "subject": "Subject",
        "body": "Text",
        "from_email": "Kompanion <halo@kompanion.id>",
        "to": ["rina@example.id"],
        "headers": {},
        "alternatives": [["<p>Text</p>", "text/html"]],
    }
    tasks.send_email_task.apply(args=[message])
    (sent,) = mail.outbox
    assert (sent.subject, sent.body, sent.from_email, sent.to) == (
        "Subject",
        "Text",
        "Kompanion <halo@kompanion.id>",
        ["rina@example.id"],
    )
    assert [tuple(alternative) for alternative in sent.alternatives] == [("<p>Text</p>", "text/html")]
