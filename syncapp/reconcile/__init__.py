"""Reconciliation: Xero (as of the last sync) against a fresh read of Procore, stored as reports."""
