"""Template tags of the reconciliation pages: status badges and small helpers."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from syncapp.dashboard import icons
from syncapp.reconcile.presentation import line_look, report_look

register = template.Library()


def _badge(tone: str, icon: str, label: str) -> SafeString:
    return format_html('<span class="badge {}">{}{}</span>', tone, icons.icon(icon), label)


@register.simple_tag
def line_badge(status: str, label: str) -> SafeString:
    look = line_look(status)
    return _badge(look.tone, look.icon, label)


@register.simple_tag
def report_badge(state: str, label: str) -> SafeString:
    look = report_look(state)
    return _badge(look.tone, look.icon, label)


@register.filter
def problems(counts: dict) -> int:
    """How many lines of a report are not "matched"."""
    return sum(n for status, n in (counts or {}).items() if status != "matched")
