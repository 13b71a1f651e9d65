"""Template tags of the reconciliation pages: status badges, and the main navigation with the
Reconciliation link in it (Finance and Admin), marked aria-current on its pages."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from syncapp.dashboard import icons
from syncapp.dashboard.templatetags.dashboard import main_nav
from syncapp.reconcile.presentation import line_look, report_look

register = template.Library()

# The Reconciliation link goes after this one (reading order: Runs, then Reconciliation).
_AFTER = "Runs"
_URL_NAMES = {"reconciliation"}


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


@register.inclusion_tag("dashboard/components/nav.html", takes_context=True)
def main_nav_with_reconciliation(context) -> dict:
    """The dashboard's main navigation plus Reconciliation, for users with a role."""
    items = list(main_nav(context)["items"])
    if context.get("user_is_finance"):
        match = getattr(context["request"], "resolver_match", None)
        here = bool(match and match.url_name in _URL_NAMES)
        entry = {"label": "Reconciliation", "url": reverse("reconciliation"), "current": here}
        labels = [item["label"] for item in items]
        items.insert(labels.index(_AFTER) + 1 if _AFTER in labels else len(items), entry)
    return {"items": items}


@register.filter
def problems(counts: dict) -> int:
    """How many lines of a report are not "matched"."""
    return sum(n for status, n in (counts or {}).items() if status != "matched")
