"""Template tags of the dashboard: icons, state badges, the main navigation, money and durations."""

from decimal import Decimal, InvalidOperation

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from syncapp.connections.services import connection_problem
from syncapp.core.roles import is_admin
from syncapp.dashboard import icons
from syncapp.dashboard.presentation import look
from syncapp.dashboard.views.common import chosen_integration

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> SafeString:
    return icons.icon(name, label=label)


@register.simple_tag
def badge(kind: str, state: str, label: str = "") -> SafeString:
    """A state badge: icon + words; the tone only reinforces them."""
    style = look(kind, state)
    return format_html(
        '<span class="badge {}">{}{}</span>', style.tone, icons.icon(style.icon), label or state.replace("_", " ")
    )


# (label, url name, admin only, the url names that count as "this section")
_NAV = [
    ("Home", "home", False, {"home"}),
    ("Payments", "payments", False, {"payments", "payment"}),
    ("Runs", "runs", False, {"runs", "run"}),
    ("Reconciliation", "reconciliation", False, {"reconciliation"}),
    ("Failures", "failures", True, {"failures"}),
    ("Mappings", "mappings", True, {"mappings"}),
    ("Connections", "connections", False, set()),
    ("Settings", "settings", False, {"settings"}),
    ("Audit", "audit", True, {"audit"}),
]


@register.inclusion_tag("dashboard/components/nav.html", takes_context=True)
def main_nav(context) -> dict:
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    admin = context.get("user_is_admin", False) if "user_is_admin" in context else is_admin(request.user)
    keep = _keep_integration(request)
    items = []
    for label, name, admin_only, names in _NAV:
        if admin_only and not admin:
            continue
        url = reverse(name)
        here = current in names or (not names and request.path.startswith(url))
        items.append({"label": label, "url": url + keep, "current": here})
    return {"items": items}


def _keep_integration(request) -> str:
    """"?integration=<name>" for links to other pages while several integrations exist, so a
    link copied from any page opens the same integration; "" with one."""
    integrations, integration = chosen_integration(request)
    if len(integrations) < 2 or integration is None:
        return ""
    return "?" + urlencode({"integration": integration.name})


@register.inclusion_tag("dashboard/components/integration_switcher.html", takes_context=True)
def integration_switcher(context) -> dict:
    """The integration every page shows: its name alone with one integration, a menu with several
    (a GET form, so it works without JavaScript; the page's own section opens on the new choice)."""
    request = context["request"]
    integrations, integration = chosen_integration(request)
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    action = next((reverse(name) for _, name, _, names in _NAV if current in names), request.path)
    admin = context.get("user_is_admin", False)
    return {"integrations": integrations, "integration": integration, "action": action, "user_is_admin": admin}


@register.filter
def money(value, currency: str = "") -> str:
    """1234.5 -> "1,234.50" (with the currency code after it when given). Empty for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    text = f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


@register.filter
def duration(seconds) -> str:
    """Seconds -> "4 s", "2 min 5 s", "1 h 3 min"."""
    if seconds is None:
        return "—"
    seconds = int(round(float(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def percent(part, whole) -> int:
    try:
        return max(0, min(100, int(round(100 * float(part) / float(whole)))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0


@register.simple_tag
def connection_alert() -> str:
    """The Admin banner's text when a connection needs a person (reconnect), else ""."""
    return connection_problem() or ""
