import pytest
from django.template import Context, Template
from django.utils import translation

from core.formatting import format_rupiah


@pytest.mark.parametrize(
    ("amount", "language", "shown"),
    [
        (150000, "id", "Rp\u00a0150.000"),
        (0, "id", "Rp\u00a00"),
        (1234567890, "id", "Rp\u00a01.234.567.890"),
        (-45000, "id", "-Rp\u00a045.000"),
        (150000, "en", "Rp\u00a0150,000"),
    ],
)
def test_rupiah_is_whole_with_dots_and_a_no_break_space(amount, language, shown):
    assert format_rupiah(amount, language=language) == shown


def test_template_filters_follow_the_active_language():
    template = Template("{% load ui %}{{ amount|rupiah }} {{ phone|phone_display }}")
    context = Context({"amount": 495000, "phone": "+6281234567890"})
    with translation.override("id"):
        assert template.render(context) == "Rp\u00a0495.000 0812-3456-7890"
    with translation.override("en"):
        assert template.render(context) == "Rp\u00a0495,000 0812-3456-7890"


@pytest.mark.parametrize(
    ("minutes", "language", "shown"),
    [
        (312, "id", "5 jam 12 menit"),
        (90, "id", "1 jam 30 menit"),
        (120, "id", "2 jam"),
        (45, "id", "45 menit"),
        (0, "id", "0 menit"),
        (61, "en", "1 hour 1 minute"),
        (150, "en", "2 hours 30 minutes"),
    ],
)
def test_durations_read_like_ui_md(minutes, language, shown):
    from core.formatting import format_duration

    assert format_duration(minutes, language=language) == shown
