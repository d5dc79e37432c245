"""The request page's discount preview (issue 16), registered as bookings/hooks.py `discount_quote`:
promotions.services.quote behind the code-check rate limit. Writes nothing.

A code check over the limit answers the quote without the code (the welcome discount if the customer
still has it) with RATE_LIMITED_MESSAGE as the reason, so the page shows a friendly message, never an
error page; a request sent with a code counts as a check too, and past the limit the booking page refuses
it (429, the same message on the code field) until the minute is over; without a code it goes through."""

import dataclasses

from core.forms import clean_text
from promotions import services


def page_quote(
    *, customer, profile, activity, start, hours: int, code: str, now, member_discount: int = 0
) -> services.Quote:
    # Typed text as it came (the refresh path has no bound form): control and format characters out (a NUL
    # would make PostgreSQL refuse the query), bounded like the form's field, then trimmed.
    code = services.normalize_code(clean_text(str(code or ""))[:64])
    if activity is None:
        # No activity chosen yet (the page's first view): the profile's first, as the form preselects it.
        activities = list(profile.activities.all())
        activity = activities[0] if activities else None
    request = {
        "customer": customer,
        "profile": profile,
        "activity": activity,
        "start": start,
        "hours": hours,
        "now": now,
        "member_discount": member_discount,
    }
    if code and activity is not None and services.code_check_allowed(customer):
        return services.quote(**request, code=code)
    plain = services.quote(**request)
    if not code:
        return plain
    if activity is None:
        return dataclasses.replace(plain, code=code)
    return LimitedQuote(**{**dataclasses.asdict(plain), "reason": str(services.RATE_LIMITED_MESSAGE), "code": code})


@dataclasses.dataclass(frozen=True)
class LimitedQuote(services.Quote):
    """The quote without the code because the code-check limit was reached: the booking page refuses a
    request sent with a code meanwhile (429), so codes cannot be tried by sending requests either."""

    limited: bool = True
