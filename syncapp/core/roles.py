"""The two roles: Finance (view, run sync, download) and Admin (everything).

Roles are Django groups created by a data migration; superusers count as Admin.
"""

from functools import wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q

FINANCE = "Finance"
ADMIN = "Admin"


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.groups.filter(name=ADMIN).exists())


def is_finance(user) -> bool:
    """Finance rights: view, run a sync, download. Admins have them too."""
    return user.is_authenticated and (
        is_admin(user) or user.groups.filter(name=FINANCE).exists()
    )


def admin_required(view):
    """Refuse a view to anyone but an Admin, on the server, whatever the page showed."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            # The 403 page shows this reason, with the names of the Admins to ask.
            what = "open this page" if request.method in ("GET", "HEAD") else "do this"
            raise PermissionDenied(f"Only Admins can {what}.")
        return view(request, *args, **kwargs)

    return wrapper


def finance_required(view):
    """Refuse a view to logged-in users who hold neither role."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_finance(request.user):
            raise PermissionDenied("You need the Finance or Admin role to use this site.")
        return view(request, *args, **kwargs)

    return wrapper


def admin_names(limit: int = 5) -> list[str]:
    """Who to ask for an Admin's help: names only (full name, else username), never addresses."""
    admins = (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=ADMIN), is_active=True)
        .distinct()
        .order_by("username")[:limit]
    )
    return [user.get_full_name() or user.get_username() for user in admins]
