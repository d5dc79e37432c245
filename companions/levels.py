"""Companion levels: which level a companion's figures earn under the policy in effect, the commission a
level pays, and the one place a level changes (the daily job, a staff override).

- Promotion is immediate. A demotion is announced first (the companion is told) and takes effect on the
  first day of a month at least DEMOTION_NOTICE after the announcement, if the figures have not recovered
  by then; if they recover the announcement is withdrawn.
- A level never touches existing bookings: each booking froze its commission when it was created
  (bookings.pricing).
- The figures that need bookings (completed bookings and different customers over 365 days, the
  cancellation rate, recent volume) are computed by bookings (bookings/levels.py), which sits above
  companions; the rating and response rate are read from the profile row."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companions.models import (
    LEVEL_RANK,
    RATING_SHOWN_FROM,
    CompanionProfile,
    Level,
    LevelChange,
    LevelPolicy,
    LevelRule,
    LevelStanding,
    bayesian_rating,
)
from companions.services import profile_pages_changed
from core.bulk import update_rows
from core.i18n import IndonesianTimeZone
from core.locks import LockBusy, lock_one, set_lock_timeout
from core.money import percent_of
from notifications.services import notification_record

DEMOTION_NOTICE = timedelta(days=30)
FIGURE_FIELDS = ("completed", "customers", "cancellation_rate", "recent_subtotal")
MONTHS_IN_RECENT = 3  # recent_subtotal covers 90 days: a month is a third of it


def today_wib(now: datetime | None = None) -> date:
    """Level days are Jakarta's (WIB), whatever the server's zone."""
    return timezone.localdate(now or timezone.now(), timezone=ZoneInfo(IndonesianTimeZone.WIB.value))


# --- The policy -----------------------------------------------------------------------------------------


def policy_in_effect(day: date | None = None) -> LevelPolicy | None:
    """The policy whose date is the latest on or before `day` (today, WIB), with its rules in rank order."""
    day = day or today_wib()
    return (
        LevelPolicy.objects.filter(effective_from__lte=day)
        .prefetch_related("rules")
        .order_by("-effective_from")
        .first()
    )


def policy_editable(policy: LevelPolicy, day: date | None = None) -> bool:
    """A policy may be edited or deleted only before it takes effect: bookings froze its commissions and
    the level history cites it, so the past is never rewritten (staff add a new policy instead)."""
    return policy.pk is None or policy.effective_from > (day or today_wib())


def policy_date_problem(effective_from: date, day: date | None = None) -> str | None:
    if effective_from < (day or today_wib()):
        return str(_("A policy takes effect today or later: the past is not rewritten."))
    return None


THRESHOLDS = ("min_completed", "min_customers", "min_rating", "min_response_rate")


def rules_problems(rows: list[dict]) -> list[str]:
    """What is wrong with a policy's rules (each a dict of LevelRule's fields): every level exactly once;
    the lowest needs nothing; going up, the commission never rises and no threshold is lower (nor the
    cancellation ceiling higher) than the level below's."""
    by_level: dict[str, dict] = {}
    for row in rows:
        if row["level"] in by_level:
            return [str(_("Each level appears once."))]
        by_level[row["level"]] = row
    if set(by_level) != set(Level.values):
        return [str(_("A policy has a rule for every level: %(levels)s.") % {"levels": ", ".join(Level.labels)})]
    problems = []
    lowest = by_level[Level.BARU]
    if any(lowest[name] for name in THRESHOLDS) or lowest["max_cancellation_rate"] is not None:
        problems.append(str(_("Baru is every companion's starting level: it has no thresholds.")))
    ordered = [by_level[level] for level in Level.values]
    for below, above in zip(ordered, ordered[1:], strict=False):
        name = Level(above["level"]).label
        if above["commission_basis_points"] > below["commission_basis_points"]:
            problems.append(str(_("%(level)s's commission is higher than the level below's.") % {"level": name}))
        lower = [
            field
            for field in THRESHOLDS
            if below[field] is not None and (above[field] is None or above[field] < below[field])
        ]
        ceiling_below, ceiling = below["max_cancellation_rate"], above["max_cancellation_rate"]
        if lower or (ceiling_below is not None and (ceiling is None or ceiling > ceiling_below)):
            problems.append(str(_("%(level)s asks less than the level below it.") % {"level": name}))
    return problems


def rules_by_rank(policy: LevelPolicy | None) -> list[LevelRule]:
    if policy is None:
        return []
    return sorted(policy.rules.all(), key=lambda rule: LEVEL_RANK[rule.level])


def commission_basis_points(level: str, day: date | None = None) -> int:
    """The commission a level pays under the policy in effect (one query); with no policy, or none for
    the level, the setting BOOKING_COMMISSION_BASIS_POINTS."""
    day = day or today_wib()
    found = (
        LevelRule.objects.filter(level=level, policy__effective_from__lte=day)
        .order_by("-policy__effective_from")
        .values_list("commission_basis_points", flat=True)
        .first()
    )
    return settings.BOOKING_COMMISSION_BASIS_POINTS if found is None else found


# --- The figures and the checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    completed: int = 0  # completed bookings, last 365 days
    customers: int = 0  # different customers among them
    cancellation_rate: int | None = None  # % of accepted bookings the companion cancelled (None: too few)
    recent_subtotal: int = 0  # the completed bookings' subtotals over the last 90 days, Rupiah
    rating: Decimal | None = None  # the rating the profile shows (None below RATING_SHOWN_FROM reviews)
    response_rate: int | None = None  # % of requests answered in time over 90 days (None: too few)

    @classmethod
    def of(cls, profile: CompanionProfile, standing: LevelStanding | None) -> Figures:
        stored = {name: getattr(standing, name) for name in FIGURE_FIELDS} if standing else {}
        return cls(
            **stored,
            rating=(
                bayesian_rating(profile.rating_total, profile.rating_count)
                if profile.rating_count >= RATING_SHOWN_FROM
                else None
            ),
            response_rate=profile.response_rate,
        )

    def as_json(self) -> dict:
        values = asdict(self)
        values["rating"] = None if self.rating is None else str(self.rating)
        return values


@dataclass(frozen=True)
class Check:
    key: str
    label: object
    value: object  # the companion's figure (None: not enough to go on yet)
    needed: object
    met: bool
    at_most: bool = False  # a ceiling (cancellations) rather than a floor


def checks(rule: LevelRule, figures: Figures) -> list[Check]:
    """What `rule` asks, each against the companion's figure. A threshold left empty is not asked. A rate
    with too few cases to compute does not hold anybody back (volume is asked by the counts); a rating
    needs RATING_SHOWN_FROM published reviews."""
    found = [
        Check("completed", _("Completed bookings (365 days)"), figures.completed, rule.min_completed,
              figures.completed >= rule.min_completed),
        Check("customers", _("Different customers (365 days)"), figures.customers, rule.min_customers,
              figures.customers >= rule.min_customers),
    ]  # fmt: skip
    if rule.min_rating is not None:
        met = figures.rating is not None and figures.rating >= rule.min_rating
        found.append(Check("rating", _("Rating"), figures.rating, rule.min_rating, met))
    if rule.min_response_rate is not None:
        rate = figures.response_rate
        found.append(
            Check("response_rate", _("Requests answered in time (90 days)"), rate, rule.min_response_rate,
                  rate is None or rate >= rule.min_response_rate)
        )  # fmt: skip
    if rule.max_cancellation_rate is not None:
        rate = figures.cancellation_rate
        found.append(
            Check("cancellation_rate", _("Cancelled after accepting (365 days)"), rate, rule.max_cancellation_rate,
                  rate is None or rate <= rule.max_cancellation_rate, at_most=True)
        )  # fmt: skip
    return [check for check in found if check.needed or check.key not in ("completed", "customers")]


def earned_level(rules: list[LevelRule], figures: Figures) -> str:
    """The highest level whose rule, and every lower level's, the figures meet (rules in rank order)."""
    earned = Level.BARU
    for rule in rules:
        if not all(check.met for check in checks(rule, figures)):
            break
        earned = rule.level
    return earned


def demotion_day(warned_on: date) -> date:
    """The first day of a month at least DEMOTION_NOTICE after the announcement."""
    earliest = warned_on + DEMOTION_NOTICE
    if earliest.day == 1:
        return earliest
    return date(earliest.year + earliest.month // 12, earliest.month % 12 + 1, 1)


# --- The one place a level changes ----------------------------------------------------------------------

NOTIFY = {
    LevelChange.Kind.PROMOTION: "level_promoted",
    LevelChange.Kind.WARNING: "level_warning",
    LevelChange.Kind.RECOVERED: "level_recovered",
    LevelChange.Kind.DEMOTION: "level_demoted",
}


def _record(profile, standing, *, kind, to_level, reason, figures: Figures, by=None, day: date | None = None) -> None:
    from_level = profile.level
    LevelChange.objects.create(
        profile=profile,
        kind=kind,
        from_level=from_level,
        to_level=to_level,
        reason=str(reason),
        figures=figures.as_json(),
        created_by=by,
    )
    if to_level != from_level and kind != LevelChange.Kind.WARNING:
        CompanionProfile.objects.filter(pk=profile.pk).update(level=to_level)
        profile.level = to_level
        profile_pages_changed(profile_id=profile.pk)
    if kind in NOTIFY:
        context = {"level": Level(to_level).label}
        if kind == LevelChange.Kind.WARNING:
            context["date"] = standing.demotion_on.isoformat()
        notification_record(
            recipient=profile.user,
            event=NOTIFY[kind],
            context=context,
            # once per change and day: a job run twice the same day never tells twice
            dedupe_key=f"level:{profile.pk}:{kind}:{to_level}:{day or today_wib()}",
        )


def _clear_warning(standing: LevelStanding) -> None:
    standing.warned_on = standing.demotion_on = None
    standing.demotion_to = ""


def _locked_standing(profile_id: int) -> LevelStanding:
    """The companion's standing (made on first use), locked with the short lock timeout: every level
    change holds this lock, so the job and staff never move the same level at once. Raises LockBusy."""
    set_lock_timeout()
    LevelStanding.objects.get_or_create(profile_id=profile_id)
    return lock_one(LevelStanding, profile_id)


def standing_apply(*, profile_id: int, figures: dict, rules: list[LevelRule], day: date) -> str | None:
    """Stores the job's figures for one companion and moves their level as the rules say; returns the kind
    of change recorded (or None). Under the standing's row lock, so a staff override at the same moment
    is seen; run twice the same day, the second run changes nothing."""
    with transaction.atomic():
        # The standing's lock first, then the profile: its level is read after any override committed.
        standing = _locked_standing(profile_id)
        profile = CompanionProfile.objects.select_related("user").get(pk=profile_id)
        for name in FIGURE_FIELDS:
            setattr(standing, name, figures[name])
        standing.computed_on = day
        found = Figures.of(profile, standing)
        kind = None
        if not standing.overridden and rules:
            kind = _move(profile, standing, found, rules, day)
        standing.save()
        return kind


def _move(profile, standing, found: Figures, rules, day: date):
    earned = earned_level(rules, found)
    current = LEVEL_RANK[profile.level]
    if LEVEL_RANK[earned] > current:
        _clear_warning(standing)
        _record(profile, standing, kind=LevelChange.Kind.PROMOTION, to_level=earned, figures=found, day=day,
                reason=_("The figures meet the level's thresholds."))  # fmt: skip
        return LevelChange.Kind.PROMOTION
    if LEVEL_RANK[earned] == current:
        if standing.warned_on is None:
            return None
        _clear_warning(standing)
        _record(profile, standing, kind=LevelChange.Kind.RECOVERED, to_level=profile.level, figures=found, day=day,
                reason=_("The figures recovered before the announced demotion."))  # fmt: skip
        return LevelChange.Kind.RECOVERED
    if standing.warned_on is None:
        standing.warned_on, standing.demotion_on, standing.demotion_to = day, demotion_day(day), earned
        _record(profile, standing, kind=LevelChange.Kind.WARNING, to_level=earned, figures=found, day=day,
                reason=_("The figures are below the level's thresholds."))  # fmt: skip
        return LevelChange.Kind.WARNING
    if day >= standing.demotion_on:
        _clear_warning(standing)
        _record(profile, standing, kind=LevelChange.Kind.DEMOTION, to_level=earned, figures=found, day=day,
                reason=_("The figures stayed below the level's thresholds after the notice."))  # fmt: skip
        return LevelChange.Kind.DEMOTION
    standing.demotion_to = earned  # still announced; to where the figures point today
    return None


def standings_apply(figures_by_profile: dict[int, dict], *, day: date | None = None) -> dict[str, int]:
    """The daily job's second half: every companion's figures (a companion missing from the dict has
    none) stored and their level moved. Unchanged figures are not written; new figures that move nothing
    are written in batches; a companion whose level or announcement moves is handled alone under its row
    lock (standing_apply), which decides again from the locked row. Returns counts by outcome."""
    day = day or today_wib()
    rules = rules_by_rank(policy_in_effect(day))
    empty = dict.fromkeys(FIGURE_FIELDS, 0) | {"cancellation_rate": None}
    counts = {"figures_written": 0, "busy": 0, **{kind.value: 0 for kind in LevelChange.Kind}}
    profiles = CompanionProfile.objects.select_related("standing").only(
        "pk", "level", "rating_total", "rating_count", "response_rate", *(f"standing__{f}" for f in _STANDING_FIELDS)
    )
    # A companion's first standing: made in bulk (a new standing holds no level move: Baru, no notice).
    missing = CompanionProfile.objects.filter(standing__isnull=True).values_list("pk", flat=True)
    LevelStanding.objects.bulk_create(
        [LevelStanding(profile_id=pk) for pk in missing.iterator()], batch_size=2000, ignore_conflicts=True
    )
    quiet: list[LevelStanding] = []
    for profile in profiles.iterator(chunk_size=2000):
        figures = figures_by_profile.get(profile.pk, empty)
        standing = getattr(profile, "standing", None)
        if standing is None or _moves(profile, standing, figures, rules, day):
            try:
                kind = standing_apply(profile_id=profile.pk, figures=figures, rules=rules, day=day)
            except LockBusy:
                counts["busy"] += 1  # staff at it this very moment: tomorrow's run looks again
                continue
            if kind:
                counts[kind] += 1
        elif any(getattr(standing, name) != figures[name] for name in FIGURE_FIELDS):
            for name in FIGURE_FIELDS:
                setattr(standing, name, figures[name])
            standing.computed_on = day
            quiet.append(standing)
    # Figures only: one UPDATE per batch, of fields an override or a level move never writes.
    fields = (*FIGURE_FIELDS, "computed_on")
    update_rows(LevelStanding, fields, [(row.pk, *(getattr(row, name) for name in fields)) for row in quiet])
    counts["figures_written"] = len(quiet)
    return counts


def _moves(profile, standing: LevelStanding, figures: dict, rules, day: date) -> bool:
    """Whether standing_apply would change the level or the announcement (read without a lock)."""
    if standing.overridden or not rules:
        return False
    held = Figures.of(profile, standing)
    earned = earned_level(rules, Figures(**{**held.__dict__, **{name: figures[name] for name in FIGURE_FIELDS}}))
    if LEVEL_RANK[earned] >= LEVEL_RANK[profile.level]:
        return earned != profile.level or standing.warned_on is not None
    return standing.warned_on is None or day >= standing.demotion_on or standing.demotion_to != earned


_STANDING_FIELDS = (*FIGURE_FIELDS, "computed_on", "warned_on", "demotion_on", "demotion_to", "override_reason")


def level_override(*, profile_id: int, level: str, reason: str, by) -> None:
    """Staff set a companion's level by hand, with a reason; the daily job leaves the level alone until
    the override is lifted (level_override_lift). The change is recorded like any other."""
    reason = reason.strip()
    if level not in Level.values or not reason:
        raise ValueError("a level and a reason are required")
    with transaction.atomic():
        standing = _locked_standing(profile_id)
        profile = CompanionProfile.objects.select_related("user").get(pk=profile_id)
        _clear_warning(standing)
        standing.override_reason = reason
        standing.save()
        _record(profile, standing, kind=LevelChange.Kind.OVERRIDE, to_level=level, reason=reason,
                figures=Figures.of(profile, standing), by=by)  # fmt: skip


def level_override_lift(*, profile_id: int, reason: str, by) -> None:
    """Lifts a staff override: from the next daily run the figures decide again (a lower level is
    announced with the usual notice, never applied at once)."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    with transaction.atomic():
        standing = _locked_standing(profile_id)
        profile = CompanionProfile.objects.select_related("user").get(pk=profile_id)
        if not standing.overridden:
            return
        standing.override_reason = ""
        standing.save()
        _record(profile, standing, kind=LevelChange.Kind.OVERRIDE_LIFTED, to_level=profile.level, reason=reason,
                figures=Figures.of(profile, standing), by=by)  # fmt: skip


# --- What the companion's "My level" page shows ---------------------------------------------------------


@dataclass(frozen=True)
class LevelPage:
    level: str
    commission_basis_points: int
    standing: LevelStanding | None
    figures: Figures
    rules: list[LevelRule]  # the policy in effect, in rank order (the table of levels)
    next_rule: LevelRule | None
    next_checks: list[Check]  # each figure against the next level's threshold
    next_worth_per_month: int  # Rupiah kept more each month at the recent volume, at the next level
    history: list[LevelChange]


def level_page(profile: CompanionProfile, *, history: int = 10) -> LevelPage:
    """Three queries: the standing, the policy with its rules, the newest history rows."""
    standing = LevelStanding.objects.filter(profile=profile).first()
    rules = rules_by_rank(policy_in_effect())
    figures = Figures.of(profile, standing)
    by_level = {rule.level: rule for rule in rules}
    current = by_level.get(profile.level)
    commission = current.commission_basis_points if current else settings.BOOKING_COMMISSION_BASIS_POINTS
    higher = [rule for rule in rules if LEVEL_RANK[rule.level] > LEVEL_RANK[profile.level]]
    next_rule = higher[0] if higher else None
    worth = 0
    if next_rule is not None and next_rule.commission_basis_points < commission:
        monthly = figures.recent_subtotal // MONTHS_IN_RECENT
        worth = percent_of(monthly, commission - next_rule.commission_basis_points)
    return LevelPage(
        level=profile.level,
        commission_basis_points=commission,
        standing=standing,
        figures=figures,
        rules=rules,
        next_rule=next_rule,
        next_checks=checks(next_rule, figures) if next_rule else [],
        next_worth_per_month=worth,
        history=list(profile.level_changes.order_by("-created_at", "-pk")[:history]),
    )
