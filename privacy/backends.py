"""Logging in during the grace period cancels the account's deletion (issue 15).

A deleted account is inactive at once, which Django and allauth refuse at login. This backend (allauth's,
so email login and its timing mitigation stay as they are) lets the password of a person whose deletion
is scheduled through; privacy/adapters.py lets allauth's login go on (its stages, two-factor included,
still apply), and the `user_logged_in` receiver (privacy/signals.py) cancels the deletion. A suspended or
banned person (inactive with no scheduled deletion, or moderated since asking) is still refused.
An old session never revives: `get_user` keeps Django's rule (inactive: nobody)."""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend

from privacy.deletion import may_log_in_to_cancel


class DeletionGraceBackend(AuthenticationBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) or may_log_in_to_cancel(user)

    def get_user(self, user_id):
        user = ModelBackend.get_user(self, user_id)
        return user if user is not None and user.is_active else None
