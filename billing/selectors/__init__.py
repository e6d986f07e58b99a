from .balances import (
    BalanceSummary,
    CustomerBalance,
    balance_summary,
    customer_outstanding,
    last_payment,
    open_credit_sources,
    outstanding_invoices,
)
from .customers import (
    customer_subtree,
    customers_under,
    customers_with_branches,
    customers_with_transactions,
    hierarchy_page,
    hierarchy_root,
    hierarchy_rows,
    visible_customers,
)
from .pricing import EffectiveTerms, effective_price, effective_terms
from .statements import CustomerStatement, LineKind, Statement, StatementLine, statement

__all__ = [
    "BalanceSummary",
    "CustomerBalance",
    "CustomerStatement",
    "LineKind",
    "Statement",
    "StatementLine",
    "balance_summary",
    "customer_outstanding",
    "last_payment",
    "open_credit_sources",
    "outstanding_invoices",
    "statement",
    "EffectiveTerms",
    "customer_subtree",
    "customers_under",
    "customers_with_branches",
    "customers_with_transactions",
    "effective_price",
    "effective_terms",
    "hierarchy_page",
    "hierarchy_root",
    "hierarchy_rows",
    "visible_customers",
]
