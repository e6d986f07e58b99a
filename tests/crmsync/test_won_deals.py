"""Won deal → draft invoice: once per deal, its products or amount as lines, staff notified."""

from decimal import Decimal

from django.urls import reverse

from billing.models import Invoice
from crmsync.models import CrmConnection, CrmLink, SyncRun, WonDealInvoice
from crmsync.services import sync_crm
from portal.models import StaffNotification
from tests.factories import StaffUserFactory, linked_customer


def _connected(fake, make_connection, **settings):
    account = fake.add_account("Acme")
    make_connection(**settings)
    first = sync_crm(trigger=SyncRun.Trigger.INITIAL)
    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    return account, linked_customer(account["id"])


def _invoices_of_deal(deal_id: str):
    return Invoice.objects.filter(pk__in=CrmLink.objects.filter(module="Deals", crm_id=deal_id).values("invoice_id"))


def _deal_names():
    return list(CrmLink.objects.filter(module="Deals", invoice__isnull=False).values_list("crm_name", flat=True))


def test_a_deal_moved_to_closed_won_becomes_one_draft_invoice_of_its_amount(fake, make_connection):
    account, acme = _connected(fake, make_connection)
    deal = fake.add_deal(account, "Acme renewal", Stage="Negotiation", Amount=1250.5)
    fake.move_deal(deal["id"], "Closed Won")

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.invoices_from_deals == 1
    invoice = _invoices_of_deal(deal["id"]).get()
    assert (invoice.customer, invoice.status, invoice.total) == (acme, Invoice.Status.DRAFT, Decimal("1250.50"))
    assert CrmLink.objects.get(invoice=invoice).crm_name == "Acme renewal"
    [line] = invoice.lines.all()
    assert (line.description, line.quantity, line.rate) == ("Acme renewal", Decimal("1"), Decimal("1250.50"))
    notice = StaffNotification.objects.get(kind=StaffNotification.Kind.WON_DEAL)
    assert notice.invoice == invoice and invoice.number in notice.message


def test_a_deal_seen_again_is_never_invoiced_twice(fake, make_connection):
    account, _acme = _connected(fake, make_connection)
    deal = fake.add_deal(account, "Big deal", Stage="Closed Won", Amount=100)
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    fake.move_deal(deal["id"], "Negotiation")
    fake.move_deal(deal["id"], "Closed Won")
    # Staff deleted the draft meanwhile: still not made again.
    _invoices_of_deal(deal["id"]).delete()

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.invoices_from_deals == 0
    assert not _invoices_of_deal(deal["id"]).exists()
    assert WonDealInvoice.objects.filter(crm_deal_id=deal["id"]).count() == 1


def test_the_deal_products_become_the_lines(fake, make_connection):
    account, _acme = _connected(fake, make_connection)
    deal = fake.add_deal(account, "Hardware", Stage="Negotiation", Amount=999)
    fake.add_deal_product(deal["id"], "Router", 150.25)
    fake.add_deal_product(deal["id"], "Support", 99.5)
    fake.move_deal(deal["id"], "Closed Won")

    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    invoice = Invoice.objects.get(pk=CrmLink.objects.get(crm_name="Hardware").invoice_id)
    lines = [(line.description, line.quantity, line.rate) for line in invoice.lines.order_by("pk")]
    assert lines == [("Router", Decimal("1"), Decimal("150.25")), ("Support", Decimal("1"), Decimal("99.50"))]
    assert invoice.total == Decimal("249.75")


def test_a_deal_whose_products_cannot_be_read_is_in_the_history_not_invoiced_from_its_amount(fake, make_connection):
    account, _acme = _connected(fake, make_connection)
    deal = fake.add_deal(account, "Hardware", Stage="Closed Won", Amount=999)
    fake.fail_next(1, status=400, path_contains="/Products")

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.failures.get().crm_id == deal["id"]
    assert not Invoice.objects.exists() and not WonDealInvoice.objects.filter(crm_deal_id=deal["id"]).exists()


def test_won_stage_names_are_configurable(fake, make_connection):
    account, _acme = _connected(fake, make_connection, won_deal_stages="Signed, Paid up front")
    fake.add_deal(account, "Default name", Stage="Closed Won", Amount=10)
    fake.add_deal(account, "Our name", Stage="signed", Amount=20)

    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert _deal_names() == ["Our name"]


def test_staff_can_switch_it_off(fake, make_connection):
    account, _acme = _connected(fake, make_connection, invoice_won_deals=False)
    fake.add_deal(account, "Won", Stage="Closed Won", Amount=10)

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert not Invoice.objects.exists()


def test_deals_won_before_the_first_sync_and_deals_of_unlinked_accounts_are_not_invoiced(fake, make_connection):
    account = fake.add_account("Acme")
    fake.add_deal(account, "Old win", Stage="Closed Won", Amount=10)
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    stranger = {"Account_Name": "Not synced", "id": "999"}
    fake.add_deal(stranger, "Elsewhere", Stage="Closed Won", Amount=10)

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.invoices_from_deals == 0
    assert not Invoice.objects.exists()


def test_a_won_deal_without_amount_is_in_the_history_and_nothing_is_written(fake, make_connection):
    account, _acme = _connected(fake, make_connection)
    fake.add_deal(account, "No money", Stage="Closed Won")

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    failure = run.failures.get()
    assert failure.module == "Deals" and "neither products nor an amount" in failure.reason
    assert not Invoice.objects.exists() and not WonDealInvoice.objects.exists()
    assert not StaffNotification.objects.exists()


def test_deals_are_read_only_when_accounts_are_synced(fake, make_connection):
    make_connection(module=CrmConnection.Module.CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert not [p for _m, p, _q in fake.requests if p == "/crm/v8/Deals"]


def test_staff_switch_it_off_and_rename_the_stages_in_the_admin(client, fake, make_connection):
    make_connection()
    client.force_login(StaffUserFactory())
    url = reverse("admin:crmsync_wondealinvoice_settings")
    assert client.get(url).status_code == 200

    response = client.post(url, {"won_deal_stages": "Signed ,  Won"})

    assert response.status_code == 302
    connection = CrmConnection.current()
    assert (connection.invoice_won_deals, connection.won_deal_stages) == (False, "Signed, Won")
    assert connection.has_credentials  # the rest of the connection untouched


def test_switching_it_on_without_a_stage_is_refused_on_the_form(client, fake, make_connection):
    make_connection(invoice_won_deals=False)
    client.force_login(StaffUserFactory())

    response = client.post(reverse("admin:crmsync_wondealinvoice_settings"), {"invoice_won_deals": "on"})

    assert response.status_code == 200
    assert "Name at least one deal stage" in response.content.decode()
    assert CrmConnection.current().invoice_won_deals is False


def test_the_invoices_from_won_deals_are_listed_for_staff(client, fake, make_connection):
    account, _acme = _connected(fake, make_connection)
    fake.add_deal(account, "Listed deal", Stage="Closed Won", Amount=10)
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    client.force_login(StaffUserFactory())

    response = client.get(reverse("admin:crmsync_wondealinvoice_changelist"))

    assert response.status_code == 200
    assert "Listed deal" in response.content.decode()
