"""Run by tests/test_sqlite_demo.py inside `manage.py shell` on the SQLite demo database: every portal page
of the demo head-office contact answers 200 (hand-written SQL must work on SQLite too)."""

from django.test import Client
from django.test.utils import override_settings

from billing.models import ContactPerson, Invoice, Payment

contact = ContactPerson.objects.get(email="hannah.reed@northwind.example")
client = Client()
client.force_login(contact.user)
invoice = Invoice.objects.filter(customer=contact.customer, is_retainer=False).exclude(status="draft").first()
payment = Payment.objects.filter(customer=contact.customer).first()
urls = ["/", "/?accounts=2", "/invoices/", "/invoices/?tab=outstanding&sort=due_on", "/retainer-invoices/",
        "/subscriptions/", "/payments/", "/my-details/", "/documents/", "/my-account/",
        f"/invoices/{invoice.pk}/", f"/payments/{payment.pk}/"]
urls += [f"/statement/?period={p}" for p in ("this_month", "last_month", "this_quarter", "last_quarter",
                                              "this_year", "last_year")]
urls += ["/statement/?period=this_year&page=2", "/statement/pdf/?period=this_year"]
with override_settings(ALLOWED_HOSTS=["testserver"]):
    failed = [(url, status) for url in urls if (status := client.get(url).status_code) != 200]
print("portal walk failures:", failed)
