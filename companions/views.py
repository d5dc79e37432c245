import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import blocks
from companions import (
    early_access,
    forms,
    levels,
    page_cache,
    promoted_facts,
    review_facts,
    search_render,
    selectors,
    services,
    view_counts,
)
from companions.availability import DAY_MINUTES
from companions.decorators import companion_required
from companions.errors import CompanionError
from companions.forms import (
    CopyDayForm,
    PhotoForm,
    ProfileForm,
    ScheduleRulesForm,
    SearchForm,
    TimeOffForm,
    VerificationForm,
    WeeklyHoursFormSet,
    weekly_hours_formset,
)
from companions.models import CompanionPhoto, CompanionProfile, TimeOff
from companions.search_render import SearchBoundField
from core.errors import add_error_to_form
from core.i18n import TIME_ZONE_ABBREVIATIONS, IndonesianTimeZone
from core.replica import reads_from_replica

PAGE_SIZE = 24
MAX_PAGE = 1000


@dataclass
class Pager:
    """ "Load more" paging without a COUNT: fetch one row more than a page to know if there is a next.
    A page past the last (an old link, ?page=99) shows the last page instead, with `requested` set to
    the page asked for; only then are rows counted, up to that page's first."""

    number: int
    object_list: list
    has_next: bool
    requested: int | None = None

    @classmethod
    def of(cls, rows_from: Callable[[int, int], list], count_upto: Callable[[int], int], page_param) -> "Pager":
        """`rows_from(offset, limit)`: the rows; `count_upto(limit)`: how many there are, up to `limit`."""
        try:
            number = max(1, min(int(page_param or 1), MAX_PAGE))
        except (TypeError, ValueError):
            number = 1
        rows = rows_from((number - 1) * PAGE_SIZE, PAGE_SIZE + 1)
        requested = None
        if not rows and number > 1:
            requested = number
            # The last page is before the one asked for: counting the rows before it (and one of it) is
            # enough, however many results there are.
            before = count_upto((number - 1) * PAGE_SIZE + 1)
            number = max(1, math.ceil(before / PAGE_SIZE))
            rows = rows_from((number - 1) * PAGE_SIZE, PAGE_SIZE + 1)
        return cls(number=number, object_list=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE, requested=requested)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def first_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.object_list else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + len(self.object_list)

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def viewer_time_zone(request: HttpRequest) -> str:
    user = request.user
    return user.time_zone if user.is_authenticated else IndonesianTimeZone.WIB


def _cache_parts(request: HttpRequest, zone: str, *, known: tuple[str, ...]) -> tuple:
    """What, besides the data version and the half hour, decides these pages' content. Only the
    parameters the page reads: junk ones (?utm_x=…) must not mint new cache entries."""
    params = tuple(sorted((key, value[:100]) for key, value in request.GET.items() if value and key in known))
    return (params, translation.get_language(), zone)


SEARCH_PARAMETERS = (*SearchForm.base_fields, "page")


# Part of the search page's cache key: bump when what it caches changes shape (now: the HTML, the ids of
# the companions it shows, counted as impressions on every view, cached or not, and what was searched, for
# counting the search: city and activity ids, date and start time).
SEARCH_PAGE_FORMAT = 3


@require_GET
@reads_from_replica
def search(request: HttpRequest) -> HttpResponse:
    zone = viewer_time_zone(request)
    partial = bool(request.htmx and not request.htmx.boosted)
    context: dict = {}
    now = timezone.now()
    # The promoted set decides the order and the labels: a page cached with another set is another page,
    # so a promotion that ends (or starts) changes the key at that moment (promoted_facts).
    promoted = promoted_facts.promoted_ids(now)

    def render_content() -> tuple[str, tuple[int, ...], tuple]:
        context.update(_search_context(request, zone, now=now, promoted=promoted))
        template = "companions/_search_results.html" if partial else "companions/search.html#content"
        shown = tuple(card.pk for card in context["cards"])
        query = context["query"]
        # What was searched, as the form understood it, for counting the search (cached with the page).
        searched = (
            query.city.pk if query.city else None,
            query.activity.pk if query.activity else None,
            query.day,
            query.start_time,
        )
        return render_to_string(template, context, request), shown, searched

    parts = (
        partial,
        *_cache_parts(request, zone, known=SEARCH_PARAMETERS),
        _blocks_viewer(request),
        _sees_new(request),
        tuple(sorted(promoted)),
        SEARCH_PAGE_FORMAT,
    )
    content, shown, searched = page_cache.cached("search", parts, slug=None, render=render_content)
    view_counts.count_impressions(shown, now=now)  # one cache round trip; never raises, never writes to the database
    if _first_page(request):
        # One search counted per results shown for new criteria (the full page or the form's HTMX answer);
        # the pages after the first show more of the same search and are not counted again.
        city_id, activity_id, day, start_time = searched
        view_counts.count_search(
            city_id=city_id,
            activity_id=activity_id,
            day=day,
            start_time=start_time,
            viewer_time_zone=zone,
            empty=not shown,
            now=now,
        )
    if partial:
        return HttpResponse(content)
    page = {**context, "page_title": _("Find a companion"), "content_html": content}
    return render(request, "companions/cached_page.html", page)


def _first_page(request: HttpRequest) -> bool:
    """Whether the search asked for its first page of results (as Pager reads `page`: missing, junk or < 2)."""
    try:
        return int(request.GET.get("page") or 1) < 2
    except (TypeError, ValueError):
        return True


def _sees_new(request: HttpRequest) -> bool:
    """Early access (early_access.py): whether the viewer sees companions still in their first 48 hours. Part
    of the search page's cache key; asked once a request (one query for a signed-in customer)."""
    if not hasattr(request, "sees_new_companions"):
        request.sees_new_companions = early_access.sees_new(request.user, timezone.now())
    return request.sees_new_companions


def _listed_by(request: HttpRequest):
    """The search leaves out companions listed after this (None: the viewer sees them all)."""
    return None if _sees_new(request) else early_access.listed_by(timezone.now())


def _blocks_viewer(request: HttpRequest) -> int | None:
    """The signed-in viewer's id when a block involves them (their search leaves those companions out
    and is cached apart); None for everybody else, who share the cached pages."""
    user = request.user
    return user.pk if user.is_authenticated and user.has_blocks else None


def _search_context(request: HttpRequest, zone: str, *, now, promoted: frozenset[int]) -> dict:
    """One round trip to the cache: the form is validated against this process's copy of the reference
    lists (cities, activities, languages) as it stands, and the global version that copy was read at is
    checked with the cards' versions (page_cache.cached_many); a copy found stale then, or not checked
    (no results, the fragment cache off or down), means the page is made again from the lists as
    `reference_lists` reads them (asking the cache for the version first, as without the copy)."""
    copy = forms.reference_copy()
    if copy is not None:
        seen: dict = {}
        context = _search_context_with(request, zone, reference=copy[1], seen=seen, now=now, promoted=promoted)
        current = seen["global"] if "global" in seen else page_cache.reference_version()
        if current == copy[0]:
            return context
    return _search_context_with(request, zone, reference=None, seen=None, now=now, promoted=promoted)


def _search_context_with(
    request: HttpRequest, zone: str, *, reference: dict | None, seen: dict | None, now, promoted: frozenset[int]
) -> dict:
    form = SearchForm(request.GET, bound_field_class=SearchBoundField, reference=reference)
    query = replace(
        form.to_query(viewer_time_zone=zone), viewer_with_blocks=_blocks_viewer(request), listed_by=_listed_by(request)
    )
    page = Pager.of(
        lambda offset, limit: selectors.search_page(query, offset=offset, limit=limit, now=now, promoted=promoted),
        lambda limit: selectors.search_count(query, limit=limit, now=now),
        request.GET.get("page"),
    )
    today = timezone.localdate(now, timezone=ZoneInfo(zone))
    maker = search_render.CardMaker(today=today, language=translation.get_language() or "id")
    labelled = selectors.promoted_on_page(page.object_list, offset=(page.number - 1) * PAGE_SIZE, promoted=promoted)
    cards = maker.shown(page.object_list, load=selectors.card_profiles, seen=seen, promoted=labelled)
    # Links keep only what the form understood: a dropped parameter is not carried to the next page.
    kept = [
        (key, value)
        for key, value in request.GET.items()
        if key in SearchForm.base_fields and key not in form.errors and value
    ]
    chips = [
        (label, urlencode([(key, value) for key, value in kept if key != name]))
        for name, label in form.chips(viewer_time_zone=zone)
    ]
    active_count = sum(form.differs_from_default(name) for name in form.fields)
    return {
        "form": form,
        # The form's fields as components/field.html writes them, in Python (search_render.field_html).
        "fields": search_render.SearchFields(form, labels={"hours": _("How many hours")}),
        "page_obj": page,
        "cards": cards,
        # No COUNT query (it would evaluate the availability filter over every candidate): on a page
        # with a next one the total is only known to be more than the companions so far, so the
        # heading says "More than 24 companions"; on the last page it is exact.
        "result_count": page.last_index,
        "result_count_more": page.has_next,
        "viewer_zone": TIME_ZONE_ABBREVIATIONS.get(zone, "WIB"),
        "viewer_zone_name": zone,
        "page_query": urlencode(kept),
        "has_filters": bool(kept),
        "chips": chips,
        "dropped": form.dropped,
        "active_filter_count": active_count,
        "more_filters_open": form.more_filters_open(),
        "query": query,
    }


# Part of the profile page's cache key: bump when what it caches changes shape (now: the title, the HTML,
# and the profile's and its owner's ids, for counting views on every view, cached or not).
PROFILE_PAGE_FORMAT = 2


@require_GET
@reads_from_replica
def profile_page(request: HttpRequest, slug: str) -> HttpResponse:
    zone = viewer_time_zone(request)
    context: dict = {}

    def render_content() -> tuple[str, str, int, int] | None:
        profile = selectors.public_profile(slug, viewer=request.user)
        if profile is None:
            raise Http404
        context.update(_profile_context(request, profile, zone))
        context["about_html"], context["rules_html"] = _profile_parts(profile, context)
        content = render_to_string("companions/profile.html#content", context, request)
        rendered = (profile.display_name, content, profile.pk, profile.user_id)
        context["rendered"] = rendered
        # Only what everyone may see is cached; an owner's or staff preview of an unlisted profile is not, nor
        # a profile in its early window (members see it, others get a 404: early_access.py).
        return None if context["is_preview"] or early_access.is_new(profile, timezone.now()) else rendered

    cached = page_cache.cached(
        "profile",
        (slug, *_cache_parts(request, zone, known=("hours",)), PROFILE_PAGE_FORMAT),
        slug=slug,
        render=render_content,
    )
    title, content, profile_id, owner_id = cached or context["rendered"]
    if not context.get("is_preview") and request.user.pk != owner_id:
        # A visitor's view (not the owner's own look, nor a preview): one cache round trip, never raises.
        view_counts.count_profile_view(profile_id, now=timezone.now())
    response = render(request, "companions/cached_page.html", {**context, "page_title": title, "content_html": content})
    if context.get("is_preview"):
        response["Cache-Control"] = "private, no-store"
    return response


# Bump when the parts' templates change: parts rendered by the old ones would otherwise be served after a
# deploy until they expire (COMPANION_FRAGMENT_CACHE_SECONDS), as with the search cards.
PROFILE_PARTS_FORMAT = 7
# The newest published reviews on the profile page.
PROFILE_REVIEWS_SHOWN = 10


def _profile_parts(profile, context: dict) -> tuple[str, str]:
    """The profile page's parts that are the same for everyone until the companion changes (photos,
    header, about, activities, languages, the newest reviews; the meeting rules): from the fragment cache, keyed by the
    companion's version (page_cache.cached_fragment), the language and the age they show. The free
    times, which move with the clock, are rendered per request around them. A preview is never kept."""

    def render() -> tuple[str, str]:
        reviews = review_facts.public_reviews(profile.pk, limit=PROFILE_REVIEWS_SHOWN)
        return (
            render_to_string("companions/profile.html#about", {**context, "reviews": reviews}),
            render_to_string("companions/profile.html#rules", context),
        )

    if context["is_preview"]:
        return render()
    parts = (translation.get_language(), context["age"], PROFILE_PARTS_FORMAT)
    return page_cache.cached_fragment("profile-parts", parts, slug=profile.slug, render=render)


def _profile_context(request: HttpRequest, profile, zone: str) -> dict:
    hours_choices = list(range(profile.min_hours, profile.max_hours + 1))
    try:
        hours = int(request.GET.get("hours", profile.min_hours))
    except ValueError:
        hours = profile.min_hours
    if hours not in hours_choices:
        hours = profile.min_hours
    profile_zone = profile.time_zone
    return {
        "profile": profile,
        "photos": list(profile.photos.all()),
        "age": profile.user.age_on(timezone.localdate(timezone=ZoneInfo(profile_zone))),
        "activities": list(profile.activities.all()),
        "languages": list(profile.languages.all()),
        "days": selectors.free_slots_by_day(profile, days=14, hours=hours),
        "zone": profile_zone,
        "zone_abbr": TIME_ZONE_ABBREVIATIONS.get(profile_zone, ""),
        "viewer_zone_abbr": TIME_ZONE_ABBREVIATIONS.get(zone, "WIB"),
        "hours": hours,
        "hours_choices": hours_choices,
        # Cached and shown to everyone only when public_profile() would show it to anyone.
        "is_preview": not (profile.is_listed and profile.user.is_active),
        "book_url": reverse("bookings:new", args=[profile.slug]),
    }


# --- The companion's own pages ---------------------------------------------------------------------


STEP_URLS = {
    "details": "companions:profile_edit",
    "bio": "companions:profile_edit",
    "activities": "companions:profile_edit",
    "photos": "companions:photos",
    "hours": "companions:schedule",
    "verification": "companions:verification",
}


@companion_required
def dashboard(request: HttpRequest, profile) -> HttpResponse:
    steps = services.profile_steps(profile)
    context = {
        "profile": profile,
        "steps": steps,
        "done_count": sum(step.done for step in steps),
        "step_count": len(steps),
        "verification": profile.verifications.first(),
        "public_url": reverse("companions:profile", args=[profile.slug]),
        "step_urls": {key: reverse(name) for key, name in STEP_URLS.items()},
    }
    return render(request, "companions/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_block(request: HttpRequest, slug: str) -> HttpResponse:
    """Block a companion from their profile (asks first): they leave this person's search, and neither can
    message or send a request to the other. Undone from the account settings."""
    profile = get_object_or_404(CompanionProfile.objects.select_related("user"), slug=slug)
    if profile.user_id == request.user.pk:
        raise Http404
    if request.method == "POST":
        blocks.block(blocker=request.user, blocked=profile.user)
        messages.success(request, _("Blocked. You can undo it in your account settings."))
        return redirect("companions:search")
    return render(request, "companions/block.html", {"profile": profile})


@require_GET
@companion_required
def level(request: HttpRequest, profile) -> HttpResponse:
    """The companion's own level: each figure against the next level's threshold, what it is worth."""
    return render(request, "companions/level.html", {"profile": profile, "page": levels.level_page(profile)})


@require_POST
@companion_required
def listing(request: HttpRequest, profile) -> HttpResponse:
    paused = request.POST.get("paused") == "1"
    services.profile_set_paused(profile=profile, paused=paused)
    messages.success(request, _("Your listing is paused.") if paused else _("Your listing is active again."))
    return redirect("companions:dashboard")


@companion_required
def profile_edit(request: HttpRequest, profile) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.profile_update(
                profile=profile,
                display_name=data["display_name"],
                bio=data["bio"],
                city=data["city"],
                languages=data["languages"],
                activities=data["activities"],
                hourly_rate=data["hourly_rate"],
                min_hours=data["min_hours"],
                max_hours=data["max_hours"],
                gender=data["gender"],
            )
        except CompanionError as error:
            add_error_to_form(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("companions:dashboard")
    return render(request, "companions/profile_edit.html", {"form": form})


@companion_required
def photos(request: HttpRequest, profile) -> HttpResponse:
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.photo_add(profile=profile, upload=form.cleaned_data["photo"])
        except CompanionError as error:
            add_error_to_form(form, error)
        else:
            messages.success(request, _("Photo added."))
            return redirect("companions:photos")
    photo_list = list(profile.photos.order_by("position", "id"))
    context = {
        "photos": photo_list,
        "form": form,
        "max_photos": services.MAX_PHOTOS,
        "can_add": len(photo_list) < services.MAX_PHOTOS,
    }
    return render(request, "companions/photos.html", context, status=422 if form.errors else 200)


def _own_photo(profile, photo_id: int) -> CompanionPhoto:
    return get_object_or_404(CompanionPhoto, pk=photo_id, profile=profile)


@require_POST
@companion_required
def photo_delete(request: HttpRequest, profile, photo_id: int) -> HttpResponse:
    services.photo_delete(profile=profile, photo_id=_own_photo(profile, photo_id).pk)
    messages.success(request, _("Photo deleted."))
    return redirect("companions:photos")


@require_POST
@companion_required
def photo_cover(request: HttpRequest, profile, photo_id: int) -> HttpResponse:
    services.photo_set_cover(profile=profile, photo_id=_own_photo(profile, photo_id).pk)
    messages.success(request, _("Cover photo changed."))
    return redirect("companions:photos")


@require_POST
@companion_required
def photo_move(request: HttpRequest, profile, photo_id: int) -> HttpResponse:
    photo = _own_photo(profile, photo_id)
    services.photo_move(profile=profile, photo_id=photo.pk, up=request.POST.get("direction") == "up")
    return redirect("companions:photos")


@sensitive_post_parameters("nik")
@companion_required
def verification(request: HttpRequest, profile) -> HttpResponse:
    form = VerificationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.verification_submit(
                profile=profile,
                ktp_image=form.cleaned_data["ktp_image"],
                selfie_image=form.cleaned_data["selfie_image"],
                nik=form.cleaned_data["nik"],
            )
        except CompanionError as error:
            add_error_to_form(form, error)
        else:
            messages.success(request, _("Thank you! We'll review your ID, usually within 1 working day."))
            return redirect("companions:dashboard")
    latest = profile.verifications.first()
    context = {
        "form": form,
        "verification": latest,
        "can_submit": profile.verification_status not in ("pending", "approved"),
        "ktp_url": reverse("companions:identity_file", args=[latest.pk, "ktp"]) if latest else None,
        "selfie_url": reverse("companions:identity_file", args=[latest.pk, "selfie"]) if latest else None,
    }
    response = render(request, "companions/verification.html", context, status=422 if form.errors else 200)
    response["Cache-Control"] = "no-store, private"
    return response


def _schedule_context(profile, *, formset=None, rules_form=None, time_off_form=None) -> dict:
    if formset is None:
        initial = [
            {
                "weekday": hours.weekday,
                "start": hours.start_time.strftime("%H:%M"),
                "end": hours.end_time.strftime("%H:%M"),
                "overnight": hours.start_minute + hours.length_minutes > DAY_MINUTES
                or hours.length_minutes == DAY_MINUTES,
            }
            for hours in profile.weekly_hours.all()
        ]
        formset = WeeklyHoursFormSet(initial=initial or None)
        if not initial:
            formset = WeeklyHoursFormSet(
                initial=[{"weekday": day, "start": "10:00", "end": "18:00"} for day in range(5)]
            )
    return {
        "formset": formset,
        "add_rows_name": "add_rows",
        "copy_form": CopyDayForm(),
        "rules_form": rules_form or ScheduleRulesForm(instance=profile),
        "time_off_form": time_off_form or TimeOffForm(),
        "time_off": list(
            profile.time_off.filter(end_date__gte=timezone.localdate(timezone=ZoneInfo(profile.time_zone)))
        ),
        "zone_abbr": TIME_ZONE_ABBREVIATIONS.get(profile.time_zone, ""),
    }


@companion_required
def schedule(request: HttpRequest, profile) -> HttpResponse:
    if request.method != "POST":
        return render(request, "companions/schedule.html", _schedule_context(profile))
    formset = WeeklyHoursFormSet(request.POST)
    if "add_rows" in request.POST:
        # Re-show what was typed, plus three empty rows (works without JavaScript).
        prefix, rows = formset.prefix, []
        for index in range(min(formset.total_form_count(), 35)):
            row = {name: request.POST.get(f"{prefix}-{index}-{name}") for name in ("weekday", "start", "end")}
            if all(row.values()) and not request.POST.get(f"{prefix}-{index}-DELETE"):
                rows.append({**row, "overnight": bool(request.POST.get(f"{prefix}-{index}-overnight"))})
        more = weekly_hours_formset(extra=3)(initial=rows)
        return render(request, "companions/schedule.html", _schedule_context(profile, formset=more))
    if formset.is_valid():
        ranges = [form.as_range() for form in formset if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        try:
            services.weekly_hours_replace(profile=profile, ranges=ranges)
        except CompanionError as error:
            formset._non_form_errors = formset.error_class([error.message])
        else:
            messages.success(request, _("Your weekly hours are saved."))
            return redirect("companions:schedule")
    return render(request, "companions/schedule.html", _schedule_context(profile, formset=formset), status=422)


@require_POST
@companion_required
def schedule_copy(request: HttpRequest, profile) -> HttpResponse:
    form = CopyDayForm(request.POST)
    if form.is_valid():
        source = form.cleaned_data["weekday"]
        day_ranges = [
            (hours.start_minute, hours.length_minutes) for hours in profile.weekly_hours.filter(weekday=source)
        ]
        ranges = [(weekday, start, length) for weekday in range(7) for start, length in day_ranges]
        try:
            services.weekly_hours_replace(profile=profile, ranges=ranges)
        except CompanionError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Copied to every day."))
    return redirect("companions:schedule")


@require_POST
@companion_required
def schedule_rules(request: HttpRequest, profile) -> HttpResponse:
    form = ScheduleRulesForm(request.POST, instance=profile)
    if form.is_valid():
        try:
            services.profile_set_schedule_rules(profile=profile, **form.cleaned_data)
        except CompanionError as error:
            add_error_to_form(form, error)
        else:
            messages.success(request, _("Your booking rules are saved."))
            return redirect("companions:schedule")
    profile.refresh_from_db()
    return render(request, "companions/schedule.html", _schedule_context(profile, rules_form=form), status=422)


@require_POST
@companion_required
def time_off_add(request: HttpRequest, profile) -> HttpResponse:
    form = TimeOffForm(request.POST)
    if form.is_valid():
        try:
            services.time_off_add(profile=profile, **form.cleaned_data)
        except CompanionError as error:
            add_error_to_form(form, error)
        else:
            messages.success(request, _("Time off added."))
            return redirect("companions:schedule")
    return render(request, "companions/schedule.html", _schedule_context(profile, time_off_form=form), status=422)


@require_POST
@companion_required
def time_off_delete(request: HttpRequest, profile, time_off_id: int) -> HttpResponse:
    get_object_or_404(TimeOff, pk=time_off_id, profile=profile)
    services.time_off_delete(profile=profile, time_off_id=time_off_id)
    messages.success(request, _("Time off removed."))
    return redirect("companions:schedule")
