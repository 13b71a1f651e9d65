"""How it works (/help/): what is sent, why a payment is blocked and how to fix each reason, what
the states mean. Open to every signed-in user, whatever their role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from syncapp.dashboard import guide
from syncapp.sync.models import PaymentState


def how_it_works(request: HttpRequest) -> HttpResponse:
    groups = [
        {
            "key": key,
            "title": title,
            "intro": intro,
            "reasons": guide.reasons_of(key),
        }
        for key, (title, intro) in guide.REASON_GROUPS.items()
    ]
    states = [{"code": code, "label": PaymentState(code).label, "means": means} for code, means in guide.STATES]
    return render(request, "dashboard/help.html", {"groups": groups, "states": states})
