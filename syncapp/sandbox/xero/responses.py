"""The sandbox Xero's answers that are not data: errors as Xero writes them, and JSON output.

Xero's API errors are ASP.NET problem documents (`{"Type":null,"Title":"Unauthorized",...}`);
filter errors are `QueryParseException` objects; identity errors are RFC 6749 `{"error": ...}`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.http import HttpResponse


def json_response(body: object, *, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    response["Xero-Correlation-Id"] = str(uuid.uuid4())
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem(*, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> HttpResponse:
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4()),
            "Extensions": {}}
    return json_response(body, status=status, headers=headers)


def unauthorized(*, expired: bool = False) -> HttpResponse:
    """401 for a missing, unknown, revoked or expired bearer token."""
    if expired:
        stamp = dt.datetime.now(dt.UTC).strftime("%m/%d/%Y %H:%M:%S")
        return problem(
            status=401,
            title="Unauthorized",
            detail=f"TokenExpired: token expired at {stamp}",
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="The token expired at '
                     f"'{stamp}'\""},
        )
    return problem(
        status=401,
        title="Unauthorized",
        detail="AuthenticationUnsuccessful",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def missing_scope() -> HttpResponse:
    """401 for a valid token that lacks the scope the resource needs."""
    return problem(
        status=401,
        title="Unauthorized",
        detail="AuthorizationUnsuccessful",
        headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
    )


def forbidden(*, detail: str) -> HttpResponse:
    """403: no `xero-tenant-id` (AuthenticationUnsuccessful) or one the app is not connected to
    (AuthorizationUnsuccessful)."""
    return problem(status=403, title="Forbidden", detail=detail)


def query_error(message: str) -> HttpResponse:
    return json_response({"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}, status=400)


def not_found() -> HttpResponse:
    response = HttpResponse("The resource you're looking for cannot be found", status=404,
                            content_type="text/plain; charset=utf-8")
    response["Xero-Correlation-Id"] = str(uuid.uuid4())
    return response


def too_many_requests(headers: dict[str, str]) -> HttpResponse:
    response = HttpResponse("", status=429)
    response["Xero-Correlation-Id"] = str(uuid.uuid4())
    for name, value in headers.items():
        response[name] = value
    return response


def oauth_error(code: str, *, status: int = 400) -> HttpResponse:
    return json_response({"error": code}, status=status, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
