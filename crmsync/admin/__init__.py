"""Staff pages for the Zoho CRM integration. Importing the modules registers the ModelAdmins."""

from . import deals, history, integration  # noqa: F401
