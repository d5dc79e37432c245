from celery import shared_task

from promotions import referrals


@shared_task
def referral_rewards_task() -> int:
    """Hourly: referrals whose friend's first booking completed but whose reward is not decided yet (the
    friend verified their phone later, or the reward right after the completion did not run)."""
    return referrals.referral_rewards_sweep()
