"""The simulated Procore REST API (`/rest/v1.0/...`, `/rest/v1.1/...`) under PROCORE_API_URL.

Every call goes through `procore_api`: count it against the rate limits (failed calls count too),
apply the fault switches, check the bearer token, then, for company-scoped calls, the
`Procore-Company-Id` header, the user's membership and the app's installation. Lists page with
`page`/`per_page` and answer `Total`, `Per-Page` and `Link` headers as Procore does.

Contract payments follow Procore's rules that matter for exactly-once delivery: no filter on
origin_id in the list, an origin_id is owned by one payment only (409 on a clash; a switch,
`Company.unique_payment_origin`, since real Procore's answer is unverified), a payment with
origin_id is locked (PATCH may change origin_id, origin_data and attachments only), and the
`commit_then_fail` switch creates and commits a payment before failing the answer.

Per-project refusals (`Project.refused_tools`) and deleted commitments (`Commitment.deleted_at`)
follow Procore's documented access rules; see `_refuse_project` and `_live_commitments`.

Reads that follow the change: `filters[updated_at]` on the lists that document it (projects,
vendors, work order and purchase order contracts, v1.1 requisitions; not the generic commitments
list) and `filters[vendor_id]` on projects, as `procore.filters` reads them. Every row's
`updated_at` moves whenever the sandbox saves it (auto_now); writing one row never touches
another (a new payment leaves its commitment and invoice as they were: the docs say nothing of it).
"""

import datetime as dt
import json
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial, wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from syncapp.sandbox.conf import SandboxConf
from syncapp.sandbox.faults import (
    behaviour,
    chance,
    injected_fault,
    payment_rejection,
    projects_vendor_filter,
    service_accounts_need_company_header,
)
from syncapp.sandbox.models import Behaviour, CommitThenFail
from syncapp.sandbox.procore import filters, payloads
from syncapp.sandbox.procore.models import (
    Commitment,
    Company,
    ContractPayment,
    OAuthClient,
    Project,
    Requisition,
    Token,
    User,
    Vendor,
)
from syncapp.sandbox.procore.ratelimit import RateState, count_call

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
THROTTLED_MESSAGE = "You have surpassed the max number of requests for an hour. Please wait until your limit resets."
NOT_CONNECTED = "App is not connected to this company"


class ApiError(Exception):
    """An error answer: raised anywhere below a view, rendered by `procore_api`."""

    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = JsonResponse({"errors": self.errors}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def not_found() -> ApiError:
    return ApiError(404, "404 Not Found")


@dataclass
class Caller:
    """Who is calling: the token's user and app, and the company named by Procore-Company-Id."""

    token: Token
    user: User
    client: OAuthClient
    company: Company | None = None


# --- The gate every API call passes ----------------------------------------------------------


def _presented_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def _rate_key(request: HttpRequest, token: Token | None) -> str:
    if token is not None:
        return f"app:{token.client_id}:user:{token.user_id}"
    # Unauthenticated calls still count; they share one bucket per remote address.
    return f"anonymous:{request.META.get('REMOTE_ADDR', '')}"


def _throttled(state: RateState) -> JsonResponse:
    response = JsonResponse({"errors": THROTTLED_MESSAGE}, status=429)
    for name, value in state.throttled_headers().items():  # no Retry-After by default: ratelimit.py
        response[name] = value
    return response


def _unauthorized(description: str) -> ApiError:
    return ApiError(
        401,
        "401 Unauthorized",
        {"WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{description}"'},
    )


def _authenticate(token: Token | None, current: Behaviour) -> Caller:
    if token is None:
        raise _unauthorized("The access token is invalid")
    if token.revoked:
        raise _unauthorized("The access token was revoked")
    if current.expire_tokens or token.expires_at <= timezone.now():
        raise _unauthorized("The access token expired")
    return Caller(token=token, user=token.user, client=token.client)


def company_access(caller: Caller, company_id: int) -> Company:
    """The company, if this user belongs to it and this app is installed there."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None or not company.users.filter(pk=caller.user.pk).exists():
        raise ApiError(403, "You do not have access to this company")
    if not caller.client.installed_in.filter(pk=company.pk).exists():
        raise ApiError(403, NOT_CONNECTED)
    return company


def _header_company(request: HttpRequest, caller: Caller) -> Company:
    raw = request.headers.get("Procore-Company-Id", "").strip()
    if not raw:
        raise ApiError(400, "Procore-Company-Id header is required")
    if not raw.isdigit():
        raise ApiError(400, "Procore-Company-Id header must be an integer company id")
    return company_access(caller, int(raw))


def procore_api(*, company_scoped: bool = True) -> Callable:
    """Wrap a view `view(request, caller, **kwargs) -> HttpResponse` with Procore's gate."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_not_required
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            current = behaviour("procore")
            presented = _presented_token(request)
            token = (
                Token.objects.select_related("user", "client").filter(access_token=presented).first()
                if presented
                else None
            )
            state = count_call(
                key=_rate_key(request, token),
                hourly_limit=current.hourly_limit,
                spike_limit=current.spike_limit,
                spike_window=current.spike_window_seconds,
            )
            if state.exceeded:
                return _throttled(state)

            def injected_429() -> HttpResponse:
                window = max(current.spike_window_seconds, 1)
                return _throttled(RateState(current.spike_limit, 0, math.ceil(time.time() + window), True, window))

            response = injected_fault(current, throttled=injected_429)
            if response is None:
                try:
                    caller = _authenticate(token, current)
                    if company_scoped:
                        caller.company = _header_company(request, caller)
                    response = view(request, caller, *args, **kwargs)
                except ApiError as error:
                    response = error.response()
            for name, value in state.headers().items():
                if name not in response:
                    response[name] = value
            return response

        return wrapper

    return decorator


# --- Request helpers ---------------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str, *, required: bool = True) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    if not raw.isdigit():
        raise ApiError(400, f"{name} must be an integer")
    return int(raw)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as error:
        raise ApiError(400, "The request body is not valid JSON") from error
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return data


def _body_int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or value in (None, ""):
        raise ApiError(400, f"{name} is required")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ApiError(400, f"{name} must be an integer")


def _company_param(request: HttpRequest, caller: Caller) -> Company:
    company_id = _int_param(request, "company_id")
    if company_id == caller.company.pk:
        return caller.company
    return company_access(caller, company_id)


# What `Project.refused_tools` names, and what Procore's 403 says for each. Procore documents
# the causes, not the body (api_essentials/troubleshooting.md: "403: Resource outside access
# scope" - the user is not in the project's directory, or the project is not among a service
# account's permitted projects; "403: Tool disabled in the project"; error_reference.md: 403 when
# "the tool is disabled in the project"). The body is this sandbox's usual {"errors": text}, worded
# so that nothing in it reads as "the app is not connected" (a company-wide 403).
PROJECT = "project"
COMMITMENTS = "commitments"
INVOICING = "invoicing"
_REFUSALS = {
    PROJECT: "You do not have access to this project",
    COMMITMENTS: "You do not have permission to the Commitments tool on this project, or it is turned off",
    INVOICING: "You do not have permission to the Invoicing tool on this project, or it is turned off",
}


def refused_tools(project: Project) -> set[str]:
    return {part.strip().lower() for part in project.refused_tools.split(",") if part.strip()}


def _refuse_project(project: Project, tool: str | None) -> None:
    """403 when the caller may not use `tool` on the project, or the project at all."""
    refused = refused_tools(project)
    if PROJECT in refused:
        raise ApiError(403, _REFUSALS[PROJECT])
    if tool is not None and tool in refused:
        raise ApiError(403, _REFUSALS[tool])


def _project(caller: Caller, project_id: int | None, tool: str | None = None) -> Project:
    project = Project.objects.select_related("company").filter(pk=project_id, company=caller.company).first()
    if project is None:
        raise not_found()
    _refuse_project(project, tool)
    return project


def _filtered(apply: Callable[[], QuerySet]) -> QuerySet:
    """Run a `procore.filters` narrowing; a value it refuses is Procore's 400 ("invalid parameter
    values", Error Code Reference), in this sandbox's usual {"errors": text} body."""
    try:
        return apply()
    except filters.FilterError as error:
        raise ApiError(400, str(error)) from error


def _updated_within(request: HttpRequest, rows: QuerySet) -> QuerySet:
    return _filtered(lambda: filters.updated_within(rows, request.GET.get("filters[updated_at]")))


def _method_not_allowed(*allowed: str) -> HttpResponse:
    response = JsonResponse({"errors": "405 Method Not Allowed"}, status=405)
    response["Allow"] = ", ".join(allowed)
    return response


def paginate(request: HttpRequest, rows: QuerySet | Sequence, render: Callable[[Any], dict]) -> JsonResponse:
    """One page of `rows` with Procore's paging headers (Total, Per-Page, Link)."""
    try:
        per_page = min(max(int(request.GET.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
    except ValueError:
        per_page = DEFAULT_PER_PAGE
    try:
        page = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page = 1
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    last = max(math.ceil(total / per_page), 1)
    start = (page - 1) * per_page
    response = JsonResponse([render(row) for row in rows[start : start + per_page]], safe=False)
    response["Total"] = str(total)
    response["Per-Page"] = str(per_page)

    def link(to_page: int, rel: str) -> str:
        query = request.GET.copy()
        query["page"] = str(to_page)
        query["per_page"] = str(per_page)
        return f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="{rel}"'

    links = [link(1, "first")]
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links.append(link(page + 1, "next"))
    links.append(link(last, "last"))
    response["Link"] = ", ".join(links)
    return response


# --- Who am I, companies, projects ----------------------------------------------------------------


def _service_account(caller: Caller) -> bool:
    """A Developer Managed Service Account: the client_credentials grant (no refresh token)."""
    return caller.user.is_service_account and not caller.token.refresh_token


@procore_api(company_scoped=False)
def me(request: HttpRequest, caller: Caller) -> HttpResponse:
    # RestV10MeGet: the header is not required "unless a company_id or project_id parameter is
    # also included"; a service account in Multiple Procore Regions must always send it (faults).
    if (
        request.GET.get("company_id")
        or request.GET.get("project_id")
        or (_service_account(caller) and service_accounts_need_company_header())
    ):
        caller.company = _header_company(request, caller)
    return JsonResponse(payloads.user_json(caller.user))


@procore_api(company_scoped=False)
def companies(request: HttpRequest, caller: Caller) -> HttpResponse:
    # RestV10CompaniesGet: no header needed, except from a service account in Multiple Procore
    # Regions (oauth/oauth_client_credentials.md; a switch, see faults).
    if _service_account(caller) and service_accounts_need_company_header():
        caller.company = _header_company(request, caller)
    rows = caller.user.companies.order_by("name", "pk")
    first = rows.first()
    return paginate(request, rows, lambda c: payloads.company_json(c, mine=first is not None and c.pk == first.pk))


@procore_api()
def projects(request: HttpRequest, caller: Caller) -> HttpResponse:
    company = _company_param(request, caller)
    rows = Project.objects.select_related("company").filter(company=company).order_by("name", "pk")
    status = request.GET.get("filters[by_status]", "Active")
    if status == "Active":
        rows = rows.filter(active=True)
    elif status == "Inactive":
        rows = rows.filter(active=False)
    if origin_id := request.GET.get("filters[origin_id]"):
        rows = rows.filter(origin_id=origin_id)
    rows = _updated_within(request, rows)
    # RestV10ProjectsGet filters[vendor_id]: its meaning is unverified, a switch (procore.filters).
    vendor_id = request.GET.get("filters[vendor_id]")
    rows = _filtered(lambda: filters.projects_of_vendor(rows, vendor_id, mode=projects_vendor_filter()))
    # RestV10ProjectsGet: a user without full company admin permissions gets "only the projects
    # that the user has been added to": a project refused as a whole is not listed at all.
    hidden = [p.pk for p in rows.exclude(refused_tools="") if PROJECT in refused_tools(p)]
    if hidden:
        rows = rows.exclude(pk__in=hidden)
    return paginate(request, rows, payloads.project_json)


@procore_api()
def project_detail(request: HttpRequest, caller: Caller, project_id: int) -> HttpResponse:
    company = _company_param(request, caller)
    project = Project.objects.select_related("company").filter(pk=project_id, company=company).first()
    if project is None:
        raise not_found()
    _refuse_project(project, None)
    return JsonResponse(payloads.project_json(project))


# --- Vendors ---------------------------------------------------------------------------------------


@procore_api()
def vendors(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _create_vendor(request, caller)
    if request.method != "GET":
        return _method_not_allowed("GET", "POST")
    company = _company_param(request, caller)
    rows = Vendor.objects.select_related("company").filter(company=company).order_by("name", "pk")
    if origin_id := request.GET.get("filters[origin_id]"):
        rows = rows.filter(origin_id=origin_id)
    if search := request.GET.get("filters[search]", "").strip():
        rows = rows.filter(
            Q(name__icontains=search)
            | Q(abbreviated_name__icontains=search)
            | Q(origin_code__icontains=search)
            | Q(business_id__icontains=search)
            | Q(business_id__icontains=re.sub(r"\s+", "", search))
        )
    rows = _updated_within(request, rows)
    return paginate(request, rows, payloads.vendor_json)


_VENDOR_TEXT_FIELDS = ("name", "abbreviated_name", "origin_id", "origin_code", "origin_data", "email_address")


def _create_vendor(request: HttpRequest, caller: Caller) -> HttpResponse:
    data = _json_body(request)
    company_id = _body_int(data, "company_id")
    company = caller.company if company_id == caller.company.pk else company_access(caller, company_id)
    fields = data.get("vendor")
    if not isinstance(fields, dict):
        raise ApiError(400, "vendor is required")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in _VENDOR_TEXT_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.setdefault(name, []).append("must be a string")
        elif len(value) > 255:
            errors.setdefault(name, []).append("is too long (maximum is 255 characters)")
        else:
            values[name] = value.strip() if name == "name" else value
    if not values.get("name"):
        errors.setdefault("name", []).append("can't be blank")
    # RestV10VendorsPost's request body documents no business id (ABN/EIN): like any attribute it
    # does not list, it is ignored, so a vendor created over the API has none.
    if isinstance(fields.get("is_active"), bool):
        values["is_active"] = fields["is_active"]
    if errors:
        raise ApiError(422, errors)
    vendor = Vendor.objects.create(company=company, **values)
    return JsonResponse(payloads.vendor_json(vendor), status=201)


@procore_api()
def vendor_detail(request: HttpRequest, caller: Caller, vendor_id: int) -> HttpResponse:
    company = _company_param(request, caller)
    vendor = Vendor.objects.select_related("company").filter(pk=vendor_id, company=company).first()
    if vendor is None:
        raise not_found()
    return JsonResponse(payloads.vendor_json(vendor))


# --- Commitments -----------------------------------------------------------------------------------


# RestV10WorkOrderContractsGet / RestV10PurchaseOrderContractsGet, filters[include_deleted]: "Use
# 'only' for only deleted resources. Use 'with' for deleted and undeleted resources." Without it a
# deleted commitment is not listed. The generic RestV10CommitmentsGet documents no filters: it
# never lists deleted ones. A deleted commitment's show answers 404 (it is gone for the caller).
INCLUDE_DELETED = ("only", "with")


def _live_commitments(request: HttpRequest, rows: QuerySet, *, filterable: bool) -> QuerySet:
    include = request.GET.get("filters[include_deleted]", "").strip() if filterable else ""
    if include and include not in INCLUDE_DELETED:
        raise ApiError(400, "filters[include_deleted] must be one of: only, with")
    if include == "only":
        return rows.filter(deleted_at__isnull=False)
    if include == "with":
        return rows
    return rows.filter(deleted_at__isnull=True)


def _commitments(request: HttpRequest, caller: Caller, kind: str | None) -> HttpResponse:
    project = _project(caller, _int_param(request, "project_id"), COMMITMENTS)
    rows = (
        Commitment.objects.select_related("vendor", "project__company")
        .filter(project=project)
        .order_by("number", "pk")
    )
    rows = _live_commitments(request, rows, filterable=kind is not None)
    if kind:
        rows = rows.filter(kind=kind)
        # Documented on the work order and purchase order lists only: the generic
        # RestV10CommitmentsGet lists no filters, so there it is ignored like any unknown parameter.
        rows = _updated_within(request, rows)
    if status := request.GET.get("filters[status]"):
        rows = rows.filter(status=status)
    if origin_id := request.GET.get("filters[origin_id]"):
        rows = rows.filter(origin_id=origin_id)
    return paginate(request, rows, lambda row: payloads.commitment_json(row, generic=kind is None))


def _commitment(request: HttpRequest, caller: Caller, commitment_id: int, kind: str | None) -> HttpResponse:
    project = _project(caller, _int_param(request, "project_id"), COMMITMENTS)
    rows = Commitment.objects.select_related("vendor", "project__company").filter(
        pk=commitment_id, project=project, deleted_at__isnull=True
    )
    if kind:
        rows = rows.filter(kind=kind)
    commitment = rows.first()
    if commitment is None:
        raise not_found()
    return JsonResponse(payloads.commitment_json(commitment, detail=True, generic=kind is None))


@procore_api()
def work_order_contracts(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _commitments(request, caller, Commitment.WORK_ORDER)


@procore_api()
def work_order_contract(request: HttpRequest, caller: Caller, commitment_id: int) -> HttpResponse:
    return _commitment(request, caller, commitment_id, Commitment.WORK_ORDER)


@procore_api()
def purchase_order_contracts(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _commitments(request, caller, Commitment.PURCHASE_ORDER)


@procore_api()
def purchase_order_contract(request: HttpRequest, caller: Caller, commitment_id: int) -> HttpResponse:
    return _commitment(request, caller, commitment_id, Commitment.PURCHASE_ORDER)


@procore_api()
def commitments(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _commitments(request, caller, None)


@procore_api()
def commitment(request: HttpRequest, caller: Caller, commitment_id: int) -> HttpResponse:
    return _commitment(request, caller, commitment_id, None)


# --- Requisitions (subcontractor invoices), v1.1 -------------------------------------------------------


def _requisitions(caller: Caller, request: HttpRequest) -> QuerySet:
    project = _project(caller, _int_param(request, "project_id"), INVOICING)
    return Requisition.objects.select_related("commitment__vendor", "project__company").filter(project=project)


@procore_api()
def requisitions(request: HttpRequest, caller: Caller) -> HttpResponse:
    rows = _requisitions(caller, request).order_by("commitment__number", "number", "pk")
    if commitment_id := request.GET.get("filters[commitment_id]"):
        if not commitment_id.isdigit():
            raise ApiError(400, "filters[commitment_id] must be an integer")
        rows = rows.filter(commitment_id=int(commitment_id))
    if status := request.GET.get("filters[status]"):
        rows = rows.filter(status=status)
    if origin_id := request.GET.get("filters[origin_id]"):
        rows = rows.filter(origin_id=origin_id)
    rows = _updated_within(request, rows)
    return paginate(request, rows, payloads.requisition_json)


@procore_api()
def requisition(request: HttpRequest, caller: Caller, requisition_id: int) -> HttpResponse:
    row = _requisitions(caller, request).filter(pk=requisition_id).first()
    if row is None:
        raise not_found()
    return JsonResponse(payloads.requisition_json(row))


# --- Contract payments (payments issued) ---------------------------------------------------------------

PAYMENT_METHODS = ("check", "credit_card", "electronic")
# What PATCH may still change once a payment carries an origin_id (Procore locks the rest).
UNLOCKED_FIELDS = {"origin_id", "origin_data", "attachments", "prostore_file_ids"}
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What the record's columns store (max_length), and the stricter reading's limit on the free-text
# fields, which the spec gives no length.
_STORED_TEXT = {"invoice_number": 255, "check_number": 255, "origin_id": 255}
_FREE_TEXT = {"notes": 10_000, "origin_data": 10_000}


def _strict() -> bool:
    """SANDBOX_PROCORE_PAYMENT_CHECKS (sandbox/conf.py): the checks the spec does not state apply."""
    return SandboxConf.SANDBOX_PROCORE_PAYMENT_CHECKS != "documented"


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class _Refused(Exception):
    """One field's Rails-style error message; `clean_payment_fields` files it under the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _blank(value: Any) -> bool:
    return value in (None, "")


def _required_date(value: Any) -> dt.date:
    if _blank(value):
        raise _Refused("can't be blank")
    return _optional_date(value)


def _optional_date(value: Any) -> dt.date | None:
    if _blank(value):
        return None
    parsed = _parse_date(value)
    if parsed is None:
        raise _Refused("must be a valid date (YYYY-MM-DD)")
    return parsed


def _amount(value: Any) -> Decimal:
    # The spec types amount as a string (RestV10ContractPaymentsPost), and the record stores a
    # number; positive and at most two decimal places: stricter reading (the spec is silent).
    if _blank(value):
        raise _Refused("can't be blank")
    if not isinstance(value, str):
        raise _Refused('must be sent as a string, e.g. "1250.00"')
    if not _strict():
        return _stored_amount(value.strip())
    if not _AMOUNT.match(value.strip()):
        raise _Refused("must be a positive number with at most two decimal places")
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        amount = Decimal(0)
    if amount <= 0:
        raise _Refused("must be greater than 0")
    return amount


def _stored_amount(text: str) -> Decimal:
    """Any number the record's column (14 digits, 2 decimals) holds, rounded to the cent as
    PostgreSQL's numeric rounds (half away from zero)."""
    try:
        amount = Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise _Refused("is not a number") from None
    if not amount.is_finite() or abs(amount) >= 10**12:
        raise _Refused("is not a number")
    return amount


def _payment_method(value: Any) -> str:
    # The spec's enum for payment_method.
    if _blank(value):
        return ""
    if value not in PAYMENT_METHODS:
        raise _Refused(f"is not included in the list ({', '.join(PAYMENT_METHODS)})")
    return value


def _integer(value: Any) -> int | None:
    # "type": "integer" in the spec; the 32-bit range: what the record's integer column holds.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused("must be an integer")
    if not -(2**31) <= value < 2**31:
        raise _Refused("is out of range")
    return value


def _text(limit: int, *, stored: bool) -> Callable[[Any], str]:
    # A string in the spec; the column's length (`stored`), or the stricter reading's limit.
    def clean(value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise _Refused("must be a string")
        if len(value) > limit and (stored or _strict()):
            raise _Refused(f"is too long (maximum is {limit} characters)")
        return value

    return clean


def _requisition(value: Any, *, project: Project, commitment: Commitment) -> Requisition | None:
    # "Subcontractor requisition ID" in the spec (the record links one that exists); on the
    # payment's project and commitment: stricter reading.
    if _blank(value):
        return None
    found = None
    if isinstance(value, int) and not isinstance(value, bool):
        found = Requisition.objects.filter(pk=value, **({"project": project} if _strict() else {})).first()
    if found is None:
        raise _Refused("does not match a subcontractor invoice on this project")
    if found.commitment_id != commitment.pk and _strict():
        raise _Refused("belongs to another commitment than contract_id")
    return found


# The `contract_payment` properties the sandbox reads, in the order errors are reported; properties
# not listed are ignored. Documented (RestV10ContractPaymentsPost's request body): each property's
# type, `date`'s format, `payment_method`'s enum. Not documented (the spec lists no required
# property of `contract_payment`, no length, range or amount rule, and no 422 body): what the record
# cannot store without (a date, a number for amount, 32-bit integers, column lengths) is refused in
# every mode; the rest is the sandbox's stricter reading, marked so below and on by default
# (SANDBOX_PROCORE_PAYMENT_CHECKS=documented leaves it out; README, "The sandbox").
# requisition_id is added per call: it is looked up on the payment's project and commitment.
_PAYMENT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "date": _required_date,
    "amount": _amount,
    "invoice_date": _optional_date,
    "payment_method": _payment_method,
    "payment_number": _integer,
    "draw_request_number": _integer,
    **{name: _text(limit, stored=True) for name, limit in _STORED_TEXT.items()},
    **{name: _text(limit, stored=False) for name, limit in _FREE_TEXT.items()},
}
# Blank on create when left out; an update leaves them as they are. The spec requires only
# project_id and contract_id; the record cannot be stored without these two.
_REQUIRED_ON_CREATE = {"date", "amount"}


def clean_payment_fields(
    fields: dict[str, Any], *, project: Project, commitment: Commitment, creating: bool
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate the `contract_payment` object: model values, and Rails-style errors per field."""
    cleaners = {
        **_PAYMENT_FIELDS,
        "requisition_id": partial(_requisition, project=project, commitment=commitment),
    }
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, clean in cleaners.items():
        if name not in fields and not (creating and name in _REQUIRED_ON_CREATE):
            continue
        try:
            value = clean(fields.get(name))
        except _Refused as refused:
            errors[name] = [refused.message]
        else:
            values["requisition" if name == "requisition_id" else name] = value
    return values, errors


def _payment_target(caller: Caller, data: dict[str, Any]) -> tuple[Project, Commitment]:
    project = _project(caller, _body_int(data, "project_id"), COMMITMENTS)
    contract_id = _body_int(data, "contract_id")
    commitment = Commitment.objects.filter(pk=contract_id, project=project, deleted_at__isnull=True).first()
    if commitment is None:
        raise ApiError(422, {"contract_id": ["does not match a commitment on this project"]})
    return project, commitment


# Serialises "is the origin_id free? then write" across the server's threads; the company row's
# lock (select_for_update) does the same across processes on PostgreSQL, and SQLite's IMMEDIATE
# transactions take the write lock at BEGIN.
_origin_lock = threading.Lock()


def _origin_taken(origin_id: str, *, exclude: int | None = None) -> bool:
    rows = ContractPayment.objects.filter(origin_id=origin_id)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return bool(origin_id) and rows.exists()


def _write_payment(company: Company, payment: ContractPayment, origin_id: str) -> None:
    """Save the payment; with the company's uniqueness switch on, refuse a taken origin_id (409),
    checked and written under one lock so two racing creates cannot both pass."""
    with _origin_lock, transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.unique_payment_origin and _origin_taken(origin_id, exclude=payment.pk):
            raise _origin_conflict()
        payment.save()


def _origin_conflict() -> ApiError:
    return ApiError(409, {"origin_id": ["has already been taken"]})


@procore_api()
def contract_payments(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _create_payment(request, caller)
    if request.method != "GET":
        return _method_not_allowed("GET", "POST")
    # Procore: both are required, and there is no filter on origin_id.
    project_id = _int_param(request, "project_id")
    contract_id = _int_param(request, "contract_id")
    project = _project(caller, project_id, COMMITMENTS)
    rows = ContractPayment.objects.filter(project=project, commitment_id=contract_id).order_by("date", "created_at")
    return paginate(request, rows, payloads.payment_json)


def _create_payment(request: HttpRequest, caller: Caller) -> HttpResponse:
    data = _json_body(request)
    project, commitment = _payment_target(caller, data)
    fields = data.get("contract_payment")
    if not isinstance(fields, dict):
        raise ApiError(400, "contract_payment is required")
    values, errors = clean_payment_fields(fields, project=project, commitment=commitment, creating=True)
    if errors:
        raise ApiError(422, errors)
    rejection = payment_rejection()  # the 422-shape switch (faults.PAYMENT_422_BODIES)
    if rejection is not None:
        return rejection
    payment = ContractPayment(project=project, commitment=commitment, **values)
    _write_payment(caller.company, payment, values.get("origin_id", ""))
    return _after_commit(JsonResponse(payloads.payment_json(payment), status=201))


def _after_commit(response: JsonResponse) -> HttpResponse:
    """The payment is committed; the `commit_then_fail` switch may still lose the answer."""
    current = behaviour("procore")
    if not current.commit_then_fail or not chance(current.commit_then_fail_rate):
        return response
    if current.commit_then_fail == CommitThenFail.TIMEOUT:
        time.sleep(current.hang_seconds)  # the client has given up long before this
        return response
    return JsonResponse({"errors": "Internal Server Error"}, status=500)


def _payment(
    caller: Caller, request: HttpRequest, payment_id: int, data: dict[str, Any] | None = None
) -> ContractPayment:
    raw_project = (data or {}).get("project_id") or request.GET.get("project_id")
    if raw_project in (None, ""):
        raise ApiError(400, "project_id is required")
    project = _project(caller, _body_int({"project_id": raw_project}, "project_id"), COMMITMENTS)
    payment = ContractPayment.objects.filter(pk=payment_id, project=project).first()
    raw_contract = (data or {}).get("contract_id") or request.GET.get("contract_id")
    if payment is None or (raw_contract not in (None, "") and str(raw_contract) != str(payment.commitment_id)):
        raise not_found()
    return payment


@procore_api()
def contract_payment(request: HttpRequest, caller: Caller, payment_id: int) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse(payloads.payment_json(_payment(caller, request, payment_id)))
    if request.method == "PATCH":
        return _update_payment(request, caller, payment_id)
    if request.method == "DELETE":
        payment = _payment(caller, request, payment_id)
        if payment.origin_id and caller.company.refuse_delete_with_origin:
            raise ApiError(422, {"base": ["This payment is synced with an ERP system and cannot be deleted"]})
        payment.delete()
        return HttpResponse(status=204)
    return _method_not_allowed("GET", "PATCH", "DELETE")


def _update_payment(request: HttpRequest, caller: Caller, payment_id: int) -> HttpResponse:
    data = _json_body(request)
    payment = _payment(caller, request, payment_id, data)
    fields = data.get("contract_payment")
    if not isinstance(fields, dict):
        raise ApiError(400, "contract_payment is required")
    if payment.origin_id:
        locked = sorted(set(fields) - UNLOCKED_FIELDS)
        if locked:
            raise ApiError(
                422,
                {
                    name: [
                        "is locked: the payment is synced with an ERP system (only origin_id, origin_data "
                        "and attachments can change)"
                    ]
                    for name in locked
                },
            )
    values, errors = clean_payment_fields(
        fields, project=payment.project, commitment=payment.commitment, creating=False
    )
    if errors:
        raise ApiError(422, errors)
    for name, value in values.items():
        setattr(payment, name, value)
    _write_payment(caller.company, payment, values.get("origin_id", ""))
    return JsonResponse(payloads.payment_json(payment))
