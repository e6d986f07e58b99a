from .customers import (
    customer_subtree,
    customers_under,
    hierarchy_root,
    hierarchy_rows,
    visible_customers,
)
from .pricing import EffectiveTerms, effective_price, effective_terms

__all__ = [
    "EffectiveTerms",
    "customer_subtree",
    "customers_under",
    "effective_price",
    "effective_terms",
    "hierarchy_root",
    "hierarchy_rows",
    "visible_customers",
]
