"""The Celery app and the one beat schedule of the project."""

import os

from celery import Celery
from celery.schedules import crontab

from core import metrics
from core.request_id import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("kompanion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The request id travels in the task's headers and is set around the task in the worker (core/request_id.py).
connect_celery_signals()
# Task counts (sent, started, succeeded, failed, retried) and query timings in every process (issue 19).
metrics.connect()

app.conf.beat_schedule = {
    # Booking deadlines: unanswered requests are declined, unpaid ones expire, ended ones complete.
    # Pages and services read the deadlines too, so a late sweep never lets a stale hold count.
    "bookings-sweep-deadlines": {
        "task": "bookings.tasks.sweep_deadlines_task",
        "schedule": 60.0,
    },
    # Payments: the lost-webhook safety net. Asks Midtrans' status API about attempts still open
    # after 5 minutes (and a while past their checkout's end) and re-sends refunds stuck pending.
    "payments-reconcile": {
        "task": "payments.tasks.reconcile_payments_task",
        "schedule": 300.0,
    },
    # Notifications: re-sends deliveries whose task was lost or whose send was interrupted.
    "notifications-sweep-deliveries": {
        "task": "notifications.tasks.sweep_deliveries_task",
        "schedule": 60.0,
    },
    # Reminders (24 h and 2 h before) and nudges (answer and payment deadlines): a scan of the
    # database, each message once by its key, so a late or repeated scan never sends twice.
    "bookings-reminders": {
        "task": "bookings.tasks.send_reminders_task",
        "schedule": 300.0,
    },
    # Reviews: both sides' reviews are published together when the 14-day window closes (the review page
    # also publishes a due one before it reads, so a late sweep never shows a stale state).
    "reviews-publish-due": {
        "task": "reviews.tasks.publish_due_reviews_task",
        "schedule": 300.0,
    },
    # Chat: a message still unread after 10 minutes is told by email / WhatsApp (at most every 30 minutes
    # per conversation, the sender's name only); the in-app bell was told at once.
    "chat-unread-notices": {
        "task": "chat.tasks.unread_notices_task",
        "schedule": 60.0,
    },
    # Safety at meetings: "are you OK?" at a meeting's end + 15 min, the trusted contacts and the staff safety
    # queue at + 30 min, unless it was marked ended (safety/welfare.py; each step once).
    "safety-welfare-check": {
        "task": "safety.tasks.welfare_sweep_task",
        "schedule": 60.0,
    },
    # Companions' reliability over the last 90 days, shown on their profiles (bookings/reliability.py),
    # then their levels from it and the last year's bookings (bookings/levels.py, companions/levels.py).
    "bookings-recompute-standing": {
        "task": "bookings.tasks.recompute_standing_task",
        "schedule": crontab(hour=19, minute=30),  # 02.30 WIB
    },
    # Personal-data minimisation: sign-ups that never confirmed their email are erased after
    # UNVERIFIED_ACCOUNT_RETENTION_DAYS; daily is plenty.
    "accounts-purge-unverified": {
        "task": "accounts.tasks.purge_unverified_accounts_task",
        "schedule": crontab(hour=19, minute=15),  # 02.15 WIB, a quiet hour
    },
    # Privacy (issue 15): accounts whose deletion's grace period is over are purged (privacy/deletion.py),
    # files a purge could not delete are retried, and the retention periods are applied daily.
    "privacy-purge-due": {
        "task": "privacy.tasks.purge_due_task",
        "schedule": crontab(minute=20),  # hourly
    },
    "privacy-shred-sweep": {
        "task": "privacy.tasks.shred_sweep_task",
        "schedule": crontab(minute=50),  # hourly
    },
    "privacy-retention": {
        "task": "privacy.tasks.retention_task",
        "schedule": crontab(hour=20, minute=5),  # 03.05 WIB, a quiet hour
    },
    # Data exports: requests no worker picked up are queued again, expired export files deleted (48 h).
    "privacy-export-sweep": {
        "task": "privacy.tasks.export_sweep_task",
        "schedule": crontab(minute="*/15"),
    },
    # Analytics (issue 18): yesterday's rollups (and the day before, for late events), a quiet hour.
    "analytics-nightly-rollup": {
        "task": "analytics.tasks.nightly_rollup_task",
        "schedule": crontab(hour=18, minute=30),  # 01.30 WIB
    },
    # Analytics (issue 18): the searches counted in the cache, into the database.
    "analytics-flush-searches": {
        "task": "analytics.tasks.flush_searches_task",
        "schedule": crontab(minute="*/5"),
    },
    # Paid products (issue 17): deferred revenue recognised day by day, abandoned checkouts closed.
    "payments-purchases-daily": {
        "task": "payments.tasks.purchases_daily_task",
        "schedule": crontab(hour=17, minute=5),  # 00.05 WIB: the day just ended
    },
    # Referrals (issue 16): rewards due but not decided yet (promotions/referrals.py).
    "promotions-referral-rewards": {
        "task": "promotions.tasks.referral_rewards_task",
        "schedule": crontab(minute=35),  # hourly
    },
    # Expired sessions pile up in the database otherwise.
    "accounts-clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=19, minute=45),
    },
    # Sorotan statistics: search impressions and profile views counted in Redis (one round trip per page,
    # no database write) are added to products.DailyStat; a lost run only delays the figures.
    "products-flush-view-counts": {
        "task": "products.tasks.flush_view_counts_task",
        "schedule": 300.0,
    },
    # Cached pages: version bumps that failed while Redis was down are applied once it is back (beat
    # itself needs the broker, so this runs from the first minute after the outage), so no page cached
    # before the outage is served after it (core/cache.py, companions/page_cache.py).
    "core-apply-deferred-cache-deletes": {
        "task": "core.tasks.apply_deferred_cache_deletes_task",
        "schedule": 60.0,
    },
}
