"""Unusual-access review: rules over the audit log whose findings a data protection
officer reviews. Pure logic; the API reads the audit and records the outcomes."""
