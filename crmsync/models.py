"""The Zoho CRM connection (credentials and the five set-up steps), the links between billing's
objects and CRM records, and the history of sync runs."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto


class CrmConnection(models.Model):
    """The one Zoho CRM connection of the organisation. `CrmConnection.current()` reads it.

    Secrets are stored encrypted (Fernet); read them through the `client_secret`,
    `refresh_token` and `access_token` properties, never print the columns.
    """

    class Module(models.TextChoices):
        ACCOUNTS = "accounts", _("Accounts (as Business customers)")
        CONTACTS = "contacts", _("Contacts (as Individual customers)")
        ACCOUNTS_AND_CONTACTS = "accounts_contacts", _("Accounts and their Contacts (as contact persons)")

    class Direction(models.TextChoices):
        FETCH = "fetch", _("Fetch from CRM")
        BOTH = "both", _("Sync both ways (CRM fetched first)")

    class DuplicatePolicy(models.TextChoices):
        CLONE = "clone", _("Clone: keep both records")
        OVERWRITE = "overwrite", _("Overwrite: CRM data replaces the billing data")
        SKIP = "skip", _("Skip: keep the billing record, do not sync the CRM one")

    # Credentials
    email = models.EmailField(
        _("record owner email"),
        blank=True,
        help_text=_("This person owns, in Zoho CRM, the records pushed from billing."),
    )
    accounts_domain = models.URLField(_("Zoho accounts domain"), default="https://accounts.zoho.com")
    api_domain = models.URLField(_("Zoho API domain"), default="https://www.zohoapis.com")
    client_id = models.CharField(_("OAuth client id"), max_length=200, blank=True)
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    # What connecting could not check (e.g. the currency without ZohoCRM.org.READ); shown to staff.
    connect_warning = models.TextField(_("connection warning"), blank=True, editable=False)

    # State
    is_enabled = models.BooleanField(_("integration enabled"), default=False)
    is_paused = models.BooleanField(_("sync paused"), default=False)
    is_configured = models.BooleanField(_("set-up completed"), default=False)

    # The five set-up steps
    module = models.CharField(_("module to sync"), max_length=20, choices=Module.choices, default=Module.ACCOUNTS)
    include_orphan_contacts = models.BooleanField(
        _("include contacts that are not associated to any account"),
        default=False,
        help_text=_("They become Individual customers."),
    )
    direction = models.CharField(_("extent of sync"), max_length=5, choices=Direction.choices, default=Direction.FETCH)
    duplicate_policy = models.CharField(
        _("duplicate records"), max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP
    )
    account_view_id = models.CharField(_("account view"), max_length=40, blank=True)
    account_view_name = models.CharField(max_length=200, blank=True)
    contact_view_id = models.CharField(_("contact view"), max_length=40, blank=True)
    contact_view_name = models.CharField(max_length=200, blank=True)
    # {"Accounts": [[crm_api_name, billing_target], ...], "Contacts": [...]}; see crmsync.mapping.
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)

    # Won deal → draft invoice (crmsync.services.deals)
    invoice_won_deals = models.BooleanField(
        _("create a draft invoice when a deal is won"),
        default=True,
        help_text=_("Deals of linked accounts that reach a won stage become draft invoices, once per deal."),
    )
    won_deal_stages = models.CharField(
        _("won stages"),
        max_length=255,
        default="Closed Won",
        help_text=_("Deal stage names that count as won, separated by commas."),
    )
    # Transactions → the CRM's Invoices and Sales_Orders modules (crmsync.services.documents)
    push_transactions = models.BooleanField(
        _("push invoices and sales orders to the CRM"),
        default=False,
        help_text=_(
            "Invoices and sales orders reach Zoho CRM's Invoices and Sales_Orders modules within seconds of "
            "each change (sent, paid, partly paid, void), with their line items, for customers linked to a CRM "
            "account. Billing creates the fields it needs in Zoho (Billing_Document_Id, Balance_Due, "
            "Billing_Item_Id on Products) when this is switched on."
        ),
    )
    # Receivables figure → the Account field staff mapped it to; a figure left out goes to the
    # custom field billing creates (crmsync.services.receivables.DEFAULT_RECEIVABLE_FIELDS).
    receivable_field_mapping = models.JSONField(_("receivables field mapping"), default=dict, blank=True)
    # Deals modified since this instant are read; set by the first run, so deals won before the
    # integration invoiced nothing.
    deals_synced_until = models.DateTimeField(null=True, blank=True, editable=False)

    # Incremental sync: records modified since these instants are fetched. Cleared when the
    # module, views or mapping change, so the next run is a full one.
    accounts_synced_until = models.DateTimeField(null=True, blank=True, editable=False)
    contacts_synced_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The deleted-records feed is read since this instant (the start of the last run that read it
    # whole). Never cleared by a change of set-up: a deletion made before a full re-sync must
    # still reach billing. None: read the whole feed (only when something is linked).
    deletions_synced_until = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Zoho CRM integration")
        verbose_name_plural = _("Zoho CRM integration")

    def __str__(self):
        return str(_("Zoho CRM integration"))

    @classmethod
    def current(cls) -> "CrmConnection":
        connection, _created = cls.objects.get_or_create(pk=1)
        return connection

    @property
    def client_secret(self) -> str:
        return crypto.decrypt(self.client_secret_encrypted)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted)

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret_encrypted and self.refresh_token_encrypted)

    @property
    def won_stages(self) -> set[str]:
        return {name.strip().casefold() for name in self.won_deal_stages.split(",") if name.strip()}

    @property
    def syncs_accounts(self) -> bool:
        return self.module in (self.Module.ACCOUNTS, self.Module.ACCOUNTS_AND_CONTACTS)

    @property
    def syncs_contacts(self) -> bool:
        return self.module in (self.Module.CONTACTS, self.Module.ACCOUNTS_AND_CONTACTS)

    @property
    def status_label(self) -> str:
        if not self.has_credentials:
            return str(_("Not connected"))
        if not self.is_enabled:
            return str(_("Disabled"))
        if not self.is_configured:
            return str(_("Connected, set-up not completed"))
        return str(_("Paused")) if self.is_paused else str(_("Active"))


class SyncRun(models.Model):
    """One sync attempt with exact counts. A skipped run records a trigger refused by the lock."""

    class Trigger(models.TextChoices):
        INITIAL = "initial", _("Save and Sync")
        SCHEDULED = "scheduled", _("Scheduled (every 2 hours)")
        INSTANT = "instant", _("Instant Sync")
        # One row per day collects the invoices and sales orders pushed as they changed (the fast
        # path), with the reason of each one Zoho refused; see crmsync.services.documents.
        PUSH = "push", _("Instant pushes of the day")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    is_incremental = models.BooleanField(_("incremental"), default=False)
    added = models.PositiveIntegerField(_("added"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    unlinked = models.PositiveIntegerField(_("unlinked (kept: has transactions)"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    duplicates_cloned = models.PositiveIntegerField(_("duplicates cloned"), default=0)
    duplicates_overwritten = models.PositiveIntegerField(_("duplicates overwritten"), default=0)
    duplicates_skipped = models.PositiveIntegerField(_("duplicates skipped"), default=0)
    pushed_added = models.PositiveIntegerField(_("pushed to CRM, added"), default=0)
    pushed_updated = models.PositiveIntegerField(_("pushed to CRM, updated"), default=0)
    receivables_pushed = models.PositiveIntegerField(_("account receivables pushed to CRM"), default=0)
    invoices_from_deals = models.PositiveIntegerField(_("draft invoices from won deals"), default=0)
    documents_pushed = models.PositiveIntegerField(_("invoices and sales orders pushed to CRM"), default=0)
    # Progress of a running sync, updated once per page.
    records_seen = models.PositiveIntegerField(_("CRM records read"), default=0)
    pages_done = models.PositiveIntegerField(_("pages done"), default=0)
    current_step = models.CharField(_("step"), max_length=100, blank=True)
    http_requests = models.PositiveIntegerField(_("HTTP requests"), default=0)
    message = models.TextField(_("reason / message"), blank=True)
    # Instant pushes only: the day this row collects (unique, so concurrent pushes share one row).
    push_day = models.DateField(_("day of instant pushes"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("sync history entry")
        verbose_name_plural = _("sync history")
        indexes = [models.Index(fields=["status"], name="crmsync_run_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["push_day"], condition=models.Q(push_day__isnull=False), name="crmsync_run_one_push_row_a_day"
            )
        ]

    def __str__(self):
        return f"{self.get_trigger_display()} {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def reason(self) -> str:
        """Why the run happened and, when it failed or was skipped, why: "Instant Sync: <message>"."""
        started_by = str(self.get_trigger_display())
        return f"{started_by}: {self.message}" if self.message else started_by

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None


class SyncFailure(models.Model):
    """A record that could not be synced in a run, and why."""

    class Direction(models.TextChoices):
        FETCH = "fetch", _("CRM → billing")
        PUSH = "push", _("billing → CRM")
        DELETE = "delete", _("CRM deletion")

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="failures")
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.FETCH)
    module = models.CharField(_("CRM module"), max_length=20)
    crm_id = models.CharField(_("CRM id"), max_length=40, blank=True)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    record_name = models.CharField(_("record"), max_length=255, blank=True)
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.module} {self.record_name or self.crm_id}: {self.reason}"


class ReceivablesPush(models.Model):
    """What was last written to a linked CRM account's receivables fields, so that an unchanged
    account is not pushed again (see `crmsync.services.receivables`)."""

    customer = models.OneToOneField(
        "billing.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    crm_id = models.CharField(_("CRM account id"), max_length=40)
    # The figures as pushed, {CRM field api name: "12.50"}: compared as strings, exact.
    figures = models.JSONField(_("figures pushed"), default=dict)
    pushed_at = models.DateTimeField(_("pushed"))

    class Meta:
        verbose_name = _("receivables pushed to the CRM")
        verbose_name_plural = _("receivables pushed to the CRM")

    def __str__(self):
        return f"{self.customer_id} → {self.crm_id}"


class WonDealInvoice(models.Model):
    """The draft invoice made from a won CRM deal. One per deal, ever: the unique deal id is what
    keeps a deal seen twice (overlapping runs, a stage moved back and forth) from invoicing twice."""

    crm_deal_id = models.CharField(_("CRM deal id"), max_length=40, unique=True)
    deal_name = models.CharField(_("deal"), max_length=255, blank=True)
    # Kept when staff delete the draft: the deal is not invoiced again.
    invoice = models.OneToOneField(
        "billing.Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice from a won deal")
        verbose_name_plural = _("invoices from won deals")

    def __str__(self):
        return f"{self.deal_name or self.crm_deal_id}"


class DocumentPush(models.Model):
    """What was last written to the CRM for one invoice or sales order, so that an unchanged
    document is not sent again (see `crmsync.services.documents`)."""

    kind = models.CharField(_("document"), max_length=12)  # "invoice" or "salesorder"
    document_id = models.BigIntegerField(_("document id"))
    crm_id = models.CharField(_("CRM record id"), max_length=40)
    digest = models.CharField(_("hash of the record pushed"), max_length=64)
    # The line items alone: Zoho keeps a record's item rows on update (it appends the rows sent),
    # so rows are sent only when they changed, and then the old ones are removed by their ids.
    # Empty: the CRM rows are unknown (the record existed before our first push); replace them.
    lines_digest = models.CharField(_("hash of the line items pushed"), max_length=64, blank=True)
    pushed_at = models.DateTimeField(_("pushed"))

    class Meta:
        verbose_name = _("document pushed to the CRM")
        verbose_name_plural = _("documents pushed to the CRM")
        constraints = [models.UniqueConstraint(fields=["kind", "document_id"], name="crmsync_documentpush_unique")]

    def __str__(self):
        return f"{self.kind} {self.document_id} → {self.crm_id}"


class ProductPush(models.Model):
    """A CRM Products record that billing keeps for line items: one per item, plus one generic product
    for free-text lines. `key` is the product's `Billing_Item_Id` in Zoho ("item-12", "free-text"), the
    upsert's duplicate check field; `crm_id` is what line items point at. See crmsync.services.products."""

    key = models.CharField(_("billing item id in the CRM"), max_length=40, unique=True)
    crm_id = models.CharField(_("CRM product id"), max_length=40)
    digest = models.CharField(_("hash of the product pushed"), max_length=64)
    pushed_at = models.DateTimeField(_("pushed"))

    class Meta:
        verbose_name = _("product pushed to the CRM")
        verbose_name_plural = _("products pushed to the CRM")

    def __str__(self):
        return f"{self.key} → {self.crm_id}"


class CrmLinkQuerySet(models.QuerySet):
    def active(self):
        """Links in force (not unlinked)."""
        return self.filter(unlinked_at__isnull=True)

    def of_customers(self, module: str):
        return self.filter(module=module, customer__isnull=False)

    def of_contact_persons(self):
        return self.filter(module=CrmLink.Module.CONTACTS, contact_person__isnull=False)


_ACTIVE = Q(unlinked_at__isnull=True)
_OBJECTS = ("customer", "contact_person", "invoice", "sales_order")


def _only(name: str) -> Q:
    return Q(**{f"{other}__isnull": other != name for other in _OBJECTS})


class CrmLink(models.Model):
    """One billing object linked to one Zoho CRM record: a customer to an Account (Business) or a
    Contact (Individual), a contact person to a Contact, an invoice or a sales order to a Deal.

    The integration owns these rows, as allauth's SocialAccount is owned by allauth: billing's models
    carry no CRM column, so a second CRM is a new app with its own links. A link the CRM side lost
    (record deleted, or gone from the synced view) is kept with `unlinked_at` and the reason, so the
    customer is neither pushed back as new nor forgotten; linking again makes a new row.
    """

    class Module(models.TextChoices):  # Zoho CRM's module API names
        ACCOUNTS = "Accounts", _("Accounts")
        CONTACTS = "Contacts", _("Contacts")
        DEALS = "Deals", _("Deals (potentials)")

    # Exactly one is set (CHECK below). related_name ending in "+": billing's models get no reverse
    # accessor (billing does not know this app); the inlines still name the relation "crm_links".
    customer = models.ForeignKey(
        "billing.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="crm_links+",
        db_index=False, verbose_name=_("customer"),
    )  # fmt: skip
    contact_person = models.ForeignKey(
        "billing.ContactPerson", null=True, blank=True, on_delete=models.CASCADE, related_name="crm_links+",
        db_index=False, verbose_name=_("contact person"),
    )  # fmt: skip
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="crm_links+",
        db_index=False, verbose_name=_("invoice"),
    )  # fmt: skip
    sales_order = models.ForeignKey(
        "billing.SalesOrder", null=True, blank=True, on_delete=models.CASCADE, related_name="crm_links+",
        db_index=False, verbose_name=_("sales order"),
    )  # fmt: skip
    module = models.CharField(_("CRM module"), max_length=20, choices=Module.choices)
    # Blank only on links unlinked before the CRM ids were kept here (migrated from billing).
    crm_id = models.CharField(_("CRM id"), max_length=40, blank=True)
    crm_name = models.CharField(_("CRM record name"), max_length=255, blank=True)
    synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    unlinked_at = models.DateTimeField(_("unlinked"), null=True, blank=True)
    unlinked_reason = models.CharField(_("why it was unlinked"), max_length=255, blank=True)

    objects = CrmLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM link")
        verbose_name_plural = _("CRM links")
        constraints = [
            models.CheckConstraint(
                condition=_only("customer") | _only("contact_person") | _only("invoice") | _only("sales_order"),
                name="crmsync_link_one_object",
            ),
            models.CheckConstraint(condition=~_ACTIVE | ~Q(crm_id=""), name="crmsync_link_active_has_crm_id"),
            # One customer per CRM record and one contact person per CRM record (a CRM contact may be
            # both: an Individual customer and, after the set-up changed, a contact person). These are
            # also the indexes of the sync's per-page lookups (200 CRM ids at a time).
            models.UniqueConstraint(
                fields=["module", "crm_id"], condition=_ACTIVE & Q(customer__isnull=False),
                name="crmsync_link_record_one_customer",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["module", "crm_id"], condition=_ACTIVE & Q(contact_person__isnull=False),
                name="crmsync_link_record_one_person",
            ),  # fmt: skip
            # One record per object and module (many invoices may share a deal).
            models.UniqueConstraint(
                fields=["customer", "module"], condition=_ACTIVE & Q(customer__isnull=False),
                name="crmsync_link_customer_one_record",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["contact_person", "module"], condition=_ACTIVE & Q(contact_person__isnull=False),
                name="crmsync_link_person_one_record",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["invoice", "module"], condition=_ACTIVE & Q(invoice__isnull=False),
                name="crmsync_link_invoice_one_record",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["sales_order", "module"], condition=_ACTIVE & Q(sales_order__isnull=False),
                name="crmsync_link_order_one_record",
            ),  # fmt: skip
        ]
        # Each object column is indexed only where set (most rows leave three of four empty): for
        # deletions cascading from billing and for the unlinked links of a customer.
        indexes = [
            models.Index(fields=["customer"], condition=Q(customer__isnull=False), name="crmsync_link_customer_idx"),
            models.Index(
                fields=["contact_person"], condition=Q(contact_person__isnull=False), name="crmsync_link_person_idx"
            ),
            models.Index(fields=["invoice"], condition=Q(invoice__isnull=False), name="crmsync_link_invoice_idx"),
            models.Index(
                fields=["sales_order"], condition=Q(sales_order__isnull=False), name="crmsync_link_order_idx"
            ),
            # The documents linked to a deal.
            models.Index(
                fields=["module", "crm_id"],
                condition=Q(invoice__isnull=False) | Q(sales_order__isnull=False),
                name="crmsync_link_document_idx",
            ),
        ]

    def __str__(self):
        state = "" if self.unlinked_at is None else f" ({_('unlinked')})"
        return f"{self.module} {self.crm_id or '—'}{state}"

    @property
    def is_active(self) -> bool:
        return self.unlinked_at is None
