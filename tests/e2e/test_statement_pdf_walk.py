"""A long statement PDF in a browser: its page follows the task with the static script (the CSP allows no
inline code) and offers the download once the PDF is ready; the page passes axe-core."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import StatementPdf
from portal.services.statements import build_statement_pdf
from tests.factories import PORTAL_PASSWORD, ContactPersonFactory, InvoiceFactory

from .conftest import log_in, watch_csp
from .test_accessibility import AXE, _blocking_violations


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_status_page_polls_until_the_pdf_is_ready_then_offers_the_download(browser, live_server):
    contact = ContactPersonFactory(email="pdf@customer.example", user__email="pdf@customer.example")
    for i in range(3):
        InvoiceFactory(customer=contact.customer, number=f"WALK-{i}", issued_on=dt.date(2026, 2, 1 + i),
                       total=Decimal("30.00"))
    # asked for, and no worker has picked it up yet
    statement_pdf = StatementPdf.objects.create(requested_by=contact.user, customer=contact.customer,
                                                start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), line_count=3,
                                                expires_at=timezone.now() + dt.timedelta(hours=1))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.add_init_script(path=str(AXE))
    csp_violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "pdf@customer.example", PORTAL_PASSWORD)

    page.goto(f"{live_server.url}/statement/pdf/{statement_pdf.pk}/")
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    findings = _blocking_violations(page)
    build_statement_pdf(statement_pdf_id=statement_pdf.pk)  # what the worker does

    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == "Statement-20260101-20261231.pdf"
    context.close()
    assert findings == [] and csp_violations == []
