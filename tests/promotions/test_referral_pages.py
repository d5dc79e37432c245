"""The referral programme's pages (issue 16): "Invite friends" (the person's link and code, the WhatsApp
share button, each invitation's state and why a reward is pending, the rewards to use), the invitation link
a friend opens, and the sign-up form that carries the code.

Every state on the page is built through the real services: sign-ups through the sign-up form or
`referral_capture`, phone numbers proved with the WhatsApp code (notifications/phone_codes.py), first bookings
requested, accepted, paid in the simulator and completed by the deadline job, rewards by `referral_reward_try`
and reversals by the gateway's refund notification. Pages are read in English (the language cookie) where the
words matter, so the tests hold once the Indonesian catalogue is filled; the share message is compared in
the default language through the Indonesian catalogue and its Indonesian money format."""

import json
import re
from datetime import datetime, time, timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from bookings import services as booking_services
from bookings.models import BookingStatus
from core.formatting import format_rupiah
from notifications import phone_codes
from notifications.models import OutboxMessage
from payments import services as payment_services
from payments.demo import demo_pay
from payments.gateways.simulator import notification_for
from payments.models import SimulatorTransaction
from payments.services.payouts import bank_account_save
from promotions import referrals
from promotions.models import Referral, ReferralCode, Voucher
from promotions.services import quote
from tests.bookings.helpers import WIB, make_companion, request
from tests.factories import CompanionFactory, CustomerFactory, signup_data

pytestmark = pytest.mark.django_db

R = Referral.Status
INVITE = "/accounts/invite/"


@pytest.fixture(autouse=True)
def programme(referral_programme, settings):
    """The issue's figures (conftest's referral_programme), with a 10% welcome discount for a new member
    without an invitation; WhatsApp codes go to the outbox."""
    settings.WELCOME_DISCOUNT_BASIS_POINTS = 1000
    settings.WHATSAPP_BACKEND = "outbox"


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def en(message: str) -> str:
    with translation.override("en"):
        return str(translation.gettext(message))


def rupiah_en(amount: int) -> str:
    return format_rupiah(amount, language="en")


# --- Building the states through the services ------------------------------------------------------------


def friend(name: str, **fields) -> User:
    return CustomerFactory(full_name=name, **fields)


def shown_name(user: User) -> str:
    """How the page names a friend: first name and the last name's initial."""
    first, *rest = user.full_name.split()
    return f"{first} {rest[-1][0]}." if rest else first


def invite(referrer: User, person: User, *, address: str = "") -> Referral:
    referral = referrals.referral_capture(user=person, code=referrals.referral_code_for(referrer).code, address=address)
    assert referral is not None
    return referral


def verify_phone(user: User, capture) -> None:
    """The friend proves their WhatsApp number: a code sent through the outbox, typed back."""
    with capture(execute=True):
        phone_codes.phone_verification_start(user=user)
    body = OutboxMessage.objects.filter(to=user.phone).latest("created_at", "id").body
    phone_codes.phone_verification_check(user=user, code=re.search(r"\b(\d{6})\b", body).group(1))
    user.refresh_from_db()
    assert user.phone_verified_at is not None


def first_booking_completed(customer: User, profile=None):
    """`customer` books `profile` (a new companion by default) on a clock six days ago, the companion accepts,
    the customer pays in the simulator, and the deadline job completes the booking once its dispute window
    closed (end + 24 h, still in the past): so the qualifying date, and any reward counted from it, is recent."""
    clock = timezone.now() - timedelta(days=6)
    profile = profile or make_companion()
    start = datetime.combine(timezone.localdate(clock, timezone=WIB) + timedelta(days=2), time(10, 0), tzinfo=WIB)
    booking = request(customer, profile, start, now=clock)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=clock)
    booking.refresh_from_db()
    demo_pay(booking, now=clock + timedelta(minutes=10))
    booking.refresh_from_db()
    booking_services.bookings_sweep(now=booking.complete_after + timedelta(minutes=1))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    return booking


def rewarded(referrer: User, person: User, capture) -> Referral:
    referral = invite(referrer, person)
    verify_phone(person, capture)
    first_booking_completed(person)
    assert referrals.referral_reward_try(referral_id=referral.pk) == R.REWARDED
    referral.refresh_from_db()
    return referral


def refunded_at_the_gateway(booking) -> None:
    """A full refund made in the provider's dashboard, reported by its signed notification."""
    payment = booking.payments.get()
    record = SimulatorTransaction.objects.get(order_id=payment.order_id)
    record.transaction_status = "refund"
    record.save(update_fields=["transaction_status"])
    notification = notification_for(record)
    payment_services.payment_apply_notification(payload=notification, raw_body=json.dumps(notification))


# --- Reading the page ------------------------------------------------------------------------------------


def invitation_cards(content: str) -> dict[str, dict]:
    """Each invitation on the page by the friend's shown name: its state, badge, steps done, reward, why."""
    listing = content.split('data-testid="invitations"', 1)
    if len(listing) == 1:
        return {}
    cards = {}
    for block in listing[1].split('<li class="card p-4" data-status="')[1:]:
        status = block.split('"', 1)[0]
        name = re.search(r'<p class="font-semibold">([^<]+)</p>', block).group(1).strip()
        badge = re.search(r'<span class="badge[^"]*">(?:<svg.*?</svg>)?\s*([^<]+)</span>', block, re.S).group(1)
        why = re.search(r'data-testid="why">([^<]+)<', block)
        reward = re.search(r'<p class="mt-2 text-sm">([^<]+)</p>', block)
        cards[unescape(name)] = {
            "status": status,
            "badge": unescape(badge.strip()),
            "done": block.count(en("Done:")),
            "why": unescape(why.group(1).strip()) if why else "",
            "reward": unescape(reward.group(1).strip()) if reward else "",
        }
    return cards


def input_value(content: str, element_id: str) -> str:
    return re.search(rf'<input id="{element_id}"[^>]* value="([^"]*)"', content).group(1)


# --- Link, code and the share button ---------------------------------------------------------------------


def test_the_invite_page_makes_a_code_on_first_visit_and_keeps_it(client):
    customer = CustomerFactory()
    client.force_login(customer)
    assert not ReferralCode.objects.filter(user=customer).exists()

    first = client.get(INVITE)
    assert first.status_code == 200
    code = ReferralCode.objects.get(user=customer).code
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code)  # no 0/O, 1/I
    content = first.content.decode()
    assert input_value(content, "invite-code") == code
    assert input_value(content, "invite-link") == f"http://testserver/r/{code}/"  # absolute, for sharing

    again = client.get(INVITE).content.decode()
    assert ReferralCode.objects.filter(user=customer).count() == 1
    assert input_value(again, "invite-code") == code
    assert input_value(again, "invite-link") == f"http://testserver/r/{code}/"


def share_text(content: str) -> str:
    href = re.search(r'<a [^>]*href="([^"]+)"[^>]*data-testid="whatsapp-share"', content).group(1)
    url = urlparse(href.replace("&amp;", "&"))
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/")
    assert set(parse_qs(url.query)) == {"text"}
    return parse_qs(url.query)["text"][0]


def test_the_whatsapp_button_opens_whatsapp_with_an_indonesian_message_carrying_the_link(client, settings):
    customer = CustomerFactory()
    client.force_login(customer)
    content = client.get(INVITE).content.decode()  # no language chosen: the site's Indonesian
    link = f"{settings.SITE_URL}/r/{referrals.referral_code_for(customer).code}/"
    assert link.startswith("http://testserver/")
    message = share_text(content)
    assert link in message
    with translation.override("id"):
        expected = translation.gettext(
            "Hi! I use Kompanion to book verified companions for events, hangouts and trips. Sign up with my link "
            "and get %(percent)s off your first booking (up to %(cap)s): %(link)s"
        ) % {"percent": "25%", "cap": format_rupiah(75_000, language="id"), "link": link}
    assert message == expected
    assert "Rp\u00a075.000" in message  # the Indonesian money format (dots), not the English one
    assert 'target="_blank"' in content and 'rel="noopener noreferrer"' in content

    # The link is the site's canonical address (SITE_URL, as every link sent out), whatever host served the page.
    settings.SITE_URL = "https://kompanion.id"
    content = client.get(INVITE, HTTP_HOST="127.0.0.1").content.decode()
    canonical = f"https://kompanion.id/r/{referrals.referral_code_for(customer).code}/"
    assert input_value(content, "invite-link") == canonical and canonical in share_text(content)

    # An English reader shares in English.
    english_message = share_text(english(client).get(INVITE).content.decode())
    assert canonical in english_message and "Rp\u00a075,000" in english_message
    assert english_message.startswith("Hi! I use Kompanion")


# --- The invitations and why a reward is pending -----------------------------------------------------------


def test_each_invitation_shows_its_state_its_steps_and_why_the_reward_is_pending(
    client, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    referrer = CustomerFactory(full_name="Sari Wulandari")
    english(client).force_login(referrer)
    assert "No invitations yet" in client.get(INVITE).content.decode()

    waiting_phone = friend("Ani Kusuma")
    invite(referrer, waiting_phone)
    waiting_booking = friend("Budi Hartono")
    invite(referrer, waiting_booking)
    verify_phone(waiting_booking, capture)
    paid = friend("Citra Dewi")
    rewarded(referrer, paid, capture)
    taken_back = friend("Dodi Pratama")
    reversed_referral = rewarded(referrer, taken_back, capture)
    refunded_at_the_gateway(reversed_referral.qualifying_booking)
    assert Referral.objects.get(pk=reversed_referral.pk).status == R.REVERSED
    seen = friend("Eka Saputra", phone=CustomerFactory().phone)  # a number already on another account
    assert invite(referrer, seen).status == R.REJECTED
    settings.REFERRAL_BURST_SIGNUPS = 1  # a second sign-up from one address holds both
    burst_one, burst_two = friend("Fajar Nugroho"), friend("Gita Permata")
    invite(referrer, burst_one, address="198.51.100.9")
    invite(referrer, burst_two, address="198.51.100.9")

    content = client.get(INVITE).content.decode()
    cards = invitation_cards(content)
    assert list(cards) == [  # newest first
        shown_name(person) for person in (burst_two, burst_one, seen, taken_back, paid, waiting_booking, waiting_phone)
    ]
    assert cards[shown_name(waiting_phone)] == {
        "status": "pending",
        "badge": en("In progress"),
        "done": 1,  # signed up
        "why": en("Waiting for your friend to verify their WhatsApp number."),
        "reward": "",
    }
    assert cards[shown_name(waiting_booking)] == {
        "status": "pending",
        "badge": en("In progress"),
        "done": 2,  # signed up, verified
        "why": en("Waiting for your friend's first booking to be completed (24 hours after it ends, with no dispute)."),
        "reward": "",
    }
    assert cards[shown_name(paid)] == {
        "status": "rewarded",
        "badge": en("Rewarded"),
        "done": 4,
        "why": "",
        "reward": f"Voucher {rupiah_en(50_000)}",
    }
    assert cards[shown_name(taken_back)] == {
        "status": "reversed",
        "badge": en("Reversed"),
        "done": 3,  # the reward step is undone
        "why": en("Your friend's first booking was refunded in full, so the reward was taken back."),
        "reward": f"Voucher {rupiah_en(50_000)}",
    }
    assert cards[shown_name(seen)] == {
        "status": "rejected",
        "badge": en("Not eligible"),
        "done": 1,
        "why": en("Your friend's phone number is already used by another account."),
        "reward": "",
    }
    for person in (burst_one, burst_two):
        assert cards[shown_name(person)] == {
            "status": "held",
            "badge": en("Held for review"),
            "done": 1,
            "why": en("Several sign-ups came from one place through your link: our team is checking them."),
            "reward": "",
        }
    # Full names never show; the one voucher still usable is offered (the reversed one is revoked).
    for person in (waiting_phone, waiting_booking, paid, taken_back, seen, burst_one, burst_two):
        assert person.full_name not in content
    assert list(Voucher.objects.filter(owner=referrer).values_list("status", flat=True).order_by("pk")) == [
        "available",
        "revoked",
    ]
    rewards = content.split('data-testid="rewards"', 1)[1].split("</ul>", 1)[0]
    assert rewards.count('<li class="card p-4">') == 1
    assert f"{rupiah_en(50_000)} off your next booking" in rewards
    # A customer referrer reads the voucher offer, not the companion's commission cut.
    assert f"you get a {rupiah_en(50_000)} voucher for your next booking" in content
    assert "commission is 2 points lower" not in content


def test_a_companion_referrer_reads_the_commission_cut_wording_and_sees_a_self_referral_refused(
    client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    referrer_profile = make_companion(name="Ayu")
    referrer = referrer_profile.user
    english(client).force_login(referrer)
    content = client.get(INVITE).content.decode()
    assert "When a friend's first booking is completed, your commission is 2 points lower for 30 days." in content
    assert "voucher for your next booking" not in content

    # A friend who turns out to share the referrer's bank account: not eligible, in the referrer's words.
    own_profile = make_companion(name="Bunga")
    own = own_profile.user
    own.full_name = "Bunga Maharani"
    own.save(update_fields=["full_name"])
    self_referral = invite(referrer, own)
    verify_phone(own, capture)
    bank_account_save(profile=referrer_profile, bank="bca", account_number="1234567890", holder_name="Ayu")
    bank_account_save(profile=own_profile, bank="bni", account_number="1234-567-890", holder_name="Bunga")
    first_booking_completed(CustomerFactory(), profile=own_profile)  # the friend's first booking, as a companion
    assert referrals.referral_reward_try(referral_id=self_referral.pk) == R.REJECTED
    # A real friend's first booking completes: the referrer's commission is lower.
    real = friend("Dimas Anggara")
    rewarded(referrer, real, capture)

    content = client.get(INVITE).content.decode()
    cards = invitation_cards(content)
    assert cards[shown_name(own)]["status"] == "rejected"
    assert cards[shown_name(own)]["why"] == en(
        "This sign-up looks like your own account, so it does not earn a reward."
    )
    assert cards[shown_name(real)]["status"] == "rewarded"
    assert cards[shown_name(real)]["reward"] == "Commission 2 points lower"
    rewards = content.split('data-testid="rewards"', 1)[1].split("</ul>", 1)[0]
    assert "Your commission is 2% lower" in rewards
    assert not Voucher.objects.exists()  # a companion's reward is never a voucher


def test_the_invite_page_needs_a_login(client):
    response = client.get(INVITE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={INVITE}"
    assert not ReferralCode.objects.exists()


def test_the_invite_page_queries_stay_the_same_as_invitations_grow(client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    referrer = CustomerFactory()
    client.force_login(referrer)
    rewarded(referrer, friend("Hana Lestari"), capture)
    client.get(INVITE)  # the code is made on the first visit; count the visits after that
    with CaptureQueriesContext(connection) as one:
        assert client.get(INVITE).status_code == 200
    # Nine more of every kind: verified or not, a companion friend, another reward.
    for number in range(7):
        person = friend(f"Teman{number} Baru")
        invite(referrer, person)
        if number % 2:
            verify_phone(person, capture)
    invite(referrer, CompanionFactory(full_name="Indah Sari"))
    rewarded(referrer, friend("Joko Susilo"), capture)
    with CaptureQueriesContext(connection) as ten:
        content = client.get(INVITE).content.decode()
    assert content.count("data-status=") == 10
    assert len(ten) == len(one), [query["sql"] for query in ten.captured_queries]


# --- The invitation link ---------------------------------------------------------------------------------


def test_a_valid_link_keeps_the_code_for_sign_up_and_shows_the_offer(client):
    referrer = CustomerFactory(full_name="Sari Wulandari")
    code = referrals.referral_code_for(referrer).code
    response = english(client).get(reverse("promotions:landing", args=[code.lower()]))  # typed by hand
    assert response.status_code == 200
    assert client.session[referrals.SESSION_KEY] == code
    content = response.content.decode()
    assert "Sari W. invites you to Kompanion" in content and "Wulandari" not in content
    offer = re.search(r'data-testid="invited-offer">([^<]+)<', content).group(1)
    assert offer == f"Sign up with this invitation and get 25% off your first booking, up to {rupiah_en(75_000)}."
    assert 'data-testid="invitation-invalid"' not in content
    assert f'href="{reverse("account_signup")}"' in content


def test_an_unknown_link_says_so_and_keeps_nothing(client):
    referrals.referral_code_for(CustomerFactory())
    response = english(client).get(reverse("promotions:landing", args=["ZZZZ9999"]))
    assert response.status_code == 200  # never a 404 that tells codes apart from non-codes
    content = response.content.decode()
    assert 'data-testid="invitation-invalid"' in content and 'data-testid="invited-offer"' not in content
    assert en("This invitation link is not valid any more. You can still sign up.") in content
    assert referrals.SESSION_KEY not in client.session


def test_a_signed_in_visitor_is_told_invitations_are_for_new_members(client):
    code = referrals.referral_code_for(CustomerFactory()).code
    member = CustomerFactory()
    english(client).force_login(member)
    response = client.get(reverse("promotions:landing", args=[code]))
    assert response.status_code == 200
    content = response.content.decode()
    assert en("You already have an account: invitations are for new members.") in content
    assert 'data-testid="invited-offer"' not in content
    assert referrals.SESSION_KEY not in client.session
    assert not Referral.objects.exists()


# --- Sign-up with an invitation --------------------------------------------------------------------------


def sign_up(client, **overrides):
    return client.post(reverse("account_signup"), signup_data(**overrides), REMOTE_ADDR="203.0.113.7")


def test_the_sign_up_form_is_prefilled_from_the_link_and_the_sign_up_is_recorded(client):
    referrer = CustomerFactory()
    code = referrals.referral_code_for(referrer).code
    client.get(reverse("promotions:landing", args=[code]))
    page = client.get(reverse("account_signup"))
    assert page.context["form"]["invitation_code"].value() == code
    field = re.search(r'<input[^>]*name="invitation_code"[^>]*>', page.content.decode())
    assert field is not None, "the sign-up page has no invitation code field"
    assert f'value="{code}"' in field.group(0)

    assert sign_up(client, invitation_code=code).status_code == 302
    friend = User.objects.get(email="rina@example.id")
    referral = Referral.objects.get(referred=friend)
    assert (referral.referrer, referral.status) == (referrer, R.PENDING)
    assert referrals.SESSION_KEY not in client.session  # used once


def test_a_typed_unknown_code_is_a_form_error_that_keeps_what_was_typed_and_creates_nobody(client):
    referrals.referral_code_for(CustomerFactory())
    before = User.objects.count()
    response = sign_up(english(client), invitation_code="salah123")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["invitation_code"] == [
        en("This invitation code is not valid. Check it, or leave the field empty.")
    ]
    assert form["invitation_code"].value() == "salah123"
    assert User.objects.count() == before and not Referral.objects.exists()


def test_a_typed_code_in_lower_case_with_spaces_records_the_invitation(client):
    referrer = CustomerFactory()
    code = referrals.referral_code_for(referrer).code
    typed = f" {code[:4].lower()} {code[4:].lower()} "
    assert sign_up(client, invitation_code=typed).status_code == 302
    referral = Referral.objects.get(referred__email="rina@example.id")
    assert (referral.referrer, referral.status, referral.flags) == (referrer, R.PENDING, [])
    # The friend's first request gets the raised welcome discount (a new member without one gets 10%).
    profile = make_companion()
    start = timezone.now() + timedelta(days=3)
    hangout = profile.activities.get(slug="hangout")
    with translation.override("en"):
        invited = quote(customer=referral.referred, profile=profile, activity=hangout, start=start, hours=2)
        ordinary = quote(customer=CustomerFactory(), profile=profile, activity=hangout, start=start, hours=2)
    assert (invited.source, invited.discount, invited.label) == ("welcome", 75_000, "Invited friend's discount (25%)")
    assert (ordinary.discount, ordinary.label) == (30_000, "Welcome discount (10%)")
