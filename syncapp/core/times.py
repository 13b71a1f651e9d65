"""How the product names a moment people wait for ("until 18:05")."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def minute_by(moment: dt.datetime) -> dt.datetime:
    """`moment` in the site's local time, rounded up to the whole minute, so that "until HH:MM"
    never names a minute before it (a pause until 18:04:11 reads "until 18:05", as the client's
    "try again after" does): trying again at the named minute works."""
    local = timezone.localtime(moment)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return local
