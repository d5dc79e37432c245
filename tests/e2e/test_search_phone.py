"""Search on a phone (360 px): the results come first, the filters are one folded panel, and "More
filters" opens only for a filter that is not at its default (issue 10, defect 7). On a wide screen the
filters are a sidebar, open."""

import pytest
from playwright.sync_api import Page, expect

from tests.companions.helpers import listed_companion
from tests.e2e.helpers import PHONE, save_screenshot, seed_reference_data


@pytest.fixture
def people(transactional_db):
    seed_reference_data()
    return [listed_companion(name=f"Ayu{index}", city="bandung") for index in range(3)]


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-360x800"])
def test_on_a_phone_the_first_result_is_on_the_first_screen(page: Page, people, viewport, artifacts_dir):
    page.goto("/companions/?city=bandung&hours=2")
    first_card = page.locator("#results article.companion-card").first
    expect(first_card).to_be_visible()
    box = first_card.bounding_box()
    assert box is not None and box["y"] < viewport["height"] * 0.75, box
    filters = page.locator("details[data-search-filters]")
    expect(filters).not_to_have_attribute("open", "")
    save_screenshot(page, artifacts_dir / "search-phone-360x800.png")
    # Opening the panel shows the filters; "More filters" stays closed (hours=2 is the default).
    filters.locator("summary").first.click()
    expect(page.locator("select[name=city]")).to_be_visible()
    expect(page.locator("details[data-more-filters]")).not_to_have_attribute("open", "")
    page.goto("/companions/?city=bandung&hours=3")
    expect(page.locator("details[data-more-filters]")).to_have_attribute("open", "")


def test_on_a_wide_screen_the_filters_are_an_open_sidebar(page: Page, people):
    page.goto("/companions/?city=bandung")
    expect(page.locator("details[data-search-filters]")).to_have_attribute("open", "")
    expect(page.locator("select[name=city]")).to_be_visible()
    expect(page.locator("#results article.companion-card").first).to_be_visible()
