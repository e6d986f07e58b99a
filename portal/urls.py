from django.urls import include, path

from .views import account, details, forwards, home, invoices, payments, sales_orders, statement, subscriptions

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("invoices/", invoices.invoice_list, name="invoice-list"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="invoice-detail"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_pdf, name="invoice-pdf"),
    path("invoices/<int:invoice_id>/comments/", invoices.invoice_comment, name="invoice-comment"),
    path("invoices/<int:invoice_id>/forward/", invoices.invoice_forward, name="invoice-forward"),
    path("retainer-invoices/", invoices.retainer_list, name="retainer-list"),
    path("retainer-invoices/<int:invoice_id>/", invoices.retainer_detail, name="retainer-detail"),
    path("retainer-invoices/<int:invoice_id>/pdf/", invoices.retainer_pdf, name="retainer-pdf"),
    path("sales-orders/", sales_orders.salesorder_list, name="salesorder-list"),
    path("sales-orders/<int:order_id>/", sales_orders.salesorder_detail, name="salesorder-detail"),
    path("sales-orders/<int:order_id>/pdf/", sales_orders.salesorder_pdf, name="salesorder-pdf"),
    path("sales-orders/<int:order_id>/comments/", sales_orders.salesorder_comment, name="salesorder-comment"),
    path("sales-orders/<int:order_id>/forward/", sales_orders.salesorder_forward, name="salesorder-forward"),
    path("subscriptions/", subscriptions.subscription_list, name="subscription-list"),
    path("payments/", payments.payment_list, name="payment-list"),
    path("payments/<int:payment_id>/", payments.payment_detail, name="payment-detail"),
    path("payments/<int:payment_id>/receipt.pdf", payments.payment_pdf, name="payment-pdf"),
    path("statement/", statement.statement_page, name="statement"),
    path("statement/pdf/", statement.statement_pdf, name="statement-pdf"),
    path("statement/pdf/<int:pdf_id>/", statement.statement_pdf_status, name="statement-pdf-status"),
    path("statement/pdf/<int:pdf_id>/progress/", statement.statement_pdf_progress, name="statement-pdf-progress"),
    path("statement/pdf/<int:pdf_id>/download/", statement.statement_pdf_download, name="statement-pdf-download"),
    path("accounts/suggestions/", statement.account_suggestions, name="account-suggestions"),
    path("my-details/", details.my_details, name="my-details"),
    path("documents/", details.document_list, name="document-list"),
    path("documents/<int:document_id>/download/", details.document_download, name="document-download"),
    path("my-account/", account.my_account, name="my-account"),
    # The invitation in a forwarded document's email: no login (the recipient has none yet).
    path("forwarded/<str:token>/", forwards.forward_invitation, name="forward-invitation"),
    path("pay/", include("portal.payments_urls")),
]
