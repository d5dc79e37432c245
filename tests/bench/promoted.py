"""Sorotan in search under load (issue 17): the search scenario's searches while PROMOTED companions among
the 20,000 are promoted, measured by run.py like every page scenario (scenario `promoted`, in each cache
mode, right after `search`, so both come from the same server and run and share the trivial page).

Before the scenario is measured, `promote` makes PROMOTED companions promoted the way a companion buys it:
products.services.purchase_open (eligibility checked) then purchase_paid, inside transaction.atomic(), on
a 7-day Sorotan package of the bench's own (PACKAGE_NAME). They are picked among the results of the
scenario's own searches (the same 40 searches as `search`, the same seed), PER_SEARCH from each (after
its first PROMOTED_PER_PAGE results, so that the lift moves someone), so promoted companions match and are
free at the searched times: every measured first page should lead with 2 labelled "Promoted". Right
after the scenario (and before any page is measured, in case an earlier run was killed) `remove` deletes
those purchases, so the plain `search` of the next mode or run measures search with nobody promoted.
Both write through purchase_paid / promoted_facts.schedule_changed(), which drops the cached promotion
periods after commit: the server sees the change on its next search.

Every measured page is checked (run.check_content): at most PROMOTED_PER_PAGE "Promoted" labels
(data-testid="promoted"), and at least one page shows some (else nothing promoted was measured).
`print_comparison` prints, per run and mode, promoted against plain search as ratios to the trivial page
and their queries per request: the same, or one more (the promoted among the results, one query), when
someone is promoted.
"""

from __future__ import annotations

import re

PROMOTED = 200  # companions promoted among the 20,000
PER_SEARCH = 5  # picked among each search's results
PACKAGE_NAME = "Bench Sorotan 7 days (tests/bench/promoted.py)"
PACKAGE_DAYS = 7
PACKAGE_PRICE = 50_000
PROMOTED_LABEL = re.compile(rb'data-testid="promoted"')
PROFILE_LINK = re.compile(rb'href="/c/([\w-]+)/"')


def inspect(body: bytes) -> dict[str, int]:
    """A search page: its results and how many carry the "Promoted" label."""
    return {"results": len(set(PROFILE_LINK.findall(body))), "promoted": len(PROMOTED_LABEL.findall(body))}


def promoted_per_page() -> int:
    from companions.selectors import PROMOTED_PER_PAGE

    return PROMOTED_PER_PAGE


def _matching(path: str, now, limit: int) -> list[int]:
    """Profile ids of the first `limit` results of the search `path` (as an anonymous visitor sees it, with
    nobody promoted: without early access, where the search has it, so companions in their first 48 hours
    are left out)."""
    from dataclasses import fields, replace

    from django.contrib.auth.models import AnonymousUser
    from django.http import QueryDict

    from companions import early_access, selectors
    from companions.forms import SearchForm
    from core.i18n import IndonesianTimeZone

    form = SearchForm(QueryDict(path.split("?", 1)[1]))
    query = form.to_query(viewer_time_zone=IndonesianTimeZone.WIB)
    if "listed_by" in {field.name for field in fields(query)} and not early_access.sees_new(AnonymousUser(), now):
        query = replace(query, listed_by=early_access.listed_by(now))
    return [pk for pk, _slug in selectors.search_page(query, offset=0, limit=limit, now=now)]


def _buy(profile, package, now) -> bool:
    """One Sorotan bought and paid as the companion would; False when the companion may not buy it."""
    from django.db import transaction

    from products import services
    from products.errors import ProductError
    from products.models import Purchase

    try:
        with transaction.atomic():
            purchase = services.purchase_open(
                buyer=profile.user, package=package, method=Purchase.Method.GATEWAY, now=now
            )
            return services.purchase_paid(purchase_id=purchase.pk, now=now)
    except ProductError:
        return False


def promote(search_paths: list[str], *, total: int = PROMOTED, per_search: int = PER_SEARCH) -> int:
    """Makes `total` companions promoted, picked among the results of `search_paths` (round robin over
    the searches, `per_search` each a round). Returns how many were promoted (fewer only when the searches
    do not find enough eligible companions)."""
    from django.utils import timezone

    from companions.models import CompanionProfile
    from products.models import Package, Product

    remove()
    now = timezone.now()
    package, _made = Package.objects.get_or_create(
        name=PACKAGE_NAME,
        product=Product.SOROTAN,
        defaults={"days": PACKAGE_DAYS, "price": PACKAGE_PRICE, "active": True},
    )
    if not package.active:
        package.active = True
        package.save(update_fields=["active"])
    searches = list(dict.fromkeys(search_paths))
    skip = promoted_per_page()  # the first results lead the page anyway: pick the ones the lift moves
    limit = skip + 4 * max(per_search, -(-total // max(1, len(searches))))
    candidates = {path: _matching(path, now, limit)[skip:] for path in searches}
    chosen: set[int] = set()
    refused = 0
    while len(chosen) < total and any(candidates.values()):
        for path in searches:
            picked = 0
            while candidates[path] and picked < per_search and len(chosen) < total:
                pk = candidates[path].pop(0)
                if pk in chosen:
                    continue
                profile = CompanionProfile.objects.select_related("user").get(pk=pk)
                if _buy(profile, package, now):
                    chosen.add(pk)
                    picked += 1
                else:
                    refused += 1
    print(
        f"bench: promoted: {len(chosen)} companions promoted (Sorotan, {PACKAGE_DAYS} days, bought and paid through "
        f"products.services) among the results of {len(searches)} searches"
        + (f"; {refused} not eligible, skipped" if refused else "")
    )
    return len(chosen)


def remove() -> int:
    """Deletes the bench's promotions (the purchases of PACKAGE_NAME); search stops showing them at once."""
    from django.db import transaction

    from companions import promoted_facts
    from products.models import Product, Purchase

    with transaction.atomic():
        deleted, _by_model = Purchase.objects.filter(product=Product.SOROTAN, package__name=PACKAGE_NAME).delete()
        if deleted:
            promoted_facts.schedule_changed()
    return deleted


def _queries(row: dict) -> str:
    if row["queries_min"] is None:
        return "-"
    if row["queries_min"] == row["queries_max"]:
        return str(row["queries_min"])
    return f"{row['queries_min']}–{row['queries_max']}"


def print_comparison(rows: list[dict]) -> None:
    """Promoted against plain search of the same run and mode: ratios to the trivial page, queries."""
    by_name = {row["scenario"]: row for row in rows}
    trivial, plain, promoted = by_name.get("trivial"), by_name.get("search"), by_name.get("promoted")
    if not (trivial and promoted):
        return

    def ratio(row: dict, figure: str) -> float:
        return row[figure] / trivial[figure] if trivial[figure] else float("nan")

    def line(name: str, row: dict) -> str:
        return (
            f"{name:<8} rps {ratio(row, 'rps'):.3f}x, server p50 {ratio(row, 'server_p50'):.2f}x, "
            f"p95 {ratio(row, 'server_p95'):.2f}x of the trivial page; {_queries(row)} queries per request"
        )

    print()
    print(f"promoted ({PROMOTED} of the companions promoted) against plain search, same server and run:")
    if plain:
        print("  " + line("search", plain))
    print("  " + line("promoted", promoted))
    labels = promoted["content"].get("promoted")
    if labels:
        print(f"  'Promoted' labels per page: {labels[0]:g}–{labels[2]:g} (median {labels[1]:g})")
    if plain and plain["requests"] and promoted["requests"]:
        # The same searches in both: per search, promoted's usual query count (its fewest) minus plain
        # search's; a request above it (e.g. a card's fragment made again) shows in the ranges.
        shared = set(plain["queries_by_path"]) & set(promoted["queries_by_path"])
        extra = {min(promoted["queries_by_path"][path]) - min(plain["queries_by_path"][path]) for path in shared}
        verdict = "as expected" if extra and extra <= {0, 1} else "UNEXPECTED (expected the same or one more)"
        speed = f"; promoted/search rps {promoted['rps'] / plain['rps']:.3f}x" if plain["rps"] else ""
        print(
            f"  queries per request: promoted {_queries(promoted)} against search {_queries(plain)}; on the same "
            f"search ({len(shared)} searches), promoted usually makes "
            f"{'/'.join(f'{value:+d}' for value in sorted(extra))}: {verdict}{speed}"
        )
