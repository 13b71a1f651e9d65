"""Template context shared by every page."""

from syncapp.core.roles import is_admin, is_finance


def roles(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_is_admin": False, "user_is_finance": False}
    return {"user_is_admin": is_admin(user), "user_is_finance": is_finance(user)}
