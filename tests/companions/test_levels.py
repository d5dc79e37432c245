"""Companion levels (companions/levels.py): the thresholds at their boundaries, promotion at once, demotion
only after a notice to a month's first day, the job run twice changing nothing, staff overrides, the
policy staff edit in the admin, and the companion's "My level" page."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions import levels, services
from companions.models import (
    CompanionProfile,
    Level,
    LevelChange,
    LevelPolicy,
    LevelRule,
    LevelStanding,
)
from notifications.models import Notification
from tests.companions.helpers import listed_companion
from tests.concurrency import at_once
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 7)
SILVER = {"completed": 10, "customers": 5, "cancellation_rate": 10, "recent_subtotal": 3_000_000}
GOLD = {"completed": 25, "customers": 12, "cancellation_rate": 5, "recent_subtotal": 9_000_000}
NOTHING = {"completed": 0, "customers": 0, "cancellation_rate": None, "recent_subtotal": 0}


def rules():
    return levels.rules_by_rank(levels.policy_in_effect(DAY))


def rated(profile, *, count: int, stars: int) -> CompanionProfile:
    services.profile_rating_change(profile_id=profile.pk, count=count, stars=stars)
    return CompanionProfile.objects.get(pk=profile.pk)


def figures(**values) -> levels.Figures:
    return levels.Figures(**{**SILVER, "rating": Decimal("4.5"), "response_rate": 80, **values})


def level_of(profile) -> str:
    return CompanionProfile.objects.values_list("level", flat=True).get(pk=profile.pk)


def run(profile, values, day=DAY) -> dict:
    return levels.standings_apply({profile.pk: values}, day=day)


def moved(counts: dict) -> dict:
    """The outcomes that happened (figures rewritten aside)."""
    return {kind: count for kind, count in counts.items() if count and kind != "figures_written"}


# --- The thresholds -----------------------------------------------------------------------------------


def test_the_first_policy_is_in_effect_with_every_level():
    assert [rule.level for rule in rules()] == list(Level.values)
    assert [rule.commission_basis_points for rule in rules()] == [2000, 1800, 1500, 1200]


def test_exactly_at_every_silver_threshold_is_silver_and_one_short_of_any_is_not():
    assert levels.earned_level(rules(), figures()) == Level.SILVER
    for short in (
        {"completed": 9},
        {"customers": 4},
        {"rating": Decimal("4.4")},
        {"rating": None},  # fewer than 3 published reviews: no rating to meet the threshold with
        {"response_rate": 79},
        {"cancellation_rate": 11},  # a ceiling: one point over
    ):
        assert levels.earned_level(rules(), figures(**short)) == Level.BARU, short


def test_a_rate_without_enough_cases_holds_nobody_back():
    assert levels.earned_level(rules(), figures(response_rate=None, cancellation_rate=None)) == Level.SILVER


def test_a_level_needs_every_lower_level_too():
    # Gold's counts and rating, but a response rate only Baru accepts: not Silver, so not Gold either.
    assert levels.earned_level(rules(), figures(**GOLD, rating=Decimal("4.9"), response_rate=50)) == Level.BARU
    assert levels.earned_level(rules(), figures(**GOLD, rating=Decimal("4.7"), response_rate=90)) == Level.GOLD
    assert levels.earned_level(rules(), figures(**GOLD, rating=Decimal("4.6"), response_rate=90)) == Level.SILVER


@pytest.mark.parametrize(
    ("warned", "due"),
    [
        (date(2026, 12, 7), date(2027, 2, 1)),  # 30 days on is 6 January: the next first of a month
        (date(2026, 12, 2), date(2027, 1, 1)),  # 30 days on is 1 January itself
        (date(2026, 11, 30), date(2027, 1, 1)),
        (date(2027, 1, 31), date(2027, 4, 1)),  # 2 March -> 1 April
    ],
)
def test_a_demotion_falls_on_the_first_of_a_month_at_least_30_days_after_the_notice(warned, due):
    assert levels.demotion_day(warned) == due
    assert (due - warned).days >= 30 and due.day == 1


# --- The daily job ----------------------------------------------------------------------------------


def silver_ready_companion():
    profile = listed_companion()
    return rated(profile, count=5, stars=25)  # (25 + 20) / 10 = 4.5


def test_promotion_is_immediate_recorded_told_once_and_a_second_run_changes_nothing():
    profile = silver_ready_companion()
    assert run(profile, SILVER)["promotion"] == 1
    assert level_of(profile) == Level.SILVER
    change = LevelChange.objects.get(profile=profile)
    assert (change.kind, change.from_level, change.to_level) == ("promotion", "baru", "silver")
    assert change.figures["completed"] == 10 and change.figures["rating"] == "4.5"
    assert Notification.objects.filter(recipient=profile.user, event="level_promoted").count() == 1
    standing = LevelStanding.objects.get(profile=profile)
    before = (LevelChange.objects.count(), Notification.objects.count(), standing.computed_on)

    with CaptureQueriesContext(connection) as queries:
        counts = run(profile, SILVER)
    assert not any(counts.values()), counts
    assert (LevelChange.objects.count(), Notification.objects.count()) == before[:2]
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]


def test_a_drop_is_announced_first_and_applied_only_on_the_due_day_if_not_recovered():
    profile = silver_ready_companion()
    run(profile, SILVER)
    assert run(profile, NOTHING, day=DAY)["warning"] == 1
    standing = LevelStanding.objects.get(profile=profile)
    assert (standing.warned_on, standing.demotion_on, standing.demotion_to) == (DAY, date(2027, 2, 1), "baru")
    assert level_of(profile) == Level.SILVER  # still Silver during the notice
    assert Notification.objects.filter(recipient=profile.user, event="level_warning").count() == 1

    for day in (DAY + timedelta(days=1), date(2027, 1, 31)):  # the notice runs; nothing moves, nobody is told
        assert not moved(run(profile, NOTHING, day=day))
        assert level_of(profile) == Level.SILVER
    assert LevelChange.objects.filter(profile=profile).count() == 2

    assert run(profile, NOTHING, day=date(2027, 2, 1))["demotion"] == 1
    assert level_of(profile) == Level.BARU
    standing.refresh_from_db()
    assert standing.warned_on is None and standing.demotion_to == ""
    assert Notification.objects.filter(recipient=profile.user, event="level_demoted").count() == 1
    assert not run(profile, NOTHING, day=date(2027, 2, 1))["demotion"]  # the same day again: nothing


def test_figures_that_recover_during_the_notice_withdraw_it():
    profile = silver_ready_companion()
    run(profile, SILVER)
    run(profile, NOTHING, day=DAY)
    assert run(profile, SILVER, day=DAY + timedelta(days=5))["recovered"] == 1
    standing = LevelStanding.objects.get(profile=profile)
    assert standing.warned_on is None and level_of(profile) == Level.SILVER
    assert Notification.objects.filter(recipient=profile.user, event="level_recovered").count() == 1
    # A later drop starts a new, full notice.
    run(profile, NOTHING, day=DAY + timedelta(days=40))
    standing.refresh_from_db()
    assert standing.demotion_on == date(2027, 3, 1)


def test_figures_are_stored_for_every_companion_and_unchanged_ones_are_not_written_again():
    quiet, busy = listed_companion(), listed_companion()
    counts = levels.standings_apply({busy.pk: {**NOTHING, "completed": 2, "customers": 2}}, day=DAY)
    assert LevelStanding.objects.filter(profile__in=[quiet, busy]).count() == 2
    assert LevelStanding.objects.get(profile=busy).completed == 2
    assert counts["promotion"] == 0
    counts = levels.standings_apply({busy.pk: {**NOTHING, "completed": 3, "customers": 2}}, day=DAY)
    assert counts["figures_written"] == 1  # busy's new figure; quiet's are the same
    assert LevelStanding.objects.get(profile=busy).completed == 3


def test_a_staff_override_holds_until_lifted_and_a_lift_never_demotes_at_once():
    profile = listed_companion()
    staff = StaffFactory()
    levels.level_override(profile_id=profile.pk, level=Level.GOLD, reason="Ambassador programme pilot", by=staff)
    assert level_of(profile) == Level.GOLD
    change = LevelChange.objects.get(profile=profile)
    assert (change.kind, change.created_by, change.reason) == ("override", staff, "Ambassador programme pilot")
    assert not moved(run(profile, NOTHING))  # figures say Baru: the override holds
    assert level_of(profile) == Level.GOLD

    levels.level_override_lift(profile_id=profile.pk, reason="Pilot ended", by=staff)
    assert run(profile, NOTHING, day=DAY + timedelta(days=1))["warning"] == 1
    assert level_of(profile) == Level.GOLD  # announced, not applied


def test_an_override_needs_a_level_and_a_reason():
    profile = listed_companion()
    for level, reason in ((Level.GOLD, "  "), ("diamond", "because")):
        with pytest.raises(ValueError):
            levels.level_override(profile_id=profile.pk, level=level, reason=reason, by=StaffFactory())
    assert level_of(profile) == Level.BARU and not LevelChange.objects.exists()


def test_a_new_policy_moves_levels_from_its_own_day():
    profile = silver_ready_companion()
    run(profile, SILVER)
    policy = LevelPolicy.objects.create(effective_from=DAY + timedelta(days=10), note="Harder Silver")
    for rule in rules():
        rule.pk, rule.policy = None, policy
        if rule.level != Level.BARU:
            rule.min_completed += 5
        rule.save()
    assert not run(profile, SILVER, day=DAY + timedelta(days=9))["warning"]
    assert run(profile, SILVER, day=DAY + timedelta(days=10))["warning"] == 1
    assert levels.commission_basis_points(Level.SILVER, DAY) == 1800


# --- The policy staff edit --------------------------------------------------------------------------


def rows(**changes) -> list[dict]:
    found = []
    for rule in rules():
        row = {field: getattr(rule, field) for field in ("level", "commission_basis_points", *levels.THRESHOLDS)}
        row["max_cancellation_rate"] = rule.max_cancellation_rate
        found.append({**row, **changes.get(rule.level, {})})
    return found


def test_the_first_policy_passes_its_own_checks_and_broken_ones_are_refused():
    assert levels.rules_problems(rows()) == []
    assert levels.rules_problems(rows()[:3])  # a level missing
    assert levels.rules_problems(rows(gold={"commission_basis_points": 1900}))  # dearer than Silver
    assert levels.rules_problems(rows(gold={"min_completed": 5}))  # asks less than Silver
    assert levels.rules_problems(rows(gold={"max_cancellation_rate": 20}))  # allows more cancellations
    assert levels.rules_problems(rows(baru={"min_completed": 1}))  # the starting level needs nothing
    assert levels.rules_problems([*rows(), rows()[0]])  # a level twice


def admin_post_data(effective_from: date, **changes) -> dict:
    data = {
        "effective_from": effective_from.isoformat(),
        "note": "Cheaper Gold",
        "rules-TOTAL_FORMS": "4",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "4",
        "rules-MAX_NUM_FORMS": "4",
    }
    for index, row in enumerate(rows(**changes)):
        for name, value in row.items():
            data[f"rules-{index}-{name}"] = "" if value is None else str(value)
    return data


@pytest.fixture
def admin_user(staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return staff


def test_staff_add_a_policy_for_a_later_day_and_a_past_day_or_bad_rules_store_nothing(client, admin_user):
    staff = admin_user
    client.force_login(staff)
    url = reverse("admin:companions_levelpolicy_add")
    today = levels.today_wib()
    assert client.get(url).status_code == 200
    for data in (
        admin_post_data(today - timedelta(days=1)),
        admin_post_data(today + timedelta(days=3), gold={"commission_basis_points": 1900}),
    ):
        response = client.post(url, data)
        assert response.status_code == 200 and response.context["errors"], data
        assert LevelPolicy.objects.count() == 1
    response = client.post(url, admin_post_data(today + timedelta(days=3), gold={"commission_basis_points": 1400}))
    assert response.status_code == 302
    added = LevelPolicy.objects.get(effective_from=today + timedelta(days=3))
    assert added.created_by == staff
    assert added.rules.get(level=Level.GOLD).commission_basis_points == 1400


def test_a_policy_in_effect_cannot_be_changed_or_deleted(client, admin_user):
    client.force_login(admin_user)
    first = LevelPolicy.objects.get()
    change = reverse("admin:companions_levelpolicy_change", args=[first.pk])
    response = client.post(change, admin_post_data(first.effective_from, gold={"commission_basis_points": 100}))
    assert response.status_code == 403
    assert (
        client.post(reverse("admin:companions_levelpolicy_delete", args=[first.pk]), {"post": "yes"}).status_code == 403
    )
    assert LevelRule.objects.get(policy=first, level=Level.GOLD).commission_basis_points == 1500


def test_staff_override_through_the_admin_needs_a_reason_and_is_recorded(client, admin_user):
    staff = admin_user
    client.force_login(staff)
    profile = listed_companion()
    levels.standings_apply({}, day=DAY)
    url = reverse("admin:companions_levelstanding_change", args=[profile.pk])
    response = client.post(url, {"set_level": "gold", "reason": ""})
    assert response.status_code == 200 and level_of(profile) == Level.BARU
    response = client.post(url, {"set_level": "gold", "reason": "Verified partner of an event organiser"})
    assert response.status_code == 302 and level_of(profile) == Level.GOLD
    assert LevelChange.objects.get(profile=profile).created_by == staff


# --- "My level" -------------------------------------------------------------------------------------


def test_my_level_shows_each_figure_against_the_next_level_and_what_it_is_worth(client):
    profile = silver_ready_companion()
    run(profile, {**SILVER, "recent_subtotal": 9_000_000})
    client.force_login(profile.user)
    response = client.get(reverse("companions:level"))
    html = response.content.decode()
    page = response.context["page"]
    assert page.level == Level.SILVER and page.commission_basis_points == 1800
    assert page.next_rule.level == Level.GOLD
    # 9,000,000 over 90 days is 3,000,000 a month; Gold keeps 3 points more of it: Rp 90,000.
    assert page.next_worth_per_month == 90_000
    assert {check.key: check.met for check in page.next_checks} == {
        "completed": False,
        "customers": False,
        "rating": False,
        "response_rate": True,  # not enough cases yet
        "cancellation_rate": False,  # 10% > Gold's 5%
    }
    assert 'data-level="silver"' in html and "18%" in html and "Rp\u00a090.000" in html
    assert [change.kind for change in page.history] == ["promotion"]


def test_my_level_queries_stay_the_same_as_the_history_grows(client):
    profile = silver_ready_companion()
    client.force_login(profile.user)
    run(profile, SILVER)
    client.get(reverse("companions:level"))  # the bell's count cached, as in every later visit
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("companions:level"))
    for day in range(1, 6):  # a warning and a recovery, five times over
        run(profile, NOTHING, day=DAY + timedelta(days=2 * day))
        run(profile, SILVER, day=DAY + timedelta(days=2 * day + 1))
    client.get(reverse("companions:level"))
    with CaptureQueriesContext(connection) as later:
        client.get(reverse("companions:level"))
    assert LevelChange.objects.filter(profile=profile).count() == 11
    assert len(later.captured_queries) == len(first.captured_queries)


def test_the_badge_follows_the_level_on_the_profile_and_in_search(client):
    profile = silver_ready_companion()
    assert 'data-level="baru"' in client.get(reverse("companions:profile", args=[profile.slug])).content.decode()
    run(profile, SILVER)
    assert 'data-level="silver"' in client.get(reverse("companions:profile", args=[profile.slug])).content.decode()
    assert 'data-level="silver"' in client.get(reverse("companions:search")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_job_and_a_staff_override_at_the_same_moment_end_with_the_override(reference_data, settings):
    """On PostgreSQL each on its own connection: whichever takes the standing's lock first, the override
    is the level left, recorded once, and the job never records a move over it afterwards."""
    settings.LOCK_TIMEOUT_MS = 10_000  # this test is about the outcome, not the wait
    profile = silver_ready_companion()
    staff = StaffFactory()
    errors = at_once(
        lambda: levels.standings_apply({profile.pk: SILVER}, day=DAY),
        lambda: levels.level_override(profile_id=profile.pk, level=Level.PLATINUM, reason="Pilot partner", by=staff),
    )
    assert errors == []
    assert level_of(profile) == Level.PLATINUM
    kinds = list(LevelChange.objects.filter(profile=profile).order_by("pk").values_list("kind", flat=True))
    assert kinds in (["override"], ["promotion", "override"])
    assert not moved(run(profile, SILVER, day=DAY + timedelta(days=1)))
    assert level_of(profile) == Level.PLATINUM
