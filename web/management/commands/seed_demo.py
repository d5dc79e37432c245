"""Loads the demo data for `make run`. Safe to run again: it fills in only what is missing.

The seed goes through the real services, so it causes real notifications. Their emails are kept out of
the console (a memory backend while seeding; the console is where `make run` prints the logins and
where a developer reads the emails they trigger themselves), and so are the in-process tasks' log lines.
WhatsApp messages land in the dev outbox page as usual. The demo logins are printed last."""

import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from accounts import demo as accounts_demo
from analytics import demo as analytics_demo
from analytics import nightly as analytics_nightly
from analytics import rollups as analytics_rollups
from bookings import demo as bookings_demo
from bookings import levels, reliability
from chat import demo as chat_demo
from companions import demo as companions_demo
from payments import demo as payments_demo
from privacy import demo as privacy_demo
from products import demo as products_demo
from promotions import demo as promotions_demo
from reviews import demo as reviews_demo
from safety import demo as safety_demo

QUIET_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# One "Task ... succeeded" line per delivery (about a hundred) when tasks run in-process (make run).
QUIET_LOGGERS = {"celery.app.trace": logging.WARNING, "kombu.connection": logging.ERROR}


@contextmanager
def quiet_loggers():
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class Command(BaseCommand):
    help = "Load demo data (idempotent). Refuses to run unless DEBUG is on, or with --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even with DEBUG off (never in production).")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, force: bool = False, quiet_logins: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with a published password: it runs only with DEBUG on.")
        outbox_before = list(getattr(mail, "outbox", []))
        with override_settings(EMAIL_BACKEND=QUIET_EMAIL_BACKEND), quiet_loggers():
            created = accounts_demo.seed_accounts()
            listed = companions_demo.seed_companions()
            bookings = bookings_demo.seed_bookings(pay=payments_demo.demo_pay)
            reviews = reviews_demo.seed_reviews(pay=payments_demo.demo_pay)
            past_bookings, past_reviews = reviews_demo.seed_history(pay=payments_demo.demo_pay)
            conversations, chat_messages, reports = chat_demo.seed_conversations()
            person_reports = safety_demo.seed_reports()  # one open report about a person for staff to decide
            # A meeting happening now (check-in code, SOS, the welfare check) and Rina's trusted contact.
            meetings = safety_demo.seed_meeting(pay=payments_demo.demo_pay)
            # A history customer who asked to delete their account: logging in as them cancels it.
            deletions = privacy_demo.seed_deletion()
            promo_codes = promotions_demo.seed_promotions()  # a public code that works at once (issue 16)
            # Invitation codes for the demo logins; friends who signed up through Rina's link (issue 16).
            promotions_demo.seed_referrals(pay=payments_demo.demo_pay)
            products_demo.seed_packages()  # Sorotan and Kompanion Plus packages, bought through the simulator
            # What the daily job would show on the demo profiles: the history's levels.
            reliability.recompute()
            levels.recompute()
            # What the nightly job would have rolled up for the analytics, over the demo's history (issue 18).
            # The searches and profile views the counters would have flushed, then every rollup.
            analytics_demo.seed_traffic(today=analytics_rollups.yesterday() + timedelta(days=1))
            analytics_nightly.rollup_range(
                analytics_rollups.yesterday() - timedelta(days=179), analytics_rollups.yesterday()
            )
            # The locmem backend makes mail.outbox when first used: a run that sent nothing has none.
            kept_back = len(getattr(mail, "outbox", [])) - len(outbox_before)
        mail.outbox = outbox_before  # the seed's emails are dropped, anything sent before stays
        self.stdout.write(
            self.style.SUCCESS(
                f"demo data ready (new: {created['customers']} customers, {created['companions']} companions; "
                f"{listed} companion profiles completed and listed; {bookings} demo bookings; {reviews} reviews; "
                f"{past_bookings} past bookings and {past_reviews} reviews earning levels, by "
                f"{len(accounts_demo.HISTORY_CUSTOMERS)} history customers (<first>.<last>@kompanion.test); "
                f"{chat_messages} chat messages in {conversations} conversations, {reports} reported; "
                f"{person_reports} reports about people; {meetings} meeting happening now; {deletions} account "
                f"deletion scheduled (a history customer, Gilang: logging in as him cancels it); "
                f"{kept_back} notification emails of the seed not printed)"
            )
        )
        if quiet_logins:
            return
        password = accounts_demo.DEMO_PASSWORD
        companion = accounts_demo.demo_companions()[0]
        customer = accounts_demo.CUSTOMERS[0][0]
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Emails you trigger from now on (verification, password reset) are printed in this console.",
                    "",
                    "Demo logins (password for all: " + password + ")",
                    f"  customer   {customer}",
                    f"  companion  {companion.email}  (and 39 more: <first name>@kompanion.test)",
                    f"  admin      {accounts_demo.ADMIN_EMAIL}  -> /admin/ asks for a two-factor code:",
                    f"             authenticator secret {accounts_demo.ADMIN_TOTP_SECRET}, or run `make totp`",
                    "",
                    f"Promo code: {promo_codes[0]} (15% up to Rp 50.000) on the request page; "
                    f"a new customer's first booking gets the welcome discount without a code. "
                    f"Invitation link of {customer}: {promotions_demo.invitation_link(customer)} "
                    f"(friends who sign up through it get a bigger welcome discount; her invited friends: "
                    f"one rewarded with a voucher, one in progress, four held for review in the admin). "
                    f"Paid products: a companion buys Sorotan on their dashboard (Sorotan tab), a customer "
                    f"Kompanion Plus at /plus/, both through the payment simulator.",
                    "",
                ]
            )
        )
