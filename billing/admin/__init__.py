"""The back office. One module per area; importing them registers the ModelAdmins."""

from . import customers, ledger, online  # noqa: F401
