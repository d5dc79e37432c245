"""Chat under load (issue 14): 500 active conversations, each polled by both parties every 4 s (1,000
parties: 250 polls a second offered), plus 50 messages a second sent, against gunicorn as the page
scenarios run it (tests/bench/run.py: --workers x --threads, config.settings.bench, the page and fragment
caches on as in production).

The world (created once, kept; about 10 s): CONVERSATIONS bookings (references KMPC + a number) between
distinct customers (their own e-mail domain, CHAT_DOMAIN) and distinct bench companions, a month ahead (two
thirds paid, a third awaiting payment: their contact details are masked for the recipient), each with a
conversation of 3-40 earlier messages, all read; the first conversation has exactly SHORT messages and the
second LONG. Every run leaves it as seeded: the messages a run sends (their client keys are random UUIDs,
the seeded ones name-based) and the in-app notices about them are deleted, the read marks put back.
The dates move a month ahead again when they come within 20 days.

Each party signs in with a session row of its own (as a login leaves it; its once-a-minute idle touch
spread over the minute, so about 17 session writes a second happen as in production) and a CSRF cookie.

Per run, on the server with --workers workers:
1. the trivial page (/terms/), closed loop at --concurrency (as run.py measures it): the reference; then the
   same page signed in as the parties (the frame a poll pays for: session and user);
2. the open loop for --chat-seconds: every party polls /messages/<reference>/poll/?after=<the newest it
   has> every 4 s (phases spread), as HTMX does: a poll that falls due while the party's previous one is
   still out waits for it, and only the latest waiting one is kept ("coalesced" counts the others);
   sends arrive as a Poisson process at 50 a second, each by a party without a send in flight, POSTed as
   the composer does (HTMX, CSRF header, text + client_key + after). Requests go out over --chat-connections
   keep-alive connections; a request's client time runs from when it was due, so any queueing in the client
   or the server is in it (no coordinated omission). Polls are split by their answer: nothing new (204) or
   new messages (200 with them);
3. polls with nothing new (204), closed loop at --concurrency: the same shape as the trivial page's figure.
Then on a server with ONE worker (same threads): the trivial pages and the 204 polls, closed loop: how many
polls a second one gunicorn worker serves. Beside each closed loop's times, the CPU it cost per request: of the
gunicorn workers and of the bench database's PostgreSQL backends (from /proc; on a machine shared with other
work this holds better than times do), and for the open loop the cores each side used.

Before the load, in-process with Django's test client: the queries of a poll with nothing new, a poll with
a new message and a send, in the SHORT and in the LONG conversation (they must be the same number), listed
for the long one (--chat-explain: EXPLAIN ANALYZE of each of its SELECTs).

Prints figures; returns False (the benchmark broke) when a poll answered other than 200/204, a send other
than 200, a 200 poll carried no message, a send's answer lacked the message, a request failed to connect,
or the messages stored differ from the sends answered 200.
"""

from __future__ import annotations

import http.client
import os
import queue
import random
import re
import secrets
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from tests.bench import seed
from tests.bench.load import HEADERS, SERVER_TIMING, Result, fetch, percentile, run_items, run_load

CHAT_DOMAIN = f"chat.{seed.EMAIL_DOMAIN}"
PREFIX = "KMPC"  # booking references (real ones are KMP-XXXXXXXX, the history's KMPH...)
CONVERSATIONS = 500
SHORT, LONG = 5, 500  # the first two conversations' messages: queries per request must not differ
SEEDED_MESSAGES = (3, 40)  # every other conversation's
POLL_EVERY_S = 4.0  # templates/chat/conversation.html: hx-trigger="every 4s"
SENDS_PER_SECOND = 50.0
SEED_KEYS = uuid.UUID("6f1c2d3e-0000-4000-8000-00000000c4a7")  # uuid5 namespace of the seeded messages
AFTER = re.compile(rb'id="chat-after" name="after" value="(\d+)"')
MESSAGE = re.compile(rb'data-message-id="(\d+)"')
RETRIABLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
DRAIN_S = 300  # at most this long after the window for the answers still owed (an overloaded server's backlog)
TEXTS = (
    "Halo kak, jadi ketemu di kafe yang di pusat kota ya?",
    "Siap, aku sampai sekitar jam 7 malam.",
    "Oke, nanti aku pakai baju biru biar gampang dikenali.",
    "Kalau hujan kita pindah ke dalam mall saja ya.",
    "Maaf telat balas, tadi masih di jalan.",
    "Aku suka kopi susu, kamu?",
    "Sounds good, see you there!",
    "Parkirnya di basement B2 ya kak.",
    "Sip, sampai ketemu jam 19.30 di lobi.",
    "Terima kasih, sampai ketemu!",
    "Boleh minta nomor WA? 0812 3456 7890",  # a contact: masked for the recipient while unpaid
    "Email aku aja: ayu.bench@example.com",  # a contact
)


@dataclass(frozen=True)
class Talk:
    """One bench conversation."""

    pk: int
    booking_id: int
    reference: str
    customer_id: int
    companion_id: int  # the companion's user
    seeded: int  # its seeded messages


@dataclass
class Party:
    """One of the two people of a conversation, as the open loop keeps them."""

    talk: Talk
    user_id: int
    session_key: str
    csrf: str
    after: int  # the newest message this party's page shows
    poll_busy: bool = False
    poll_waiting: float | None = None  # when the poll waiting for the one in flight fell due
    send_busy: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # the session and CSRF cookies, HX-Request


@dataclass
class Done:
    """One request of the open loop."""

    kind: str  # "poll" or "send"
    talk: Talk
    due: float  # perf_counter() when it fell due
    sent: float
    done: float
    status: int
    server_ms: float | None
    queries: int | None
    messages: int  # messages in the answer
    error: str = ""


@dataclass
class OpenLoop:
    done: list[Done] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0
    polls_due: int = 0
    coalesced: int = 0
    sends_due: int = 0
    sends_skipped: int = 0  # every party tried had a send in flight
    most_in_flight: int = 0
    drained_s: float = 0.0
    retried: int = 0


# --- The world ---------------------------------------------------------------------------------------------


def _talks() -> list[Talk]:
    from django.db.models import Count

    from chat.models import Conversation

    rows = (
        Conversation.objects.filter(booking__reference__startswith=PREFIX)
        .annotate(seeded=Count("messages"))
        .order_by("booking__reference")
        .values_list("pk", "booking_id", "booking__reference", "customer_id", "companion_id", "seeded")
    )
    return [Talk(*row) for row in rows]


def ensure_world(conversations: int = CONVERSATIONS, rng_seed: int = 2026) -> list[Talk]:
    """The bench conversations, created if missing (or if another number is there), dates moved ahead if
    they came near; reset to their seeded messages. Prints what it did."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bookings.models import Booking

    started = time.perf_counter()
    held = Booking.objects.filter(reference__startswith=PREFIX).count()
    if held and held != conversations:
        with transaction.atomic():
            _delete_world()
        held = 0
    if not held:
        _create_world(conversations, random.Random(rng_seed))
        with connection.cursor() as cursor:
            for table in ("accounts_user", "bookings_booking", "chat_conversation", "chat_message", "django_session"):
                cursor.execute(f"ANALYZE {table}")  # noqa: S608 - our constants
        talks = _talks()
        print(
            f"bench: [chat] seeded {conversations:,} bookings with conversations ({sum(t.seeded for t in talks):,} "
            f"messages) in {time.perf_counter() - started:.1f} s"
        )
    soon = timezone.now() + timedelta(days=20)
    if Booking.objects.filter(reference__startswith=PREFIX, start__lt=soon).exists():
        shift = timedelta(days=30)
        moved = Booking.objects.filter(reference__startswith=PREFIX).update(
            start=_plus("start", shift),
            end=_plus("end", shift),
            hold_until=_plus("hold_until", shift),
            complete_after=_plus("complete_after", shift),
        )
        print(f"bench: [chat] moved {moved:,} bench bookings a month ahead (they came within 20 days)")
    reset(_talks())
    return _talks()


def _plus(name: str, delta: timedelta):
    from django.db.models import F

    return F(name) + delta


def _delete_world() -> None:
    from django.db.models import Q

    from bookings.models import Booking
    from chat.models import Conversation
    from notifications.models import Notification

    conversations = Conversation.objects.filter(booking__reference__startswith=PREFIX)
    parties = list(conversations.values_list("customer_id", flat=True)) + list(
        conversations.values_list("companion_id", flat=True)
    )
    Notification.objects.filter(Q(recipient_id__in=parties) & Q(event__startswith="message_")).delete()
    conversations.delete()
    Booking.objects.filter(reference__startswith=PREFIX).delete()


def _create_world(count: int, rng: random.Random) -> None:
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import Min
    from django.utils import timezone

    from accounts.models import Role, User
    from bookings.models import Booking, BookingStatus
    from chat import masking
    from chat.models import Conversation, Message
    from companions.models import CompanionProfile

    now = timezone.now()
    profiles = list(
        CompanionProfile.objects.filter(user__email__endswith=f"@{seed.EMAIL_DOMAIN}", is_listed=True)
        .annotate(activity_id=Min("activities"))
        .order_by("pk")
        .values_list("pk", "user_id", "hourly_rate", "min_hours", "buffer_minutes", "activity_id")
    )
    if len(profiles) < count:
        raise RuntimeError(f"the bench database has {len(profiles):,} listed companions; the chat needs {count:,}")
    step = len(profiles) // count
    chosen = profiles[::step][:count]  # spread over the bench companions, each once
    contacts = {text: masking.find_contacts(text) for text in TEXTS}
    with transaction.atomic():
        emails = [f"chat{number:04d}@{CHAT_DOMAIN}" for number in range(count)]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        password = make_password("bench-password-not-secret")
        new_users = User.objects.bulk_create(
            User(email=email, full_name=f"{rng.choice(seed.FIRST_NAMES)} Chat {number}", password=password,
                 role=Role.CUSTOMER, time_zone=settings.DEFAULT_USER_TIME_ZONE, date_joined=now - timedelta(days=90))
            for number, email in enumerate(emails) if email not in existing
        )  # fmt: skip
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in new_users
        )
        customers = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
        day = (now + timedelta(days=30)).replace(hour=11, minute=0, second=0, microsecond=0)
        bookings = []
        for number, (profile_id, _user, rate, hours, buffer, activity_id) in enumerate(chosen):
            start = day + timedelta(hours=number % 8)
            end = start + timedelta(hours=hours)
            subtotal = rate * hours
            fee = (subtotal * 1000 + 5000) // 10000
            commission = (subtotal * settings.BOOKING_COMMISSION_BASIS_POINTS + 5000) // 10000
            created = now - timedelta(days=3, minutes=number)
            paid = number % 3 != 2  # two thirds paid; the rest awaiting payment (contacts masked)
            bookings.append(
                Booking(
                    reference=f"{PREFIX}{number:08d}", customer_id=customers[emails[number]], companion_id=profile_id,
                    start=start, end=end, hold_until=end + timedelta(minutes=buffer), activity_id=activity_id,
                    meeting_place="Bench: kafe di pusat kota", note="",
                    status=BookingStatus.CONFIRMED if paid else BookingStatus.AWAITING_PAYMENT,
                    hourly_rate=rate, hours=hours, subtotal=subtotal, service_fee=fee, discount=0,
                    total=subtotal + fee, commission_basis_points=settings.BOOKING_COMMISSION_BASIS_POINTS,
                    commission=commission, companion_earnings=subtotal - commission,
                    response_deadline=created + timedelta(hours=12),
                    payment_deadline=(created + timedelta(hours=3)) if paid else start - timedelta(hours=1),
                    complete_after=end + timedelta(hours=24), created_at=created,
                    accepted_at=created + timedelta(hours=1), paid_at=(created + timedelta(hours=2)) if paid else None,
                )
            )  # fmt: skip
        Booking.objects.bulk_create(bookings)
        conversations = Conversation.objects.bulk_create(
            Conversation(booking=booking, customer_id=booking.customer_id, companion_id=user_id,
                         created_at=booking.created_at)
            for booking, (_pk, user_id, *_rest) in zip(bookings, chosen, strict=True)
        )  # fmt: skip
        messages = []
        for number, (conversation, booking) in enumerate(zip(conversations, bookings, strict=True)):
            length = SHORT if number == 0 else LONG if number == 1 else rng.randint(*SEEDED_MESSAGES)
            span = (now - timedelta(minutes=10)) - booking.created_at
            sender = conversation.customer_id
            for index in range(length):
                if rng.random() < 0.4:
                    sender = (
                        conversation.companion_id if sender == conversation.customer_id else conversation.customer_id
                    )
                text = rng.choice(TEXTS)
                found = contacts[text]
                messages.append(
                    Message(
                        conversation=conversation,
                        sender_id=sender,
                        text=text,
                        contacts=[list(item) for item in found],
                        masked=bool(found) and booking.paid_at is None,
                        client_key=uuid.uuid5(SEED_KEYS, f"{booking.reference}:{index}"),
                        created_at=booking.created_at + span * (index + 1) / (length + 1),
                    )
                )
        Message.objects.bulk_create(messages, batch_size=5_000)


def reset(talks: list[Talk]) -> dict[int, int]:
    """Each bench conversation as seeded: the messages runs sent deleted (client keys of UUID version 4;
    the seeded ones are version 5), both sides having read everything, no in-app notices about them.
    Returns each conversation's newest message id."""
    from django.db import connection, transaction

    ids = [talk.pk for talk in talks]
    parties = [talk.customer_id for talk in talks] + [talk.companion_id for talk in talks]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM chat_message WHERE conversation_id = ANY(%s) AND substr(client_key::text, 15, 1) <> '5'",
            [ids],
        )
        cursor.execute(
            "DELETE FROM notifications_notification WHERE recipient_id = ANY(%s) AND event = 'message_new'", [parties]
        )
        cursor.execute(
            """
            UPDATE chat_conversation c SET customer_read_upto = m.last, companion_read_upto = m.last,
                   last_message_at = m.at, flagged_at = NULL, flag_reasons = '[]'::jsonb
            FROM (SELECT conversation_id, max(id) AS last, max(created_at) AS at FROM chat_message
                  WHERE conversation_id = ANY(%s) GROUP BY conversation_id) m
            WHERE c.id = m.conversation_id
            """,
            [ids],
        )
        cursor.execute(
            "SELECT conversation_id, max(id) FROM chat_message WHERE conversation_id = ANY(%s) GROUP BY 1", [ids]
        )
        return dict(cursor.fetchall())


def sent_messages(talks: list[Talk]) -> int:
    """Messages stored by runs (not seeded) in the bench conversations."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM chat_message "
            "WHERE conversation_id = ANY(%s) AND substr(client_key::text, 15, 1) <> '5'",
            [[talk.pk for talk in talks]],
        )
        return cursor.fetchone()[0]


def open_sessions(talks: list[Talk], last: dict[int, int], rng: random.Random) -> list[Party]:
    """A signed-in session row per party, as a login leaves it (Django's session store format), each with
    its idle touch (core.middleware.IdleTimeoutMiddleware, once a minute) due at a different second."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from accounts.models import User

    users = User.objects.in_bulk([talk.customer_id for talk in talks] + [talk.companion_id for talk in talks])
    store = SessionStore()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    parties, rows = [], []
    for talk in talks:
        for user_id in (talk.customer_id, talk.companion_id):
            user = users[user_id]
            key = get_random_string(32, VALID_KEY_CHARS)
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                "_last_touch": int(time.time() - rng.uniform(0, 60)),
            }
            rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
            csrf = secrets.token_hex(16)  # a CSRF secret Django accepts from the cookie and the header
            cookie = f"{settings.SESSION_COOKIE_NAME}={key}; {settings.CSRF_COOKIE_NAME}={csrf}"
            headers = {**HEADERS, "Cookie": cookie, "HX-Request": "true"}
            parties.append(Party(talk, user_id, key, csrf, after=last[talk.pk], headers=headers))
    Session.objects.bulk_create(rows, batch_size=1_000)
    return parties


def close_sessions(parties: list[Party]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=[party.session_key for party in parties]).delete()


# --- Queries per request, in-process ---------------------------------------------------------------------


@dataclass
class Probe:
    queries: dict[str, list[tuple[str, float]]]  # request -> [(sql, ms)]
    statuses: dict[str, int]


def _probe_talk(talk: Talk, *, explain: bool = False) -> Probe:
    """As the customer, in-process: a first poll (it makes the session's once-a-minute idle touch), a poll with
    nothing new, a poll after the companion sent a message (through the service, not counted), a send. With
    `explain`, prints the plans of their SELECTs while the session still exists."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from bookings.models import Booking
    from chat import services
    from chat.models import Message

    customer, companion = User.objects.get(pk=talk.customer_id), User.objects.get(pk=talk.companion_id)
    booking = Booking.objects.select_related("companion").get(pk=talk.booking_id)
    last = Message.objects.filter(conversation_id=talk.pk).order_by("-pk").values_list("pk", flat=True).first()
    client = Client(HTTP_HOST=HEADERS["Host"], HTTP_HX_REQUEST="true")
    client.force_login(customer)
    poll = f"/messages/{talk.reference}/poll/"
    queries, statuses = {}, {}

    def measured(name: str, request) -> None:
        with CaptureQueriesContext(connection) as captured:
            response = request()
        statuses[name] = response.status_code
        # As X-Query-Count counts them (tests/bench/middleware.py): statements, not Django's BEGIN/COMMIT log lines
        queries[name] = [
            (query["sql"], float(query["time"]) * 1000)
            for query in captured.captured_queries
            if query["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")
        ]

    try:
        # force_login leaves no idle touch: the first request makes it (once a minute in real use)
        measured("poll, idle touch", lambda: client.get(poll, {"after": last}, secure=True))
        measured("poll, nothing new", lambda: client.get(poll, {"after": last}, secure=True))
        sent = services.message_send(booking=booking, sender=companion, text=TEXTS[0], client_key=uuid.uuid4())
        measured("poll, with new", lambda: client.get(poll, {"after": last}, secure=True))
        measured(
            "send",
            lambda: client.post(
                f"/messages/{talk.reference}/",
                {"text": TEXTS[1], "client_key": str(uuid.uuid4()), "after": sent.pk},
                secure=True,
            ),
        )
        if explain:
            _explain(Probe(queries, statuses), connection)
    finally:
        client.logout()
    return Probe(queries, statuses)


def _shorten(sql: str, width: int = 200) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"^SELECT ([^()]*?, )+[^()]*? FROM ", "SELECT … FROM ", sql)  # a column list: its FROM shows more
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def probe_queries(talks: list[Talk], *, explain: bool) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Queries of each request in the SHORT and the LONG conversation, printed (the long one's listed).
    Returns request -> (short, long) counts, and the problems (a request not answered as it should be)."""
    short, long = (next(talk for talk in talks if talk.seeded == size) for size in (SHORT, LONG))
    probes = {SHORT: _probe_talk(short), LONG: _probe_talk(long, explain=explain)}
    counts = {
        name: (len(probes[SHORT].queries[name]), len(probes[LONG].queries[name])) for name in probes[LONG].queries
    }
    expected = {"poll, idle touch": 204, "poll, nothing new": 204, "poll, with new": 200, "send": 200}
    problems = [
        f"in-process {name} answered {probe.statuses[name]}, not {status}"
        for probe in probes.values()
        for name, status in expected.items()
        if probe.statuses[name] != status
    ]
    print(
        f"\nbench: [chat] queries per request (in-process, signed in; ms rounded by Django's capture), the "
        f"{SHORT}-message conversation vs the {LONG}-message one: "
        + "; ".join(
            f"{name} {low} vs {high}{'' if low == high else ' NOT CONSTANT'}" for name, (low, high) in counts.items()
        )
    )
    for name, listed in probes[LONG].queries.items():
        print(f"bench: [chat]   {name} ({LONG} messages), {len(listed)} queries:")
        for sql, ms in listed:
            print(f"bench: [chat]     {ms:6.2f} ms  {_shorten(sql)}")
    return counts, problems


def _explain(probe: Probe, connection) -> None:
    seen = set()
    for name, listed in probe.queries.items():
        for sql, _ms in listed:
            shape = re.sub(r"'[^']*'|\b\d+\b", "?", sql)  # the same statement with other values: once
            if not sql.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in sql or shape in seen:
                continue
            seen.add(shape)
            with connection.cursor() as cursor:
                # The captured SQL has its parameters inlined (as the backend's last_executed_query): run as is.
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [line for (line,) in cursor.fetchall()]
            print(f"bench: [chat]   EXPLAIN ANALYZE ({name}) {_shorten(sql, 200)}")
            for line in plan:
                print(f"bench: [chat]     {line}")


# --- The open loop ---------------------------------------------------------------------------------------


def _request(
    connection_box: list, port: int, method: str, path: str, body: str | None, headers: dict[str, str]
) -> tuple[int, bytes, http.client.HTTPResponse, bool]:
    """Sends on the box's keep-alive connection; when the server had closed an idle one, sends once more on a
    new one (as browsers do). Returns status, body, response and whether it was retried."""
    for attempt in (0, 1):
        if connection_box[0] is None:
            connection_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            reused = False
        else:
            reused = True
        connection = connection_box[0]
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response, attempt == 1
        except RETRIABLE:
            connection.close()
            connection_box[0] = None
            if not reused or attempt:
                raise
    raise AssertionError("unreachable")


def _poll(port: int, box: list, party: Party) -> tuple[int, bytes, http.client.HTTPResponse, bool]:
    return _request(
        box, port, "GET", f"/messages/{party.talk.reference}/poll/?after={party.after}", None, party.headers
    )


def _send(port: int, box: list, party: Party, text: str) -> tuple[int, bytes, http.client.HTTPResponse, bool]:
    path = f"/messages/{party.talk.reference}/"
    body = urlencode({"text": text, "client_key": str(uuid.uuid4()), "after": party.after})
    headers = {
        **party.headers,
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": party.csrf,
        "Origin": f"https://{HEADERS['Host']}",
        "Referer": f"https://{HEADERS['Host']}{path}",
        "HX-Target": "composer",
    }
    return _request(box, port, "POST", path, body, headers)


def open_loop(
    *,
    port: int,
    parties: list[Party],
    seconds: float,
    poll_every: float,
    sends_per_second: float,
    connections: int,
    rng: random.Random,
) -> OpenLoop:
    """Polls every `poll_every` seconds per party and `sends_per_second` sends (Poisson), for `seconds`, over
    `connections` keep-alive connections; waits for the last answers."""
    events = []
    for index, _party in enumerate(parties):
        due = rng.uniform(0, poll_every)
        while due < seconds:
            events.append((due, 0, index))
            due += poll_every
    due = rng.expovariate(sends_per_second)
    while due < seconds:
        events.append((due, 1, -1))
        due += rng.expovariate(sends_per_second)
    events.sort()
    outcome = OpenLoop(seconds=seconds)
    lock = threading.Lock()
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    in_flight = [0]

    def perform(box: list, kind: str, party: Party, due: float, text: str) -> Done:
        sent = time.perf_counter()
        try:
            if kind == "poll":
                status, body, response, retried = _poll(port, box, party)
            else:
                status, body, response, retried = _send(port, box, party, text)
        except (OSError, http.client.HTTPException) as error:
            if box[0] is not None:
                box[0].close()
                box[0] = None
            return Done(
                kind, party.talk, due, sent, time.perf_counter(), 0, None, None, 0, f"{type(error).__name__}: {error}"
            )
        finished = time.perf_counter()
        timing = SERVER_TIMING.search(response.getheader("Server-Timing", ""))
        queries = response.getheader("X-Query-Count")
        newest = AFTER.search(body)
        with lock:
            outcome.retried += retried
            if newest:
                party.after = max(party.after, int(newest.group(1)))
        return Done(
            kind,
            party.talk,
            due,
            sent,
            finished,
            status,
            float(timing.group(1)) if timing else None,
            int(queries) if queries is not None else None,
            len(MESSAGE.findall(body)),
        )

    def worker() -> None:
        box: list = [None]
        try:
            while True:
                job = jobs.get()
                if job is None:
                    return
                kind, party, due, text = job
                while job is not None:
                    record = perform(box, kind, party, due, text)
                    with lock:
                        outcome.done.append(record)
                        job = None
                        if kind == "poll" and party.poll_waiting is not None:
                            due, party.poll_waiting = party.poll_waiting, None
                            job = (kind, party, due, text)  # the waiting poll goes out now, as HTMX sends it
                        elif kind == "poll":
                            party.poll_busy = False
                            in_flight[0] -= 1
                        else:
                            party.send_busy = False
                            in_flight[0] -= 1
        finally:
            if box[0] is not None:
                box[0].close()

    threads = [threading.Thread(target=worker, name=f"bench-chat-{n}", daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    start = outcome.started = time.perf_counter() + 0.2
    for due, kind, index in events:
        delay = start + due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        at = start + due
        with lock:
            if kind == 0:
                outcome.polls_due += 1
                party = parties[index]
                if party.poll_busy:
                    if party.poll_waiting is not None:
                        outcome.coalesced += 1  # HTMX keeps only the latest waiting trigger
                    party.poll_waiting = at
                    continue
                party.poll_busy = True
                job = ("poll", party, at, "")
            else:
                outcome.sends_due += 1
                party = next((p for p in (rng.choice(parties) for _ in range(20)) if not p.send_busy), None)
                if party is None:
                    outcome.sends_skipped += 1
                    continue
                party.send_busy = True
                job = ("send", party, at, rng.choice(TEXTS))
            in_flight[0] += 1
            outcome.most_in_flight = max(outcome.most_in_flight, in_flight[0])
        jobs.put(job)
    window_end = time.perf_counter()
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=DRAIN_S)
    outcome.drained_s = time.perf_counter() - window_end
    if any(thread.is_alive() for thread in threads):
        outcome.done.append(
            Done("poll", parties[0].talk, start, start, start, 0, None, None, 0, f"not drained in {DRAIN_S} s")
        )
    return outcome


# --- Closed loops ----------------------------------------------------------------------------------------


def _closed_polls(port: int, parties: list[Party], last: dict[int, int], count: int, concurrency: int) -> Result:
    """Polls with nothing new (after = the conversation's newest message), the parties in turn, closed loop."""
    items = [parties[index % len(parties)] for index in range(count)]
    return run_items(
        port=port,
        items=items,
        send=lambda connection, party: fetch(
            connection, f"/messages/{party.talk.reference}/poll/?after={last[party.talk.pk]}", headers=party.headers
        ),
        describe=lambda party: party.talk.reference,
        concurrency=concurrency,
        deadline=time.perf_counter() + 120,
    )


def _closed(port: int, path: str, headers: list[dict] | None, count: int, concurrency: int) -> Result:
    """`path` `count` times, closed loop: anonymous, or as the parties in turn (their session cookies)."""
    if headers is None:
        return run_load(port=port, paths=[path] * count, concurrency=concurrency, budget_s=120)
    return run_items(
        port=port,
        items=[headers[index % len(headers)] for index in range(count)],
        send=lambda connection, item: fetch(connection, path, headers=item),
        describe=lambda item: path,
        concurrency=concurrency,
        deadline=time.perf_counter() + 120,
    )


# --- CPU, from /proc (Linux; elsewhere it reads nothing) --------------------------------------------------


def _cpu_seconds(pids) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seconds


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _database_pids(name: str, known: dict[int, bool]) -> list[int]:
    """The PostgreSQL backends serving database `name`, found by their process titles in /proc (`known`
    remembers each pid's answer, so a title is read once)."""
    title = f" {name} ".encode()
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid not in known:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            known[pid] = command.startswith(b"postgres:") and title in command
        if known[pid]:
            pids.append(pid)
    return pids


@dataclass
class Cpu:
    server: float  # CPU seconds of the gunicorn workers
    database: float  # of the bench database's PostgreSQL backends (this process's own left out)
    client: float  # of this process (the load generator's threads)

    def describe(self, seconds: float) -> str:
        return (
            f"CPU over those {seconds:.1f} s: gunicorn {self.server:.1f} s ({self.server / seconds:.2f} cores), "
            f"PostgreSQL {self.database:.1f} s ({self.database / seconds:.2f}), this client {self.client:.1f} s "
            f"({self.client / seconds:.2f})"
        )


class CpuMeter:
    """CPU spent from now until read(): by the server's workers, by the bench database's backends (sampled
    every SAMPLE_S, so that a backend closed meanwhile, CONN_MAX_AGE, still counts up to its last sample),
    and by this process."""

    SAMPLE_S = 0.2

    def __init__(self, server_pid: int) -> None:
        from django.conf import settings
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.own_backend = cursor.fetchone()[0]
        self.database_name = settings.DATABASES["default"]["NAME"]
        self.known: dict[int, bool] = {}
        self.server_pid = server_pid
        self.server = _cpu_seconds(_children(server_pid))
        self.database_start = self._backends()
        self.database_last = dict(self.database_start)
        self.client = time.process_time()
        self.stop = threading.Event()
        self.sampler = threading.Thread(target=self._sample, name="bench-chat-cpu", daemon=True)
        self.sampler.start()

    def _backends(self) -> dict[int, float]:
        pids = [pid for pid in _database_pids(self.database_name, self.known) if pid != self.own_backend]
        return _cpu_seconds(pids)

    def _sample(self) -> None:
        while not self.stop.wait(self.SAMPLE_S):
            self.database_last.update(self._backends())

    def read(self) -> Cpu:
        self.stop.set()
        self.sampler.join()
        self.database_last.update(self._backends())
        server = _cpu_seconds(_children(self.server_pid))
        return Cpu(
            server=sum(value - self.server.get(pid, 0.0) for pid, value in server.items()),
            database=sum(value - self.database_start.get(pid, 0.0) for pid, value in self.database_last.items()),
            client=time.process_time() - self.client,
        )


# --- Figures ---------------------------------------------------------------------------------------------


def _row(
    server: str, run: int, scenario: str, loop: str, samples: list, *, seconds: float, offered=None, cpu=None
) -> dict:
    """One line of the tables: `samples` are load.Sample (closed loop) or Done (open loop)."""
    if samples and isinstance(samples[0], Done):
        client = [(done.done - done.due) * 1000 for done in samples]
        queued = [(done.sent - done.due) * 1000 for done in samples]
    else:
        client = [sample.client_ms for sample in samples]
        queued = []
    server_ms = [sample.server_ms for sample in samples if sample.server_ms is not None]
    queries = [sample.queries for sample in samples if sample.queries is not None]
    return {
        "server": server,
        "run": run,
        "scenario": scenario,
        "loop": loop,
        "requests": len(samples),
        "rate": len(samples) / seconds if seconds else 0.0,
        "offered": offered,
        "server_p50": percentile(server_ms, 0.50),
        "server_p95": percentile(server_ms, 0.95),
        "client_p50": percentile(client, 0.50),
        "client_p95": percentile(client, 0.95),
        "queued_p95": percentile(queued, 0.95) if queued else None,
        "queries": (min(queries), statistics.mode(queries), max(queries)) if queries else None,
        # CPU milliseconds per request: gunicorn's workers, PostgreSQL's backends (closed loops only)
        "cpu_ms": cpu.server * 1000 / len(samples) if cpu and samples else None,
        "db_cpu_ms": cpu.database * 1000 / len(samples) if cpu and samples else None,
    }


def _describe_queries(queries) -> str:
    if queries is None:
        return "-"
    low, usual, high = queries
    return f"{low}" if low == high else f"{low}–{high} (mostly {usual})"


def _print_rows(rows: list[dict]) -> None:
    trivial = {row["server"]: row for row in rows if row["scenario"] == "trivial"}
    header = (
        f"{'server':<8} {'scenario':<18} {'loop':<8} {'requests':>8} {'per s':>7} {'offered':>7} {'srv p50':>8} "
        f"{'p50×':>6} {'srv p95':>8} {'p95×':>6} {'cli p50':>8} {'cli p95':>8} {'queued p95':>10} {'cpu':>5} "
        f"{'db cpu':>6}  queries"
    )
    print()
    print(
        "times in ms; srv = inside Django (Server-Timing); cli = at the client, for the open loop from when the "
        "request was due; queued = due until sent (waiting for a free client connection, or for the party's "
        "previous poll as HTMX waits); × = ratio to the trivial page on the same server; cpu, db cpu = CPU ms "
        "per request of the gunicorn workers and of PostgreSQL (closed loops); open loop: per s = answered within "
        "the window, offered = due in it, times over every request due in it"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        reference = trivial.get(row["server"])
        p50 = row["server_p50"] / reference["server_p50"] if reference else float("nan")
        p95 = row["server_p95"] / reference["server_p95"] if reference else float("nan")
        offered = "-" if row["offered"] is None else f"{row['offered']:.1f}"
        queued = "-" if row["queued_p95"] is None else f"{row['queued_p95']:.1f}"
        print(
            f"{row['server']:<8} {row['scenario']:<18} {row['loop']:<8} {row['requests']:>8} {row['rate']:>7.1f} "
            f"{offered:>7} {row['server_p50']:>8.1f} {p50:>6.2f} {row['server_p95']:>8.1f} {p95:>6.2f} "
            f"{row['client_p50']:>8.1f} {row['client_p95']:>8.1f} {queued:>10} {_ms(row['cpu_ms']):>5} "
            f"{_ms(row['db_cpu_ms']):>6}  {_describe_queries(row['queries'])}"
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _check_open_loop(outcome: OpenLoop) -> list[str]:
    problems = []
    errors = [done for done in outcome.done if done.error]
    if errors:
        problems.append(
            f"{len(errors)} requests failed, e.g. {errors[0].kind} {errors[0].talk.reference}: {errors[0].error}"
        )
    polls = [done for done in outcome.done if done.kind == "poll" and not done.error]
    sends = [done for done in outcome.done if done.kind == "send" and not done.error]
    wrong_polls = [
        done for done in polls if done.status not in (200, 204) or (done.status == 200 and not done.messages)
    ]
    wrong_sends = [done for done in sends if done.status != 200 or not done.messages]
    if wrong_polls:
        statuses = sorted({done.status for done in wrong_polls})
        problems.append(f"{len(wrong_polls)} polls answered {statuses} (or 200 without a message)")
    if wrong_sends:
        statuses = sorted({done.status for done in wrong_sends})
        problems.append(f"{len(wrong_sends)} sends answered {statuses} (or 200 without the message)")
    return problems


def _open_rows(server: str, run: int, outcome: OpenLoop) -> list[dict]:
    """Times over every request that fell due in the window, however late its answer (the backlog's wait is
    the figure); the rate counts the answers within the window; offered, the requests that fell due in it."""
    end = outcome.started + outcome.seconds
    answered = [done for done in outcome.done if not done.error]
    groups = {
        "poll, nothing new": [done for done in answered if done.kind == "poll" and done.status == 204],
        "poll, with new": [done for done in answered if done.kind == "poll" and done.status == 200],
        "poll, all": [done for done in answered if done.kind == "poll"],
        "send": [done for done in answered if done.kind == "send"],
    }
    offered = {"poll, all": outcome.polls_due / outcome.seconds, "send": outcome.sends_due / outcome.seconds}
    rows = []
    for name, group in groups.items():
        row = _row(server, run, name, "open", group, seconds=outcome.seconds, offered=offered.get(name))
        row["rate"] = sum(1 for done in group if done.done <= end) / outcome.seconds
        rows.append(row)
    return rows


def _describe_open_loop(outcome: OpenLoop, *, polls_offered: float, sends_offered: float) -> str:
    end = outcome.started + outcome.seconds
    finished = [done for done in outcome.done if not done.error]
    polls = [done for done in finished if done.kind == "poll"]
    sends = [done for done in finished if done.kind == "send"]
    late = sum(1 for done in finished if done.done > end)
    with_new = sum(1 for done in polls if done.status == 200)
    by_size = {}
    for size in (SHORT, LONG):
        counts = [done.queries for done in polls if done.talk.seeded == size and done.status == 204 and done.queries]
        by_size[size] = f"{min(counts)}–{max(counts)}" if counts else "-"
    return (
        f"offered {polls_offered:.1f} polls/s ({outcome.polls_due:,} due) and {sends_offered:.1f} sends/s "
        f"({outcome.sends_due:,} due, Poisson) for {outcome.seconds:g} s; sent {len(polls):,} polls "
        f"({outcome.coalesced:,} coalesced: due while the party's previous poll was out and another already "
        f"waited) and {len(sends):,} sends ({outcome.sends_skipped} skipped: no party free to send); "
        f"{with_new:,} polls ({with_new / max(1, len(polls)):.0%}) brought new messages; answered within the "
        f"window {sum(1 for d in polls if d.done <= end) / outcome.seconds:.1f} polls/s and "
        f"{sum(1 for d in sends if d.done <= end) / outcome.seconds:.1f} sends/s; {late:,} answered after it "
        f"(the last {outcome.drained_s:.1f} s later); at most {outcome.most_in_flight} requests out at once; "
        f"{outcome.retried} resent on a fresh connection; queries of a 204 poll in the {SHORT}-message "
        f"conversation {by_size[SHORT]}, in the {LONG}-message one {by_size[LONG]}"
    )


def run(
    *,
    workers: int,
    threads: int,
    concurrency: int,
    log_path: Path,
    runs: int,
    seconds: float,
    poll_every: float,
    sends_per_second: float,
    connections: int,
    conversations: int,
    closed_requests: int,
    explain: bool,
    seed_value: int,
) -> tuple[bool, list[dict], dict]:
    """Measures; returns (not broken, rows for the summary, what the summary says about the world)."""
    from django.conf import settings

    from tests.bench import run as bench

    rng = random.Random(seed_value)
    talks = ensure_world(conversations)
    problems: list[str] = []
    counts, probe_problems = probe_queries(talks, explain=explain)
    problems += probe_problems
    last = reset(talks)
    parties = open_sessions(talks, last, rng)
    polls_offered = len(parties) / poll_every
    world = {
        "conversations": len(talks),
        "parties": len(parties),
        "messages": sum(talk.seeded for talk in talks),
        "probe": counts,
    }
    print(
        f"\nbench: [chat] {len(talks):,} conversations, {len(parties):,} parties signed in, "
        f"{world['messages']:,} seeded messages (median {statistics.median(t.seeded for t in talks):g} a "
        f"conversation; one of {SHORT}, one of {LONG})"
    )
    rows: list[dict] = []
    cache_seconds = settings.BENCH_WARM_PAGE_CACHE_SECONDS
    servers = [(f"{workers}x{threads}", workers), (f"1x{threads}", 1)]
    try:
        for label, worker_count in servers:
            port = bench.free_port()
            print(
                f"\nbench: [chat] gunicorn on 127.0.0.1:{port}, {worker_count} worker(s) x {threads} threads, page "
                f"and fragment caches on as in production (server log: {log_path})"
            )
            server = bench.start_server(
                port=port,
                workers=worker_count,
                threads=threads,
                log_path=log_path,
                page_cache_seconds=cache_seconds,
                fragment_cache_seconds=cache_seconds,
            )
            try:
                bench.wait_until_healthy(server, port=port)
                for run_number in range(1, runs + 1):
                    problems += _measure_server(
                        label,
                        run_number,
                        port=port,
                        server_pid=server.pid,
                        parties=parties,
                        talks=talks,
                        rows=rows,
                        concurrency=concurrency,
                        closed_requests=closed_requests,
                        open_loop_args=None
                        if worker_count == 1
                        else {
                            "seconds": seconds,
                            "poll_every": poll_every,
                            "sends_per_second": sends_per_second,
                            "connections": connections,
                            "polls_offered": polls_offered,
                            "rng": rng,
                        },
                    )
            finally:
                bench.stop_server(server)
    except bench.BenchBroken as error:
        problems.append(str(error))
    finally:
        close_sessions(parties)
        reset(talks)
    for problem in problems:
        print(f"bench: BROKEN: [chat] {problem}")
    return not problems, rows, world


def _measure_server(
    label: str,
    run_number: int,
    *,
    port: int,
    server_pid: int,
    parties: list[Party],
    talks: list[Talk],
    rows: list[dict],
    concurrency: int,
    closed_requests: int,
    open_loop_args: dict | None,
) -> list[str]:
    """One run on one server: the trivial page (anonymous, then signed in), the open loop (if asked), the
    closed-loop 204 polls; each with the CPU the workers and the database spent on it."""
    problems = []
    load = os.getloadavg()
    mine = []
    signed_in = [party.headers for party in parties]
    for name, headers in (("trivial", None), ("trivial signed in", signed_in)):
        _closed(port, "/terms/", headers, 40, concurrency)  # warm-up
        meter = CpuMeter(server_pid)
        result = _closed(port, "/terms/", headers, closed_requests, concurrency)
        cpu = meter.read()
        if result.failures or result.errors:
            problems.append(f"{name}: {len(result.failures)} answers not 200, {len(result.errors)} failed")
        mine.append(_row(label, run_number, name, f"closed {concurrency}", result.samples, seconds=result.elapsed_s,
                         cpu=cpu))  # fmt: skip
    if open_loop_args is not None:
        last = reset(talks)
        for party in parties:
            party.after = last[party.talk.pk]
            party.poll_busy, party.poll_waiting, party.send_busy = False, None, False
        before = sent_messages(talks)
        arguments = dict(open_loop_args)
        polls_offered = arguments.pop("polls_offered")
        meter = CpuMeter(server_pid)
        outcome = open_loop(port=port, parties=parties, **arguments)
        cpu = meter.read()
        stored = sent_messages(talks) - before
        answered = sum(1 for done in outcome.done if done.kind == "send" and done.status == 200)
        print(
            f"\nbench: [chat] {label}, run {run_number}, open loop: "
            + _describe_open_loop(outcome, polls_offered=polls_offered, sends_offered=arguments["sends_per_second"])
            + f"; {stored:,} messages stored for {answered:,} sends answered 200; "
            + cpu.describe(outcome.seconds + outcome.drained_s)
        )
        problems += _check_open_loop(outcome)
        if stored != answered:
            problems.append(f"{stored:,} messages stored for {answered:,} sends answered 200")
        mine += _open_rows(label, run_number, outcome)
    last = _newest(talks)
    _closed_polls(port, parties, last, 40, concurrency)  # warm-up
    meter = CpuMeter(server_pid)
    polls = _closed_polls(port, parties, last, closed_requests, concurrency)
    cpu = meter.read()
    not_204 = [sample for sample in polls.samples if sample.status != 204]
    if not_204 or polls.errors:
        problems.append(
            f"closed-loop polls: {len(not_204)} answered other than 204 "
            f"({sorted({sample.status for sample in not_204})}), {len(polls.errors)} failed"
        )
    mine.append(_row(label, run_number, "poll, nothing new", f"closed {concurrency}", polls.samples,
                     seconds=polls.elapsed_s, cpu=cpu))  # fmt: skip
    print(f"\n[chat, {label}, run {run_number}; load average {load[0]:.2f} at its start]")
    _print_rows(mine)
    rows += mine
    return problems


def _newest(talks: list[Talk]) -> dict[int, int]:
    """Each bench conversation's newest message id (a poll after it has nothing new)."""
    from django.db.models import Max

    from chat.models import Message

    return dict(
        Message.objects.filter(conversation_id__in=[talk.pk for talk in talks])
        .values("conversation_id")
        .annotate(last=Max("pk"))
        .values_list("conversation_id", "last")
    )


def print_summary(rows: list[dict], world: dict, context: dict) -> None:
    """The chat's table for the whole run, as run.py's SUMMARY: medians over the runs of each figure and of
    its ratio to the trivial page measured on the same server in the same run."""
    if not rows:
        return
    runs = max(row["run"] for row in rows)
    print()
    print("=" * 119)
    print(
        f"CHAT SUMMARY (issue 14): {world['conversations']:,} conversations, {world['parties']:,} parties, "
        f"{world['messages']:,} seeded messages ({context['database']}), code {context['code']}; medians of "
        f"{runs} run(s); load average at the start {context['load'][0]:.2f}, now {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} CPUs)"
    )
    print(
        "×: ratio to the trivial page (/terms/, closed loop) on the same server in the same run; p50/p95: inside "
        "Django; cli p95: at the client (open loop: from when the request was due, queueing included); open loop: "
        "per s = answered within the window, times over every request due in it; cpu: CPU ms per request of the "
        "gunicorn workers (+ PostgreSQL's), closed loops"
    )
    header = (
        f"{'server':<6} {'scenario':<18} {'loop':<8} {'per s':>7} {'offered':>7} {'rate×':>6} {'p50 ms':>7} "
        f"{'p50×':>6} {'p95 ms':>7} {'p95×':>6} {'cli p95':>8} {'cli p95×':>8} {'cpu':>5} {'cpu×':>5} {'+db':>5}  "
        "queries"
    )
    print(header)
    print("-" * 119)
    keys = list(dict.fromkeys((row["server"], row["scenario"], row["loop"]) for row in rows))
    for server, scenario, loop in keys:
        trivial = {row["run"]: row for row in rows if row["server"] == server and row["scenario"] == "trivial"}
        mine = [row for row in rows if (row["server"], row["scenario"], row["loop"]) == (server, scenario, loop)]
        mine = [row for row in mine if row["requests"]]
        if not mine:
            print(f"{server:<6} {scenario:<18} {loop:<8} (none)")
            continue

        def median(key, rows_=mine):
            return statistics.median(row[key] for row in rows_)

        def ratio(key, rows_=mine, trivial_=trivial):
            return statistics.median(row[key] / trivial_[row["run"]][key] for row in rows_ if row["run"] in trivial_)

        rate_ratio = f"{ratio('rate'):.3f}" if loop != "open" else "-"
        offered = "-" if mine[0]["offered"] is None else f"{mine[0]['offered']:.0f}"
        low = min((row["queries"][0] for row in mine if row["queries"]), default="-")
        high = max((row["queries"][2] for row in mine if row["queries"]), default="-")
        cpu = [row for row in mine if row["cpu_ms"] is not None]
        cpu_figures = (
            f"{median('cpu_ms', cpu):>5.2f} {ratio('cpu_ms', cpu):>5.2f} {median('db_cpu_ms', cpu):>5.2f}"
            if cpu
            else f"{'-':>5} {'-':>5} {'-':>5}"
        )
        print(
            f"{server:<6} {scenario:<18} {loop:<8} {median('rate'):>7.1f} {offered:>7} {rate_ratio:>6} "
            f"{median('server_p50'):>7.1f} {ratio('server_p50'):>6.2f} {median('server_p95'):>7.1f} "
            f"{ratio('server_p95'):>6.2f} {median('client_p95'):>8.1f} {ratio('client_p95'):>8.2f} {cpu_figures}  "
            f"{low if low == high else f'{low}–{high}'}"
        )
    one_worker = [row for row in rows if row["server"].startswith("1x") and row["scenario"] == "poll, nothing new"]
    if one_worker:
        per_core = (
            f"; at the CPU a poll costs the worker, {1000 / statistics.median(row['cpu_ms'] for row in one_worker):.0f}"
            " a second per core it has to itself"
            if all(row["cpu_ms"] for row in one_worker)
            else ""
        )
        print(
            f"one gunicorn worker ({one_worker[0]['server']} threads) serves "
            f"{statistics.median(row['rate'] for row in one_worker):.0f} polls a second with nothing new "
            f"(closed loop at {one_worker[0]['loop'].split()[-1]}; median of {len(one_worker)} run(s)){per_core}"
        )
    probe = world.get("probe") or {}
    if probe:
        print(
            f"queries per request, {SHORT} vs {LONG} messages (in-process): "
            + "; ".join(
                f"{name} {low} vs {high} ({'constant' if low == high else 'NOT constant'})"
                for name, (low, high) in probe.items()
            )
        )
    print("=" * 119)
