"""django-q2 entry point. Thin: load by id, build; a second delivery finds the report claimed."""

from __future__ import annotations

from syncapp.reconcile.reports import execute_report


def build_report(report_id: int) -> str:
    return execute_report(report_id).state
