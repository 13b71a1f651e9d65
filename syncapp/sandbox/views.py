"""The /sandbox/ index: what the simulated Xero and Procore hold, the seeded cases, and the fault
switches in force. Open to anyone (like the simulated services themselves): it holds no secrets."""

from django.apps import apps
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render

from syncapp.sandbox.models import Behaviour, Service
from syncapp.sandbox.seed import CASES, current_world

# The tables worth counting, per sandbox (OAuth codes and tokens are noise here).
COUNTED = {
    "sandbox_xero": ["Organisation", "Contact", "Invoice", "Payment", "OAuthClient", "TenantConnection"],
    "sandbox_procore": ["Company", "User", "Project", "Vendor", "Commitment", "Requisition", "ContractPayment",
                        "OAuthClient"],
}  # fmt: skip


def _switches(behaviour: Behaviour) -> list[tuple[str, object]]:
    fields = [f for f in Behaviour._meta.concrete_fields if f.name not in ("id", "service", "updated_at")]
    return [(f.name, behaviour._get_FIELD_display(f) if f.choices else getattr(behaviour, f.name)) for f in fields]


def _counts(app_label: str) -> list[tuple[str, int]]:
    config = apps.get_app_config(app_label)
    return [(name, config.get_model(name).objects.count()) for name in COUNTED[app_label]]


@login_not_required
def index(request):
    world = current_world()
    case_counts = world.summary.get("case_counts", {}) if world else {}
    behaviours = [Behaviour.get(service) for service in Service.values]
    return render(
        request,
        "sandbox/index.html",
        {
            "world": world,
            "xero_counts": _counts("sandbox_xero"),
            "procore_counts": _counts("sandbox_procore"),
            "cases": [(name, case_counts.get(name)) for name in CASES] if world else [],
            "outcomes": world.summary.get("outcomes", {}) if world else {},
            "behaviours": [(behaviour, _switches(behaviour)) for behaviour in behaviours],
        },
    )
