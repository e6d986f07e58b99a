from billing.models import Customer
from crmsync.models import SyncRun
from crmsync.services import sync_crm


def test_accounts_become_business_customers_with_mapped_fields(fake, make_connection):
    fake.add_account(
        "Acme Inc",
        Phone="+1 555 0100",
        Website="https://acme.example",
        Email="ap@acme.example",
        Billing_Street="1 Main St",
        Billing_City="Springfield",
        Payment_Terms=45,
    )
    make_connection()

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.added, run.updated, run.failed) == (1, 0, 0)
    acme = Customer.objects.get()
    assert acme.customer_type == Customer.Type.BUSINESS
    assert acme.origin == Customer.Origin.CRM
    assert (acme.display_name, acme.phone, acme.email, acme.website) == (
        "Acme Inc",
        "+1 555 0100",
        "ap@acme.example",
        "https://acme.example",
    )
    assert acme.billing_address == "1 Main St\nSpringfield"
    assert acme.payment_terms_days == 45
