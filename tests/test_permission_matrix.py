"""Every URL the project serves has a row saying what each kind of visitor gets there.

The test walks the URL resolver: a new URL without a row fails here, so nobody ships a page without
deciding who may open it. Each later issue adds its rows (with sample arguments for its URLs, and
another user's object to prove IDOR protection).

Outcomes: an HTTP status ("200", "403", "404", "405"), "login" (302 to the login page with next=),
or "redirect:<url name>" (302 to that page).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import User
from tests.factories import CompanionFactory, CustomerFactory, StaffFactory

ROLES = ("anonymous", "customer", "companion", "staff")


@dataclass(frozen=True)
class Row:
    anonymous: str
    customer: str
    companion: str
    staff: str
    # URL arguments: a dict, or a function of the `objects` fixture (things owned by someone else).
    kwargs: object = field(default_factory=dict)
    query: str = ""

    def expected(self, role: str) -> str:
        return getattr(self, role)


def same(outcome: str, **extra) -> Row:
    return Row(outcome, outcome, outcome, outcome, **extra)


def signed_in(outcome: str, **extra) -> Row:
    """Anonymous visitors are sent to log in; every signed-in role gets `outcome`."""
    return Row("login", outcome, outcome, outcome, **extra)


MATRIX: dict[str, Row] = {
    # Midtrans' signed notifications: POST only, no login, no CSRF (tests/payments/test_webhook.py).
    "payments:midtrans_notification": same("405"),
    # core
    "home": same("200"),
    "terms": same("200"),
    "privacy": same("200"),
    "healthz": same("200"),
    # Prometheus' scrape (issue 19): only with METRICS_TOKEN or from METRICS_ALLOWED_NETWORKS, both unset
    # here, so the same 404 as a page that does not exist, whoever asks (tests/ops/test_metrics.py).
    "metrics": same("404"),
    "set_language": same("405"),  # POST only (CSRF-protected form)
    # accounts (ours)
    "accounts:settings": signed_in("200"),
    "accounts:phone_change": signed_in("redirect:account_reauthenticate"),
    # privacy (issue 15): the centre; deleting needs a fresh password; the page after a deletion reads only
    # this browser's session (anyone else, signed in or not, goes home).
    "privacy:centre": signed_in("200"),
    "privacy:delete": signed_in("redirect:account_reauthenticate"),
    "privacy:deleted": same("redirect:home"),
    # Export my data: asked by POST only; the download is the asker's own (an unknown token, another person's
    # or an expired one: 404 alike; tests/privacy/test_export.py tries each with a real export).
    "privacy:export_request": signed_in("405"),
    "privacy:export_download": signed_in("404", kwargs={"token": "0" * 64}),
    "accounts:unblock": same("405", kwargs={"user_id": 1}),
    "accounts:consent_change": same("405", kwargs={"document": "marketing"}),  # POST only
    "notifications:phone_verify": signed_in("200"),
    # allauth: entrance pages send signed-in users home
    "account_signup": Row("200", "redirect:home", "redirect:home", "redirect:home"),
    "account_login": Row("200", "redirect:home", "redirect:home", "redirect:home"),
    "account_logout": Row("redirect:home", "200", "200", "200"),
    "account_inactive": same("200"),
    "account_email_verification_sent": same("200"),
    "account_confirm_email": same("200", kwargs={"key": "not-a-real-key"}),  # page says the link is invalid
    # Only inside a pending login (login by code is off; TOTP step): otherwise back to the start.
    "account_confirm_login_code": Row("redirect:account_login", "redirect:home", "redirect:home", "redirect:home"),
    "account_reset_password": same("200"),
    "account_reset_password_done": same("200"),
    "account_reset_password_from_key": same("200", kwargs={"uidb36": "zz", "key": "bad-token"}),
    "account_reset_password_from_key_done": same("200"),
    "account_reauthenticate": signed_in("200"),
    "account_email": signed_in("200"),
    "account_change_password": signed_in("200"),
    "account_set_password": signed_in("redirect:account_change_password"),
    # allauth MFA: staff here already have TOTP
    "mfa_index": signed_in("200"),
    "mfa_authenticate": Row("redirect:account_login", "redirect:home", "redirect:home", "redirect:home"),
    "mfa_reauthenticate": Row("login", "redirect:account_reauthenticate", "redirect:account_reauthenticate", "200"),
    # Turning two-factor login on or off, or new recovery codes, need a fresh password check first.
    "mfa_activate_totp": signed_in("redirect:account_reauthenticate"),
    "mfa_deactivate_totp": Row("login", "404", "404", "redirect:account_reauthenticate"),
    "mfa_view_recovery_codes": Row("login", "404", "404", "404"),
    "mfa_generate_recovery_codes": signed_in("redirect:account_reauthenticate"),
    "mfa_download_recovery_codes": Row("login", "404", "404", "404"),
    # companions: public pages
    "companions:search": same("200"),
    "companions:profile": same("200", kwargs=lambda objects: {"slug": objects["listed"].slug}),
    "companions:block": signed_in("200", kwargs=lambda objects: {"slug": objects["listed"].slug}),
    # companions: the companion's own pages (staff here have the customer role)
    "companions:dashboard": Row("login", "403", "200", "403"),
    "companions:profile_edit": Row("login", "403", "200", "403"),
    "companions:photos": Row("login", "403", "200", "403"),
    "companions:verification": Row("login", "403", "200", "403"),
    "companions:schedule": Row("login", "403", "200", "403"),
    "companions:level": Row("login", "403", "200", "403"),
    # POST-only actions (see test_companion_actions_on_someone_elses_things_are_404 for the IDOR side)
    "companions:listing": same("405"),
    "companions:photo_delete": same("405", kwargs=lambda objects: {"photo_id": objects["photo"].pk}),
    "companions:photo_cover": same("405", kwargs=lambda objects: {"photo_id": objects["photo"].pk}),
    "companions:photo_move": same("405", kwargs=lambda objects: {"photo_id": objects["photo"].pk}),
    "companions:schedule_copy": same("405"),
    "companions:schedule_rules": same("405"),
    "companions:time_off_add": same("405"),
    "companions:time_off_delete": same("405", kwargs=lambda objects: {"time_off_id": objects["time_off"].pk}),
    # Another companion's KTP: only staff; everyone else 404, visitors too (no login redirect).
    "companions:identity_file": Row(
        "404", "404", "404", "200", kwargs=lambda objects: {"pk": objects["verification"].pk, "kind": "ktp"}
    ),
    # bookings: customers book (staff here have the customer role); without ?start= the page is step 1.
    "bookings:new": Row("login", "200", "403", "200", kwargs=lambda objects: {"slug": objects["listed"].slug}),
    "bookings:list": Row("login", "200", "403", "200"),
    # Someone else's booking: only staff see it; the parties are tested in tests/bookings/test_pages.py and
    # the IDOR test below. Staff act through the admin, so the action pages are 404 for them too.
    "bookings:detail": Row(
        "login", "404", "404", "200", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    "bookings:cancel": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    "bookings:dispute": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    # reviews: only the two parties of a completed booking (someone else's booking here); staff use the admin.
    "reviews:write": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    "reviews:reply": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "reviews:safety_report": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    # chat: only the two parties of the booking (someone else's booking here); staff read in the admin.
    "chat:inbox": signed_in("200"),
    "chat:conversation": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    "chat:poll": Row("login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "chat:older": Row("login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "chat:report": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    "chat:check": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "chat:block": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    # safety at meetings: the booking's two parties only (someone else's booking here); staff use the admin.
    "safety:check_in": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "safety:end_meeting": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "safety:fine": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "safety:share": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "safety:sos": Row("login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "safety:contact": signed_in("200"),
    # A trusted contact's link: no login, the token is the permission; an unknown one is 404 for everyone.
    "safety:shared": same("404", kwargs={"token": "not-a-real-token"}),
    # Report a person: any signed-in person about a listed companion (never themselves); from a booking, only its
    # two parties (someone else's booking here: 404, tests/safety/test_reports.py tries the parties).
    "safety:report_profile": signed_in("200", kwargs=lambda objects: {"slug": objects["listed"].slug}),
    "safety:report_booking": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["booking"].reference}
    ),
    "bookings:accept": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "bookings:decline": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "bookings:withdraw": same("405", kwargs=lambda objects: {"reference": objects["booking"].reference}),
    "bookings:requests": Row("login", "403", "200", "403"),
    "bookings:calendar": Row("login", "403", "200", "403"),
    "bookings:calendar_feed": same("405"),
    "bookings:instant_booking": same("405"),
    # The secret token is the permission: no login, so a phone's calendar app can subscribe.
    "bookings:ics": same("200", kwargs=lambda objects: {"token": objects["feed"].token}),
    # payments: only the booking's own customer (tests/payments); everyone else 404, staff included
    # (they have the admin), visitors are sent to log in.
    "payments:checkout": same("405", kwargs=lambda objects: {"reference": objects["paid"].reference}),
    "payments:status": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["paid"].reference}
    ),
    "payments:receipt": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["paid"].reference}
    ),
    "payments:refund_details": Row(
        "login",
        "404",
        "404",
        "404",
        kwargs=lambda objects: {"reference": objects["paid"].reference, "refund_id": objects["refund"].pk},
    ),
    "payments:simulator": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"order_id": objects["payment"].order_id}
    ),
    "payments:earnings": Row("login", "403", "200", "403"),
    # Paid products: Sorotan is the companion's page, Plus the customer's (staff here have the customer role);
    # a purchase's page is its buyer's only (someone else's here): the same 404 as one that does not exist.
    "payments:sorotan": Row("login", "403", "200", "403"),
    "payments:plus": Row("login", "200", "404", "200"),
    "payments:purchase": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"reference": objects["purchase"].reference}
    ),
    # notifications: each user's own; someone else's is the same 404 as one that does not exist
    "notifications:list": signed_in("200"),
    # POST only; login_required runs first, so a visitor's GET is sent to log in.
    "notifications:mark_read": signed_in("405"),
    "notifications:open": Row(
        "login", "404", "404", "404", kwargs=lambda objects: {"notification_id": objects["notification"].pk}
    ),
    # The dev WhatsApp outbox exists only with DEBUG on (off in tests).
    "notifications:outbox": same("404"),
    # Twilio's signed callbacks: POST only, no login, no CSRF (tests/notifications).
    "notifications:twilio_status": same("405"),
    "notifications:twilio_inbound": same("405"),
    # promotions (issue 16): Invite friends shows only the signed-in person's own link, code and invitations
    # (test_invite_page_shows_only_ones_own_invitations); the invitation link is public, and a signed-in
    # visitor is told invitations are for new members (200, nothing kept).
    "promotions:invite": signed_in("200"),
    "promotions:landing": same("200", kwargs=lambda objects: {"code": objects["invitation"].code}),
}

# Django admin: one rule for the whole family, checked on the index and every changelist.
ADMIN_ROW = Row("login", "403", "403", "200")


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield name, prefix + str(pattern.pattern)


def all_url_patterns() -> list[tuple[str | None, str]]:
    return list(_walk(get_resolver().url_patterns))


def is_admin(name: str | None, route: str) -> bool:
    return (name or "").startswith("admin:") or route.startswith(settings.ADMIN_URL)


def test_every_url_pattern_has_a_row():
    missing = sorted(
        {f"{name or '(unnamed)'} -> /{route}" for name, route in all_url_patterns() if not is_admin(name, route)}
        - {f"{name} -> /{route}" for name, route in all_url_patterns() if name in MATRIX}
    )
    assert not missing, "URLs without a permission-matrix row:\n" + "\n".join(missing)


def test_no_row_is_stale():
    names = {name for name, _ in all_url_patterns()}
    assert set(MATRIX) <= names, f"rows for URLs that no longer exist: {sorted(set(MATRIX) - names)}"


@pytest.fixture
def clients(db):
    staff = StaffFactory()
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import STAFF_TOTP_SECRET

    TOTP.activate(staff, STAFF_TOTP_SECRET)
    users = {"customer": CustomerFactory(), "companion": CompanionFactory(), "staff": staff}
    result = {"anonymous": Client()}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        result[role] = client
    return result


def outcome_of(response) -> str:
    if response.status_code in (301, 302):
        location = response["Location"]
        path = location.split("?", 1)[0]
        if path == reverse("account_login") and "next=" in location:
            return "login"
        for name in (
            "home",
            "account_login",
            "account_reauthenticate",
            "account_change_password",
            "mfa_index",
        ):
            if path == reverse(name):
                return f"redirect:{name}"
        return f"redirect to {location}"
    return str(response.status_code)


def _check(clients, url: str, row: Row) -> list[str]:
    problems = []
    for role in ROLES:
        got = outcome_of(clients[role].get(url))
        if got != row.expected(role):
            problems.append(f"{url} as {role}: expected {row.expected(role)}, got {got}")
    return problems


@pytest.fixture
def objects(db):
    """Things that belong to a companion who is none of the signed-in roles."""
    from companions.models import CompanionPhoto, IdentityVerification, TimeOff
    from tests.companions.helpers import listed_companion
    from tests.companions.test_services import jpeg

    listed = listed_companion(name="Owner")
    photo = CompanionPhoto.objects.create(profile=listed, image=jpeg(), thumbnail=jpeg(), is_cover=True)
    time_off = TimeOff.objects.create(profile=listed, start_date=date(2027, 1, 1), end_date=date(2027, 1, 2))
    verification = IdentityVerification.objects.create(
        profile=listed, nik="3174016104960001", nik_last4="0001", ktp_image=jpeg(), selfie_image=jpeg()
    )
    # A booking between two users who are none of the signed-in roles, and that companion's feed.
    from bookings import services as booking_services
    from companions.models import Activity
    from companions.selectors import free_start_times

    now = timezone.now()
    start = free_start_times(listed, start=now, end=now + timedelta(days=15), hours=1)[0]
    booking = booking_services.booking_request(
        customer=CustomerFactory(),
        profile=listed,
        start=start,
        hours=1,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place="Kopi Tuku, Grand Indonesia",
    )
    feed = booking_services.calendar_feed_create(profile=listed)
    # A paid booking (bank transfer) cancelled early: its refund waits for the customer's bank details.
    from payments.demo import demo_pay
    from payments.models import Refund

    later = free_start_times(listed, start=now + timedelta(days=3), end=now + timedelta(days=20), hours=1)[0]
    paid = booking_services.booking_request(
        customer=CustomerFactory(),
        profile=listed,
        start=later,
        hours=1,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place="Kopi Tuku, Grand Indonesia",
    )
    booking_services.booking_accept(booking_id=paid.pk, actor=listed.user)
    payment = demo_pay(paid, method="pay_va")
    booking_services.booking_cancel(booking_id=paid.pk, actor=paid.customer)
    # The booking requests above told the listed companion about them in the app.
    from notifications.models import Notification

    notification = Notification.objects.filter(recipient=listed.user).first()
    assert notification is not None
    # The listed companion's invitation code, and a friend who signed up through it.
    from promotions import referrals

    invitation = referrals.referral_code_for(listed.user)
    friend = CustomerFactory(full_name="Wiraguna Sastrodiharjo")
    assert referrals.referral_capture(user=friend, code=invitation.code) is not None
    # The listed companion's Sorotan purchase, not paid yet.
    from products.models import Package
    from products.services import purchase_open

    package = Package.objects.create(product="sorotan", name="Sorotan 7 hari", days=7, price=70_000)
    purchase = purchase_open(buyer=listed.user, package=package, method="gateway")
    return {
        "purchase": purchase,
        "invitation": invitation,
        "friend": friend,
        "notification": notification,
        "paid": paid,
        "payment": payment,
        "refund": Refund.objects.get(booking=paid),
        "listed": listed,
        "photo": photo,
        "time_off": time_off,
        "verification": verification,
        "booking": booking,
        "feed": feed,
    }


def test_each_row_holds_for_each_role(clients, objects):
    problems = []
    for name, row in MATRIX.items():
        kwargs = row.kwargs(objects) if callable(row.kwargs) else row.kwargs
        problems += _check(clients, reverse(name, kwargs=kwargs) + row.query, row)
    assert not problems, "\n".join(problems)


def test_companion_actions_on_someone_elses_things_are_404(clients, objects):
    """IDOR: a signed-in companion posting another companion's ids changes nothing."""
    from companions.models import CompanionPhoto, TimeOff

    companion = clients["companion"]
    photo, time_off = objects["photo"], objects["time_off"]
    for url in (
        reverse("companions:photo_delete", args=[photo.pk]),
        reverse("companions:photo_cover", args=[photo.pk]),
        reverse("companions:photo_move", args=[photo.pk]),
        reverse("companions:time_off_delete", args=[time_off.pk]),
    ):
        assert companion.post(url, {"direction": "up"}).status_code == 404, url
    assert CompanionPhoto.objects.filter(pk=photo.pk, is_cover=True).exists()
    assert TimeOff.objects.filter(pk=time_off.pk).exists()


def test_booking_pages_and_actions_of_someone_elses_booking_are_404(clients, objects):
    """IDOR: another customer or companion (and staff, for actions) gets 404 for every booking page and
    every action on a booking that is not theirs, and nothing changes."""
    from bookings.models import Booking, BookingEvent

    booking = objects["booking"]
    before = (list(Booking.objects.filter(pk=booking.pk).values()), BookingEvent.objects.count())
    reference = booking.reference
    paid, refund = objects["paid"], objects["refund"]
    pages = [reverse(f"bookings:{name}", args=[reference]) for name in ("detail", "cancel", "dispute")] + [
        reverse(f"payments:{name}", args=[paid.reference]) for name in ("status", "receipt")
    ]
    actions = (
        [
            reverse(f"bookings:{name}", args=[reference])
            for name in ("accept", "decline", "withdraw", "cancel", "dispute")
        ]
        + [
            reverse("payments:checkout", args=[reference]),
            reverse("payments:refund_details", args=[paid.reference, refund.pk]),
            reverse("payments:simulator", args=[objects["payment"].order_id]),
        ]
        + [reverse(f"chat:{name}", args=[reference]) for name in ("conversation", "check", "report", "block")]
        + [reverse(f"safety:{name}", args=[reference]) for name in ("check_in", "end_meeting", "fine", "share", "sos")]
        + [reverse("safety:report_booking", args=[reference])]
    )
    pages += [reverse(f"chat:{name}", args=[reference]) for name in ("conversation", "poll", "older", "report")]
    pages += [reverse("safety:sos", args=[reference]), reverse("safety:report_booking", args=[reference])]
    problems = []
    for role in ("customer", "companion"):
        client = clients[role]
        for url in pages:
            if (status := client.get(url).status_code) != 404:
                problems.append(f"GET {url} as {role}: {status}")
        for url in actions:
            response = client.post(
                url,
                {
                    "reason": "Saya ingin membatalkan pesanan ini sekarang.",
                    "action": "pay_qris",
                    "bank": "bca",
                    "account_number": "1234567890",
                    "holder_name": "Penyerang",
                },
            )
            if response.status_code != 404:
                problems.append(f"POST {url} as {role}: {response.status_code}")
    for url in actions:
        if (status := clients["staff"].post(url, {"reason": "Staff act in the admin."}).status_code) != 404:
            problems.append(f"POST {url} as staff: {status}")
    # A made-up reference is the same 404 as someone else's: references cannot be probed.
    if (status := clients["customer"].get(reverse("bookings:detail", args=["KMP-AAAAAAAA"])).status_code) != 404:
        problems.append(f"unknown reference: {status}")
    assert not problems, "\n".join(problems)
    assert (list(Booking.objects.filter(pk=booking.pk).values()), BookingEvent.objects.count()) == before
    refund.refresh_from_db()
    assert (refund.status, refund.account_number) == ("needs_details", "")


def test_invite_page_shows_only_ones_own_invitations(clients, objects):
    """IDOR: Invite friends has no id in its URL; each signed-in person sees their own code and their own
    friend, never someone else's (here the listed companion's code and the friend who signed up through it)."""
    from promotions import referrals
    from promotions.models import Referral

    other_code = objects["invitation"].code
    other_friend = objects["friend"].full_name.split()[0]
    names = {"customer": "Larasati Kusumawardani", "companion": "Banyu Wicaksono", "staff": "Citrakara Nugraha"}
    problems = []
    for role, name in names.items():
        client = clients[role]
        user_id = int(client.session["_auth_user_id"])
        own_code = referrals.referral_code_for(User.objects.get(pk=user_id)).code
        referrals.referral_capture(user=CustomerFactory(full_name=name), code=own_code)
        before = list(Referral.objects.order_by("pk").values_list("referrer_id", "referred_id", "status"))
        # A query string cannot ask for another person's page either.
        for url in (reverse("promotions:invite"), reverse("promotions:invite") + f"?user={objects['listed'].user.pk}"):
            content = client.get(url).content.decode()
            if own_code not in content or f"{name.split()[0]} {name.split()[1][0]}." not in content:
                problems.append(f"{url} as {role}: own code or own friend missing")
            if other_code in content or other_friend in content:
                problems.append(f"{url} as {role}: someone else's code or friend shown")
            others = [other.split()[0] for other_role, other in names.items() if other_role != role]
            if any(other in content for other in others):
                problems.append(f"{url} as {role}: another signed-in person's friend shown")
        assert list(Referral.objects.order_by("pk").values_list("referrer_id", "referred_id", "status")) == before
    assert not problems, "\n".join(problems)


def test_admin_family_rule(clients):
    from django.contrib import admin

    # The analytics dashboard lives under the admin path and follows the same rule (superuser staff here;
    # staff without analytics.view_dashboard get 403: tests/analytics/test_dashboard.py).
    urls = [
        reverse("admin:index"),
        reverse("admin:payments_ledger_check"),
        reverse("analytics:dashboard"),
        reverse("analytics:finance"),
    ] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    problems = []
    for url in urls:
        # Anonymous visitors pass through the admin's own login URL to allauth's.
        response = clients["anonymous"].get(url, follow=True)
        first = response.redirect_chain[-1][0] if response.redirect_chain else ""
        if not first.startswith(reverse("account_login") + "?next="):
            problems.append(f"{url} as anonymous: ended at {first or response.status_code}")
        for role in ("customer", "companion", "staff"):
            status = str(clients[role].get(url, follow=True).status_code)
            if status != ADMIN_ROW.expected(role):
                problems.append(f"{url} as {role}: expected {ADMIN_ROW.expected(role)}, got {status}")
    assert not problems, "\n".join(problems)
