"""accounts' allauth adapter, with one change: a person whose deletion is scheduled gets past the "account
inactive" refusal, so their login (two-factor included) can go on and cancel the deletion."""

from accounts.adapters import AccountAdapter as BaseAccountAdapter
from privacy.deletion import may_log_in_to_cancel


class AccountAdapter(BaseAccountAdapter):
    def pre_login(self, request, user, **kwargs):
        if not user.is_active and may_log_in_to_cancel(user):
            return None
        return super().pre_login(request, user, **kwargs)
