import os

import pytest

CHROMIUM = "/usr/bin/chromium"
# As root, without a GPU, on a machine whose network is closed: without the background-networking
# flags Chromium keeps opening connections that the machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (locks, throttles)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one per test process.

    One fixture for every browser test: Playwright's sync API refuses a second instance while
    one is running in the same process, and pytest-xdist mixes test folders in one worker.
    `playwright install` cannot work on these machines, so the system browser is used.
    """
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    # Playwright's sync API runs an event loop in this thread; the ORM only needs to know that
    # is safe here (the loop only drives the browser).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def staff(client):
    """The test client logged in to the back office as a staff user (tests.factories.StaffUserFactory)."""
    from tests.factories import StaffUserFactory

    client.force_login(StaffUserFactory())
    return client
