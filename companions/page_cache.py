"""Rendered search results and profile pages, cached until something they show changes.

What a visitor sees on these pages depends only on public data, the language, the viewer's zone and
the half hour (free times move on a half-hour grid, and "today" changes on a whole hour in every
Indonesian zone). Every write to that data goes through companions.services, which calls
`profile_changed()`: after commit it bumps a version that is part of every key, so a cached page is
never served after the data it shows has changed. The page frame (base.html: CSRF token, the user's
menu) is rendered per request; only the main content is cached.

The cache is an optimisation: while it is down, pages are rendered from the database, and a bump that
cannot reach it is recorded in PostgreSQL (core.cache.delete_later: the version key is deleted once the
cache is back, by the beat task or by this process's next read that works), so no page cached before
the outage is served after it.
"""

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import cache as core_cache
from core import replica

SEARCH_VERSION_KEY = "companions:pages:search-version"
# Bumped by edits that can show on any page (a city or activity renamed, a slug changed in the admin).
GLOBAL_VERSION_KEY = "companions:pages:global-version"
PROFILE_VERSION_KEY = "companions:pages:profile-version:{slug}"
SLOT_SECONDS = 30 * 60


def enabled() -> bool:
    """The rendered-page cache (whole search results and profile pages)."""
    return settings.COMPANION_PAGE_CACHE_SECONDS > 0


def fragments_enabled() -> bool:
    """The per-companion fragment cache (search cards and the like), switched on its own."""
    return settings.COMPANION_FRAGMENT_CACHE_SECONDS > 0


def versions_tracked() -> bool:
    """Data versions are bumped on writes whenever anything keyed by them may be cached."""
    return enabled() or fragments_enabled()


def slot_bucket() -> int:
    return int(timezone.now().timestamp() // SLOT_SECONDS)


def _fresh_version() -> int:
    # Never reuse a number after the cache was flushed: start from the clock.
    return time.time_ns() // 1000


def _bump(key: str) -> None:
    """Never raises for a cache outage: the key is then deleted later (a missing version is a new one).
    The new version is the time of the change (microseconds): `_storable` asks how recent it is."""
    try:
        with core_cache.unguarded():
            cache.set(key, _fresh_version(), timeout=None)
    except core_cache.CacheUnavailable:
        core_cache.delete_later([key])


def profile_changed(slug: str) -> None:
    """Call inside the writing transaction; the bump happens after commit (not before readers can
    see the new data, and not at all on rollback)."""
    if not versions_tracked():
        return

    def bump_profile_pages() -> None:
        _bump(SEARCH_VERSION_KEY)
        _bump(PROFILE_VERSION_KEY.format(slug=slug))

    # robust: whatever else goes wrong is logged; it never turns the committed write into an error.
    transaction.on_commit(bump_profile_pages, robust=True)


def profiles_changed(slugs: list[str]) -> None:
    """profile_changed for many companions at once (a daily job): search's version is bumped once."""
    if not versions_tracked() or not slugs:
        return

    def bump_profiles_pages() -> None:
        _bump(SEARCH_VERSION_KEY)
        for slug in slugs:
            _bump(PROFILE_VERSION_KEY.format(slug=slug))

    transaction.on_commit(bump_profiles_pages, robust=True)


def everything_changed() -> None:
    """Reference data or a profile edited in the admin: every cached page is stale (after commit)."""
    if versions_tracked():

        def bump_all_pages() -> None:
            _bump(GLOBAL_VERSION_KEY)

        transaction.on_commit(bump_all_pages, robust=True)


def _key(kind: str, parts: tuple) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"companions:pages:{kind}:{digest}"


def cached(kind: str, parts: tuple, *, slug: str | None, render: Callable[[], object | None]):
    """The cached value for `parts`, else `render()` (stored unless it returns None).

    One round trip to the cache on a hit: the entry carries the data versions it was rendered at (the
    global one and the page's) and is fetched together with the current ones; a mismatch is a miss."""
    if not enabled():
        return render()
    version_key = SEARCH_VERSION_KEY if slug is None else PROFILE_VERSION_KEY.format(slug=slug)
    key = _key(kind, (*parts, slot_bucket()))
    return _versioned(key, version_key, settings.COMPANION_PAGE_CACHE_SECONDS, render)


def cached_many(
    kind: str,
    entries: list[tuple[str, tuple]],
    *,
    render: Callable[[list[int]], list[str]],
    seen: dict | None = None,
) -> list[str]:
    """Per-companion fragments (search cards): entries are (slug, parts); returns one value per entry.

    Each entry is keyed by its parts and stored with the versions it was rendered at: the global one
    and its own companion's (bumped by `profile_changed`), so one booking or edit re-renders that
    companion's card only. One round trip on a hit; `render(indexes)` renders the entries missed (in
    that order), all of them while the cache is down, nothing stored then; a None it returns is not stored.
    `seen`, when given, gets the current global version under "global" when it was read (in the same
    round trip), for a caller checking what it kept at an older one (forms.reference_copy); nothing
    is put there when nothing was asked of the cache (no entries, the fragment cache off or down)."""
    everything = list(range(len(entries)))
    if not fragments_enabled() or not entries:
        return render(everything)
    version_keys = [PROFILE_VERSION_KEY.format(slug=slug) for slug, _parts in entries]
    keys = [_key(kind, parts) for _slug, parts in entries]
    try:
        with core_cache.unguarded():
            if core_cache.deferred_deletes_recorded():
                core_cache.apply_deferred_deletes()
            found = cache.get_many([GLOBAL_VERSION_KEY, *dict.fromkeys(version_keys), *keys])
            for name in dict.fromkeys([GLOBAL_VERSION_KEY, *version_keys]):
                if found.get(name) is None:
                    cache.add(name, _fresh_version(), timeout=None)
                    found[name] = cache.get(name)
    except core_cache.CacheUnavailable:
        return render(everything)
    if seen is not None:
        seen["global"] = found[GLOBAL_VERSION_KEY]
    versions = [(found[GLOBAL_VERSION_KEY], found[name]) for name in version_keys]
    values: list[str | None] = [None] * len(entries)
    missing = []
    for index, key in enumerate(keys):
        entry = found.get(key)
        if entry is not None and entry[0] == versions[index]:
            values[index] = entry[1]
        else:
            missing.append(index)
    if missing:
        rendered = render(missing)
        for index, value in zip(missing, rendered, strict=True):
            values[index] = value
        # A value of None (nothing to show for that entry any more) is returned, not stored.
        stored = {
            keys[index]: (versions[index], values[index])
            for index in missing
            if values[index] is not None and _storable(*versions[index])
        }
        cache.set_many(stored, timeout=settings.COMPANION_FRAGMENT_CACHE_SECONDS)  # never raises
    return values


def cached_fragment(kind: str, parts: tuple, *, slug: str, render: Callable[[], object | None]):
    """One companion's fragment (a profile's data, a rendered part of its page): the cached value for
    `parts`, else `render()` (stored unless it returns None).

    Keyed like `cached_many`'s entries: stored with the global version and the companion's own (bumped by
    `profile_changed` on every write to the profile or its bookings), so a write renders it again at once;
    no half-hour bucket (what depends on the clock is computed per request). One round trip on a hit;
    rendered, nothing stored, while the fragment cache is off or down."""
    if not fragments_enabled():
        return render()
    key = _key(kind, (slug, *parts))
    return _versioned(key, PROFILE_VERSION_KEY.format(slug=slug), settings.COMPANION_FRAGMENT_CACHE_SECONDS, render)


def _storable(*versions: int) -> bool:
    """Whether a value just rendered may be stored under these versions. Not when it was read from the
    replica within REPLICA_MAX_LAG_SECONDS of the newest change: the replica may not have replayed that
    change yet, and a stale page stored under the new version would be served until it expires. It is
    rendered again on the next request instead (the replica catches up; after the window, it is stored)."""
    scope = replica.current_scope()
    if scope is None or not scope.used_replica:
        return True
    newest = max((version for version in versions if isinstance(version, int)), default=0)
    return time.time() - newest / 1_000_000 > settings.REPLICA_MAX_LAG_SECONDS


def _versioned(key: str, version_key: str, timeout: int, render: Callable[[], object | None]):
    """`key`'s value if it was stored at the current global and `version_key` versions, else `render()`
    stored with them (unless None). One round trip on a hit; rendered, nothing stored, while the cache is
    down (a bump this process missed during an outage is applied first)."""
    try:
        with core_cache.unguarded():
            if core_cache.deferred_deletes_recorded():
                core_cache.apply_deferred_deletes()
            found = cache.get_many([GLOBAL_VERSION_KEY, version_key, key])
            for name in (GLOBAL_VERSION_KEY, version_key):
                if found.get(name) is None:
                    cache.add(name, _fresh_version(), timeout=None)
                    found[name] = cache.get(name)
    except core_cache.CacheUnavailable:
        return render()  # the database answers; nothing is stored
    version = (found[GLOBAL_VERSION_KEY], found[version_key])
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    value = render()
    if value is not None and _storable(*version):
        cache.set(key, (version, value), timeout=timeout)  # never raises
    return value


def reference_version() -> int | None:
    """The global version, for what a process keeps of reference data (cities, activities, languages:
    changed in the admin, which calls `everything_changed`): a copy is good while this number is the
    one it was read at. None when versions are not tracked or the cache is down: read the database."""
    if not versions_tracked():
        return None
    try:
        with core_cache.unguarded():
            if core_cache.deferred_deletes_recorded():
                core_cache.apply_deferred_deletes()
            current = cache.get(GLOBAL_VERSION_KEY)
            if current is None:
                cache.add(GLOBAL_VERSION_KEY, _fresh_version(), timeout=None)
                current = cache.get(GLOBAL_VERSION_KEY)
    except core_cache.CacheUnavailable:
        return None
    return current
