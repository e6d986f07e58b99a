"""The Zoho CRM integration page: connect, update credentials, the five set-up steps, Save and
Sync (Later), Instant Sync, Pause/Resume, Edit, Disable, progress; search CRM and import;
link potentials (deals) to invoices and sales orders. Views call services; messages carry the
ValidationError text."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from billing.models.ledger import Invoice, SalesOrder
from crmsync import selectors, services
from crmsync.demo import uses_demo_crm
from crmsync.forms import ConfigureForm, CredentialsForm, SearchForm
from crmsync.mapping import ACCOUNTS, CONTACTS, default_mapping, mapping_for
from crmsync.models import CrmConnection, SyncRun
from crmsync.zoho import ZOHO_SCOPE_STRING, CrmError

_ACTIONS = {
    "instant_sync": (services.request_instant_sync, _("Instant Sync started. Progress shows below.")),
    "pause": (services.pause_sync, _("Sync paused. A sync already running will finish.")),
    "resume": (services.resume_sync, _("Sync resumed.")),
    "disable": (services.disable_integration, _("The Zoho CRM integration is disabled; nothing will sync.")),
    "enable": (services.enable_integration, _("The Zoho CRM integration is enabled again.")),
}
_DOCUMENTS = {"invoice": Invoice, "salesorder": SalesOrder}


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@admin.register(CrmConnection)
class CrmConnectionAdmin(admin.ModelAdmin):
    """One page for the one connection; the model's own add/change forms are not used."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("credentials/", wrap(self.credentials_view), name="crmsync_credentials"),
            path("configure/", wrap(self.configure_view), name="crmsync_configure"),
            path("action/<str:action>/", wrap(self.action_view), name="crmsync_action"),
            path("search/", wrap(self.search_view), name="crmsync_search"),
            path("deals/<str:kind>/<int:document_id>/", wrap(self.deals_view), name="crmsync_deals"),
            path("deals/", wrap(self.find_document_view), name="crmsync_find_document"),
            path("demo-crm/", wrap(self.demo_crm_view), name="crmsync_demo_crm"),
            path("", wrap(self.changelist_view), name="crmsync_crmconnection_changelist"),
            path(
                "<path:object_id>/", wrap(lambda request, object_id: redirect("admin:crmsync_crmconnection_changelist"))
            ),
        ]

    def _context(self, request, title: str, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def _check(self, request):
        if not self.has_change_permission(request):
            raise Http404

    # -- overview ----------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise Http404
        connection = CrmConnection.current()
        running = selectors.running_sync()
        context = self._context(
            request,
            _("Zoho CRM integration"),
            connection=connection,
            running=running,
            runs=selectors.sync_history()[:10],
            history_url=reverse("admin:crmsync_syncrun_changelist"),
            can_change=self.has_change_permission(request),
            is_overview=True,
            uses_demo_crm=uses_demo_crm(connection),
        )
        return TemplateResponse(request, "admin/crmsync/overview.html", context)

    def action_view(self, request, action: str):
        self._check(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action not in _ACTIONS:
            raise Http404
        service, done = _ACTIONS[action]
        try:
            service()
        except ValidationError as exc:
            self.message_user(request, _errors(exc), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:crmsync_crmconnection_changelist")

    # -- credentials -------------------------------------------------------------------------

    def credentials_view(self, request):
        self._check(request)
        connection = CrmConnection.current()
        if request.method == "POST":
            form = CredentialsForm(request.POST)
            if form.is_valid():
                try:
                    connected = services.connect_crm(**form.cleaned_data)
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    self.message_user(request, _("Connected to Zoho CRM."), messages.SUCCESS)
                    if connected.connect_warning:
                        self.message_user(request, connected.connect_warning, messages.WARNING)
                    for problem in services.prepare_crm_fields(connection=connected):
                        self.message_user(request, problem, messages.WARNING)
                    target = (
                        "admin:crmsync_crmconnection_changelist"
                        if connection.is_configured
                        else "admin:crmsync_configure"
                    )
                    return redirect(target)
        else:
            form = CredentialsForm(
                initial={
                    "email": connection.email,
                    "accounts_domain": connection.accounts_domain,
                    "api_domain": connection.api_domain,
                    "client_id": connection.client_id,
                }
            )
        title = _("Update Zoho CRM credentials") if connection.has_credentials else _("Connect Zoho CRM")
        return TemplateResponse(
            request,
            "admin/crmsync/form.html",
            self._context(request, title, form=form, connection=connection, scopes=ZOHO_SCOPE_STRING),
        )

    # -- the five steps ----------------------------------------------------------------------

    def configure_view(self, request):
        self._check(request)
        connection = CrmConnection.current()
        if not connection.has_credentials:
            self.message_user(request, _("Connect Zoho CRM first."), messages.WARNING)
            return redirect("admin:crmsync_credentials")
        # Neither list is needed to sync: without them the stored view and mapping (or the
        # defaults) stay, and staff are told why the pickers are missing.
        notes = []
        try:
            views = selectors.crm_views(connection=connection)
        except CrmError as exc:
            views = selectors.stored_views(connection=connection)
            notes.append(
                _("Zoho CRM's views could not be read, so only the view in use is offered. %(reason)s")
                % {"reason": exc.reason}
            )
        try:
            crm_fields = selectors.crm_fields(connection=connection)
        except CrmError as exc:
            crm_fields = None
            notes.append(
                _("Zoho CRM's field list could not be read, so the field mapping in use is kept. %(reason)s")
                % {"reason": exc.reason}
            )
        mapping_in_use = [
            (module, mapping_for(connection.field_mapping or {}, module)) for module in (ACCOUNTS, CONTACTS)
        ]
        if request.method == "POST":
            form = ConfigureForm(
                request.POST, views=views, crm_fields=crm_fields, stored_mapping=connection.field_mapping
            )
            if form.is_valid():
                data = form.cleaned_data
                sync_now = "save_and_sync" in request.POST
                try:
                    configured = services.configure_sync(
                        module=data["module"],
                        include_orphan_contacts=data["include_orphan_contacts"],
                        direction=data["direction"],
                        duplicate_policy=data["duplicate_policy"],
                        account_view=data["account_view_obj"],
                        contact_view=data["contact_view_obj"],
                        field_mapping=data["field_mapping"],
                        crm_fields=crm_fields,
                        sync_now=sync_now,
                        push_transactions=data["push_transactions"],
                        receivable_field_mapping=data["receivable_field_mapping"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    for problem in services.prepare_crm_fields(connection=configured):
                        self.message_user(request, problem, messages.WARNING)
                    done = (
                        _("Settings saved; the initial sync has started.")
                        if sync_now
                        else _("Settings saved. They apply to the next sync.")
                    )
                    self.message_user(request, done, messages.SUCCESS)
                    return redirect("admin:crmsync_crmconnection_changelist")
        else:
            form = ConfigureForm(
                initial=ConfigureForm.initial_for(connection, default_mapping(crm_fields=crm_fields or {})),
                views=views,
                crm_fields=crm_fields,
                stored_mapping=connection.field_mapping,
            )
        for note in notes:
            messages.warning(request, note)
        return TemplateResponse(
            request,
            "admin/crmsync/configure.html",
            self._context(
                request,
                _("Configure the customer sync"),
                form=form,
                connection=connection,
                mapping_in_use=mapping_in_use if crm_fields is None else None,
                steps=[form[name] for name in form.fields if "__" not in name],
                picker=[(module, [form[name] for name in names]) for module, names in form.picker_groups],
                receivables_picker=[form[name] for name in form.receivables_picker],
            ),
        )

    # -- search CRM and import ---------------------------------------------------------------

    def search_view(self, request):
        self._check(request)
        connection = CrmConnection.current()
        if request.method == "POST":
            try:
                customer = services.import_crm_record(
                    module=request.POST.get("module", ""), crm_id=request.POST.get("crm_id", "")
                )
            except ValidationError as exc:
                self.message_user(request, _errors(exc), messages.ERROR)
                return redirect(request.get_full_path())
            self.message_user(
                request, _("%(name)s is now a customer.") % {"name": customer.display_name}, messages.SUCCESS
            )
            return redirect(reverse("admin:billing_customer_change", args=[customer.pk]))
        form = SearchForm(request.GET or None)
        results = None
        if form.is_valid():
            try:
                results = selectors.crm_search(connection=connection, word=form.cleaned_data["q"])
            except CrmError as exc:
                form.add_error(None, exc.reason)
        return TemplateResponse(
            request,
            "admin/crmsync/search.html",
            self._context(request, _("Search Zoho CRM"), form=form, results=results, connection=connection),
        )

    # -- the offline demo's CRM ------------------------------------------------------------

    def demo_crm_view(self, request):
        """What the demo's fake Zoho CRM holds, read through the API: only while the demo fake is in use."""
        if not self.has_view_or_change_permission(request):
            raise Http404
        connection = CrmConnection.current()
        if not uses_demo_crm(connection):
            raise Http404
        contents, problem = {}, ""
        try:
            contents = selectors.demo_crm_contents(connection=connection)
        except CrmError as exc:
            problem = exc.reason
        return TemplateResponse(
            request,
            "admin/crmsync/demo_crm.html",
            self._context(
                request,
                _("Demo Zoho CRM"),
                connection=connection,
                problem=problem,
                accounts=contents.get("accounts", []),
                document_tables=[
                    (_("Invoices"), "demo-invoices", contents.get("invoices", []), True),
                    (_("Sales orders"), "demo-sales-orders", contents.get("sales_orders", []), False),
                ],
            ),
        )

    # -- potentials (deals) on invoices and sales orders -------------------------------------

    def find_document_view(self, request):
        self._check(request)
        kind, number = request.GET.get("kind", "invoice"), request.GET.get("number", "").strip()
        if number:
            model = _DOCUMENTS.get(kind)
            document = model.objects.filter(number__iexact=number).first() if model else None
            if document is not None:
                return redirect("admin:crmsync_deals", kind=kind, document_id=document.pk)
            self.message_user(
                request, _("No %(kind)s numbered %(number)s.") % {"kind": kind, "number": number}, messages.ERROR
            )
        return redirect("admin:crmsync_crmconnection_changelist")

    def deals_view(self, request, kind: str, document_id: int):
        self._check(request)
        model = _DOCUMENTS.get(kind)
        if model is None:
            raise Http404
        document = model.objects.select_related("customer").filter(pk=document_id).first()
        if document is None:
            raise Http404
        if request.method == "POST":
            try:
                if "dissociate" in request.POST:
                    services.dissociate_deal(kind=kind, document_id=document.pk)
                    self.message_user(request, _("Potential dissociated."), messages.SUCCESS)
                else:
                    linked = services.link_deal(
                        kind=kind, document_id=document.pk, deal_id=request.POST.get("deal_id", "")
                    )
                    self.message_user(
                        request,
                        _("Potential %(deal)s associated with %(doc)s.")
                        % {"deal": linked.crm_name, "doc": document.number},
                        messages.SUCCESS,
                    )
            except ValidationError as exc:
                self.message_user(request, _errors(exc), messages.ERROR)
            return redirect("admin:crmsync_deals", kind=kind, document_id=document.pk)
        deals, problem = [], ""
        try:
            deals = selectors.crm_deals(connection=CrmConnection.current(), customer=document.customer)
        except CrmError as exc:
            problem = exc.reason
        if not selectors.account_crm_id(document.customer):
            problem = _("%(customer)s is not linked to a Zoho CRM account, so it has no potentials.") % {
                "customer": document.customer.display_name
            }
        return TemplateResponse(
            request,
            "admin/crmsync/deals.html",
            self._context(
                request,
                _("Potentials for %(doc)s") % {"doc": document.number},
                document=document,
                linked_deal=selectors.deal_link(document),
                deals=deals,
                problem=problem,
                kind=kind,
                document_opts=model._meta,
            ),
        )


__all__ = ["CrmConnectionAdmin", "SyncRun"]
