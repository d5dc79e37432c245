"""The soak's locust scenario (issue 19), run by tests/soak/run.py (`locust -f tests/soak/locustfile.py`).

Three kinds of people, in the numbers the runner gives (SOAK_BROWSERS / SOAK_CUSTOMERS / SOAK_COMPANIONS):

* BrowseUser, most of them: the home page, searches by city, activity, date and time (the bench's own set of
  searches), companion profiles and, for the half signed in as a customer, the slot picker; 1–5 s between
  pages (SOAK_THINK_SCALE scales it; 0 makes a closed loop, for the one-process capacity run).
* CustomerUser: the whole journey, again and again. Logs in through allauth's form (its CSRF token from the
  page), searches, opens a profile and the slot picker, picks a free time, sends the booking request, waits
  on the booking's page until the companion has accepted, pays through the local Midtrans simulator (the
  "pay" button, then the simulator page's QRIS button: the simulator posts the signed notification to the
  webhook, as Midtrans would), and sends one chat message in the booking's conversation.
* CompanionUser: logs in as the companion a request was just sent to (the customers tell them through an
  in-process queue: the runner starts one locust process), opens the requests page and accepts every open
  request there.

Everything the scenario needs from the database (searches, profiles, accounts) comes from the JSON file the
runner writes (SOAK_PLAN); what the journeys did (bookings requested, accepted, paid, refused, chats) goes
to SOAK_OUTPUT when locust quits. A refused request (the time was just taken, the customer already holds
that time) is the site working, not an error: it is counted, not failed.
"""

import html
import itertools
import json
import os
import random
import re
import time
import uuid
from collections import Counter, deque
from urllib.parse import unquote

from locust import HttpUser, between, constant, events, task
from requests.cookies import RequestsCookieJar

PLAN = json.loads(open(os.environ["SOAK_PLAN"]).read()) if os.environ.get("SOAK_PLAN") else {}  # noqa: PTH123, SIM115
THINK = float(os.environ.get("SOAK_THINK_SCALE", "1"))
ACCEPT_WAIT_S = float(os.environ.get("SOAK_ACCEPT_WAIT", "30"))

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SLOT_LINK = re.compile(r'href="(/c/[\w-]+/book/\?start=[^"]+)"')
ACTIVITY = re.compile(r'name="activity" value="([\w-]+)"')
BOOKING_URL = re.compile(r"/bookings/(KMP-[A-Z0-9]+)/$")
ACCEPT_FORM = re.compile(r'action="/bookings/(KMP-[A-Z0-9]+)/accept/"')
SIMULATOR_URL = re.compile(r"/payments/simulator/[^/]+/$")
ALERT = re.compile(r'role="alert"[^>]*>(.*?)</(?:div|ul)>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")
REFUSALS = (409, 422)  # bookings/views.py: the time was just taken (409), or it cannot be booked (422)

outcomes: Counter = Counter()  # what the journeys did, written to SOAK_OUTPUT at the end
pending_companions: deque = deque()  # companions with a request waiting (email), oldest first
_customer_numbers = itertools.count()


def _think(low: float, high: float):
    return between(low * THINK, high * THINK) if THINK > 0 else constant(0)


def _csrf(user: HttpUser, body: str) -> str:
    found = CSRF_INPUT.search(body)
    return found.group(1) if found else user.client.cookies.get("csrftoken", "")


def _log_in(user: HttpUser, email: str) -> bool:
    page = user.client.get("/accounts/login/", name="/accounts/login/")
    answer = user.client.post(
        "/accounts/login/",
        data={"login": email, "password": PLAN["password"], "csrfmiddlewaretoken": _csrf(user, page.text)},
        name="/accounts/login/ (POST)",
    )
    signed_in = answer.ok and "/accounts/login/" not in answer.url
    outcomes["logins" if signed_in else "logins_refused"] += 1
    return signed_in


def _alert(body: str) -> str:
    """The first alert's words (the reason a form was refused), shortened."""
    found = ALERT.search(body)
    return " ".join(html.unescape(TAG.sub(" ", found.group(1))).split())[:90] if found else "(no alert)"


def _next_customer() -> str:
    customers = PLAN["customers"]
    return customers[next(_customer_numbers) % len(customers)]


class BrowseUser(HttpUser):
    """A visitor looking around; half of them signed in as a customer (the slot picker needs one)."""

    weight = 10
    wait_time = _think(1, 5)

    def on_start(self) -> None:
        self.signed_in = random.random() < 0.5 and _log_in(self, _next_customer())

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(5)
    def search(self) -> None:
        self.client.get(random.choice(PLAN["searches"]), name="search")

    @task(4)
    def profile(self) -> None:
        slug, _hours = random.choice(PLAN["profiles"])
        self.client.get(f"/c/{slug}/", name="profile")

    @task(2)
    def slot_picker(self) -> None:
        if not self.signed_in:
            return self.profile()
        slug, hours = random.choice(PLAN["profiles"])
        self.client.get(f"/c/{slug}/book/?hours={hours}", name="slot picker")
        return None


class CustomerUser(HttpUser):
    """Request, wait for the companion, pay in the simulator, chat once; then another booking."""

    weight = 3
    wait_time = _think(2, 6)

    def on_start(self) -> None:
        self.email = _next_customer()
        self.signed_in = _log_in(self, self.email)

    @task
    def journey(self) -> None:
        if not self.signed_in:
            self.signed_in = _log_in(self, self.email)
            return
        self.client.get(random.choice(PLAN["searches"]), name="search")
        reference = self._request_booking()
        if reference and self._wait_accepted(reference) and self._pay(reference):
            self._chat(reference)

    def _request_booking(self) -> str | None:
        slug, hours, companion_email = random.choice(PLAN["bookable"])
        self.client.get(f"/c/{slug}/", name="profile")
        picker = self.client.get(f"/c/{slug}/book/?hours={hours}", name="slot picker")
        links = SLOT_LINK.findall(picker.text)
        if not links:
            outcomes["no_free_time"] += 1
            return None
        link = html.unescape(random.choice(links))  # anywhere in the 14 days, as people spread out
        form = self.client.get(link, name="booking form")
        activities = ACTIVITY.findall(form.text)
        start = re.search(r"start=([^&]+)", link)
        if not activities or not start:
            outcomes["booking_form_unexpected"] += 1
            return None
        with self.client.post(
            link,
            data={
                "csrfmiddlewaretoken": _csrf(self, form.text),
                "start": unquote(start.group(1)),
                "hours": hours,
                "activity": random.choice(activities),
                "meeting_place": "Kopi Soak, lantai dasar",
                "note": "",
                "promo_code": "",
                "safety": "on",
            },
            name="booking request (POST)",
            catch_response=True,
        ) as answer:
            found = BOOKING_URL.search(answer.url)
            if not found and answer.status_code in REFUSALS:
                # The page's answer to a time that cannot be had (taken meanwhile, or the customer already
                # holds a booking then): the site working. Counted with its reason, not failed.
                answer.success()
                outcomes["requests_refused"] += 1
                outcomes[f"refused {answer.status_code}: {_alert(answer.text)}"] += 1
                return None
        if not found:
            outcomes["booking_request_unexpected"] += 1
            return None
        outcomes["requested"] += 1
        pending_companions.append(companion_email)
        return found.group(1)

    def _wait_accepted(self, reference: str) -> bool:
        deadline = time.monotonic() + ACCEPT_WAIT_S
        while time.monotonic() < deadline:
            page = self.client.get(f"/bookings/{reference}/", name="booking page")
            if f'action="/bookings/{reference}/pay/"' in page.text:
                return True
            time.sleep(1)
        outcomes["not_accepted_in_time"] += 1
        return False

    def _pay(self, reference: str) -> bool:
        checkout = self.client.post(
            f"/bookings/{reference}/pay/",
            data={"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            name="pay (POST, to the simulator)",
        )
        if not SIMULATOR_URL.search(checkout.url):
            outcomes["checkout_unexpected"] += 1
            return False
        paid = self.client.post(
            checkout.url,
            data={"csrfmiddlewaretoken": _csrf(self, checkout.text), "action": "pay_qris"},
            name="simulator pay_qris (POST, webhook, status page)",
        )
        if not paid.url.endswith(f"/bookings/{reference}/payment/"):
            outcomes["payment_unexpected"] += 1
            return False
        outcomes["paid"] += 1
        return True

    def _chat(self, reference: str) -> None:
        page = self.client.get(f"/messages/{reference}/", name="conversation")
        sent = self.client.post(
            f"/messages/{reference}/",
            data={
                "csrfmiddlewaretoken": _csrf(self, page.text),
                "text": "Halo, sampai ketemu di sana ya!",
                "client_key": str(uuid.uuid4()),
            },
            name="chat message (POST)",
        )
        outcomes["chat_sent" if sent.ok and sent.url.endswith(f"/messages/{reference}/") else "chat_refused"] += 1


class CompanionUser(HttpUser):
    """Answers requests: signs in as the companion asked (keeping each companion's session), accepts."""

    weight = 1
    wait_time = _think(0.5, 1.5)

    def on_start(self) -> None:
        self.jars: dict = {}  # companion email -> that companion's cookies

    @task
    def answer_requests(self) -> None:
        try:
            email = pending_companions.popleft()
        except IndexError:
            self.client.get("/", name="home")  # nothing to answer: a look at the site
            return
        if email not in self.jars:
            self.client.cookies = RequestsCookieJar()
            if not _log_in(self, email):
                return
            self.jars[email] = self.client.cookies
        self.client.cookies = self.jars[email]
        inbox = self.client.get("/companion/requests/", name="companion requests")
        for reference in dict.fromkeys(ACCEPT_FORM.findall(inbox.text)):
            answer = self.client.post(
                f"/bookings/{reference}/accept/",
                data={"csrfmiddlewaretoken": _csrf(self, inbox.text)},
                name="accept (POST)",
            )
            outcomes["accepted" if answer.ok else "accept_failed"] += 1


# The runner decides how many customers and companions (the weights only when it does not); the browsers
# are the rest. The one-process capacity run names BrowseUser alone on locust's command line.
for _user_class, _variable in ((CustomerUser, "SOAK_CUSTOMERS"), (CompanionUser, "SOAK_COMPANIONS")):
    if os.environ.get(_variable):
        _user_class.fixed_count = int(os.environ[_variable])
del _user_class, _variable  # locust takes every User class in the module's globals for one to run


@events.quitting.add_listener
def _write_outcomes(environment, **_kwargs) -> None:
    if os.environ.get("SOAK_OUTPUT"):
        with open(os.environ["SOAK_OUTPUT"], "w") as output:  # noqa: PTH123
            json.dump(dict(outcomes), output)
