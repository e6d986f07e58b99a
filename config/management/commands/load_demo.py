from django.conf import settings
from django.core.management.base import BaseCommand

from billing.demo import load_demo_organisation
from billing.demo_ledger import load_demo_ledger
from crmsync.demo import load_demo_crm


class Command(BaseCommand):
    help = "Load the demo organisation (safe to run again: it changes nothing the second time)."

    def handle(self, *args, **options):
        logins = load_demo_organisation()
        load_demo_ledger()
        load_demo_crm()
        site = settings.SITE_URL.rstrip("/")
        self.stdout.write(self.style.SUCCESS("Demo organisation loaded."))
        self.stdout.write(
            f"\n  Portal      {site}/\n"
            f"    head office  {logins.portal_email} / {logins.portal_password}\n"
            f"    branch       {logins.branch_portal_email} / {logins.portal_password}\n"
            f"  Back office {site}/admin/\n"
            f"    staff        {logins.staff_email} / {logins.staff_password}\n"
            f"  Demo Zoho CRM (offline fake) on {settings.CRM_DEMO_URL} — Back office > CRM sync > Zoho CRM\n"
            f"    integration > Instant Sync, then Demo Zoho CRM shows the invoices and account figures pushed\n"
        )
