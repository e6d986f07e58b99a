"""Upgrading a database whose links still live in billing's crm_* columns: crmsync 0008 moves every
one into CrmLink before billing 0016 drops the columns, and migrating back puts them back."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from billing.models import ContactPerson, Customer, Invoice, SalesOrder
from crmsync.models import CrmLink

BEFORE = [("billing", "0015_disputes_refund_status"), ("crmsync", "0007_receivable_field_mapping")]
SYNCED = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _old_links(old):
    """Rows as the sync and staff left them before the link table: one of each kind of link."""
    Customer_ = old.get_model("billing", "Customer")
    ids = {}
    ids["account"] = Customer_.objects.create(
        display_name="Acme", crm_account_id="4150001", crm_synced_at=SYNCED, origin="crm"
    ).pk
    ids["contact"] = Customer_.objects.create(
        display_name="Ada Lovelace", customer_type="individual", crm_contact_id="4150002", crm_synced_at=SYNCED
    ).pk
    ids["unlinked"] = Customer_.objects.create(
        display_name="Gone Co", crm_unlinked_reason="Deleted in Zoho CRM on 2026-11-21; kept in billing because "
        "it has transactions."
    ).pk
    ids["plain"] = Customer_.objects.create(display_name="Local Co").pk
    ids["person"] = old.get_model("billing", "ContactPerson").objects.create(
        customer_id=ids["account"], first_name="Wile", crm_contact_id="4150003"
    ).pk
    ids["unlinked_person"] = old.get_model("billing", "ContactPerson").objects.create(
        customer_id=ids["account"], first_name="Road"
    ).pk
    document = dict(customer_id=ids["account"], currency="USD", total=Decimal("0.00"))
    ids["invoice"] = old.get_model("billing", "Invoice").objects.create(
        number="INV-00001", issued_on="2026-11-01", due_on="2026-12-01", crm_deal_id="4150004",
        crm_deal_name="Acme renewal", **document,
    ).pk  # fmt: skip
    ids["order"] = old.get_model("billing", "SalesOrder").objects.create(
        number="SO-00001", ordered_on="2026-11-01", crm_deal_id="4150005", crm_deal_name="Rollout", **document
    ).pk
    return ids


@pytest.mark.django_db(transaction=True)
def test_every_link_moves_into_the_link_table_and_back():
    latest = _latest()
    ids = _old_links(_migrate(BEFORE))
    try:
        _migrate(latest)

        links = {(link.module, link.crm_id): link for link in CrmLink.objects.all()}
        assert set(links) == {
            ("Accounts", "4150001"),
            ("Contacts", "4150002"),
            ("Accounts", ""),
            ("Contacts", "4150003"),
            ("Deals", "4150004"),
            ("Deals", "4150005"),
        }
        assert (links["Accounts", "4150001"].customer_id, links["Accounts", "4150001"].synced_at) == (
            ids["account"],
            SYNCED,
        )
        assert links["Contacts", "4150002"].customer_id == ids["contact"]
        unlinked = links["Accounts", ""]
        assert (unlinked.customer_id, unlinked.unlinked_at is not None) == (ids["unlinked"], True)
        assert unlinked.unlinked_reason.startswith("Deleted in Zoho CRM on 2026-11-21")
        assert links["Contacts", "4150003"].contact_person_id == ids["person"]
        assert (links["Deals", "4150004"].invoice_id, links["Deals", "4150004"].crm_name) == (
            ids["invoice"],
            "Acme renewal",
        )
        assert (links["Deals", "4150005"].sales_order_id, links["Deals", "4150005"].crm_name) == (
            ids["order"],
            "Rollout",
        )
        assert Customer.objects.count() == 4 and ContactPerson.objects.count() == 2
        assert Invoice.objects.count() == SalesOrder.objects.count() == 1

        old = _migrate(BEFORE)

        Customer_ = old.get_model("billing", "Customer")
        assert Customer_.objects.get(pk=ids["account"]).crm_account_id == "4150001"
        assert Customer_.objects.get(pk=ids["account"]).crm_synced_at == SYNCED
        assert Customer_.objects.get(pk=ids["contact"]).crm_contact_id == "4150002"
        assert Customer_.objects.get(pk=ids["unlinked"]).crm_unlinked_reason.startswith("Deleted in Zoho CRM")
        assert Customer_.objects.get(pk=ids["plain"]).crm_account_id is None
        People = old.get_model("billing", "ContactPerson")
        assert People.objects.get(pk=ids["person"]).crm_contact_id == "4150003"
        assert People.objects.get(pk=ids["unlinked_person"]).crm_contact_id is None
        invoice = old.get_model("billing", "Invoice").objects.get(pk=ids["invoice"])
        assert (invoice.crm_deal_id, invoice.crm_deal_name) == ("4150004", "Acme renewal")
        order = old.get_model("billing", "SalesOrder").objects.get(pk=ids["order"])
        assert (order.crm_deal_id, order.crm_deal_name) == ("4150005", "Rollout")
    finally:
        _migrate(latest)


def test_billing_drops_its_columns_only_after_crmsync_copied_them():
    plan = MigrationLoader(None, ignore_no_migrations=True).graph.forwards_plan(("billing", "0016_remove_crm_columns"))

    assert plan.index(("crmsync", "0008_crm_links")) < plan.index(("billing", "0016_remove_crm_columns"))
