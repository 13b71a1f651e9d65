"""The two roles: Finance (view, run sync, download) and Admin (everything).

Roles are Django groups created by a data migration; superusers count as Admin.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied

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
            raise PermissionDenied("Only Admins may do this.")
        return view(request, *args, **kwargs)

    return wrapper


def finance_required(view):
    """Refuse a view to logged-in users who hold neither role."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_finance(request.user):
            raise PermissionDenied("You need the Finance or Admin role.")
        return view(request, *args, **kwargs)

    return wrapper
