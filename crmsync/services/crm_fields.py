"""At connect and configure: create the custom fields billing will write in Zoho CRM.

The transaction push needs its id and balance fields (`transaction_fields`); pushing receivables
(sync both ways, accounts) needs the four Account figure fields not mapped to existing ones
(`receivables`). Missing fields are created now, so a first scheduled run does not discover them.
"""

from __future__ import annotations

from crmsync.clients import client_for
from crmsync.models import CrmConnection
from crmsync.services.custom_fields import ensure_custom_fields
from crmsync.services.receivables import RECEIVABLES_THEN, receivable_custom_fields
from crmsync.services.transaction_fields import ensure_transaction_fields


def pushes_receivables(connection: CrmConnection) -> bool:
    return connection.direction == CrmConnection.Direction.BOTH and connection.syncs_accounts


def prepare_crm_fields(*, connection: CrmConnection) -> list[str]:
    """Create the CRM fields the chosen pushes write. Returns what staff must fix, one sentence per
    module and purpose (empty when everything is ready or nothing is pushed). Writes nothing in
    billing; safe to repeat. CRM errors come back as sentences, never raised."""
    wants_transactions = connection.push_transactions
    wants_receivables = pushes_receivables(connection)
    if not (connection.has_credentials and (wants_transactions or wants_receivables)):
        return []
    problems = []
    with client_for(connection) as client:
        if wants_transactions:
            problems += ensure_transaction_fields(client=client)
        if wants_receivables:
            problems += ensure_custom_fields(
                client=client, fields=receivable_custom_fields(connection), then=str(RECEIVABLES_THEN)
            )
    return [problem for _module, problem in problems]
