"""Admin for customers, contact persons, groups, items, price lists and organisation settings."""
