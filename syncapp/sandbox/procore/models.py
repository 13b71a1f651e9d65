"""The simulated Procore: a company's projects, vendors, commitments, subcontractor invoices
(requisitions) and contract payments, and its OAuth server.

Ids are random 64-bit values above 2**32, as real Procore ids can be, so the product's handling
of large ids is exercised on every call.
"""

import secrets

from django.db import models


def procore_id() -> int:
    # Above 32 bits, below 2**53 so JavaScript clients would not lose precision either.
    return 2**32 + secrets.randbelow(2**52)


class Company(models.Model):
    id = models.BigIntegerField(primary_key=True, default=procore_id)
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    currency_iso_code = models.CharField(max_length=3, default="AUD")
    # Procore's financial-tools tutorial: a payment synced with an ERP system (one with origin_id)
    # "cannot be edited or deleted". On (the default, the documented reading): DELETE answers 422.
    # Off: DELETE works, for a company where it does.
    refuse_delete_with_origin = models.BooleanField(default=True)
    # Whether Procore refuses a second payment with an origin_id already taken is unverified.
    # Off (the default, the stricter reading for us): the second POST creates a duplicate, so
    # exactly-once can only rest on the product's own checks. On: 409 "has already been taken".
    unique_payment_origin = models.BooleanField(default=False)
    # Procore's multiple-currency setting (Company Admin > Currency Configuration). Off (the
    # common single-currency company): no currency anywhere in the API. On: commitments and
    # subcontractor invoices carry currency_configuration.currency_iso_code (their project's
    # `currency_iso_code` below stands for the currency set on the commitment).
    uses_currencies = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class User(models.Model):
    """A Procore login: who `/rest/v1.0/me` says the token belongs to."""

    id = models.BigIntegerField(primary_key=True, default=procore_id)
    login = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    companies = models.ManyToManyField(Company, related_name="users")
    is_service_account = models.BooleanField(default=False)


class Project(models.Model):
    id = models.BigIntegerField(primary_key=True, default=procore_id)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=255)
    project_number = models.CharField(max_length=100, blank=True)
    origin_id = models.CharField(max_length=255, blank=True)
    currency_iso_code = models.CharField(max_length=3, default="AUD")
    active = models.BooleanField(default=True)
    # Procore answers 403 for one project when the user is not in its directory or a tool is off
    # (sources: procore/api.py, beside _REFUSALS). Comma-separated: "project" (every call on the project),
    # "commitments" (the Commitments tool: commitments and their payments), "invoicing"
    # (subcontractor invoices). Empty: full access.
    refused_tools = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Vendor(models.Model):
    id = models.BigIntegerField(primary_key=True, default=procore_id)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="vendors")
    name = models.CharField(max_length=255)
    abbreviated_name = models.CharField(max_length=255, blank=True)
    origin_id = models.CharField(max_length=255, blank=True, db_index=True)
    origin_code = models.CharField(max_length=255, blank=True)
    origin_data = models.CharField(max_length=1000, blank=True)
    business_id = models.CharField(max_length=50, blank=True)  # ABN / EIN
    email_address = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Commitment(models.Model):
    """A subcontract (WorkOrderContract) or purchase order (PurchaseOrderContract)."""

    WORK_ORDER = "WorkOrderContract"
    PURCHASE_ORDER = "PurchaseOrderContract"

    id = models.BigIntegerField(primary_key=True, default=procore_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="commitments")
    kind = models.CharField(max_length=30, default=WORK_ORDER)
    number = models.CharField(max_length=100)
    title = models.CharField(max_length=255, blank=True)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="commitments")
    status = models.CharField(max_length=30, default="Approved")
    executed = models.BooleanField(default=True)
    grand_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    origin_id = models.CharField(max_length=255, blank=True)
    # Set when deleted: lists leave it out unless `filters[include_deleted]` asks (WO/PO list specs).
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Requisition(models.Model):
    """A subcontractor invoice on a commitment."""

    id = models.BigIntegerField(primary_key=True, default=procore_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="requisitions")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="requisitions")
    number = models.PositiveIntegerField()
    invoice_number = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=40, default="approved")
    origin_id = models.CharField(max_length=255, blank=True, db_index=True)
    billing_date = models.DateField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    # Amount this period, before and after retainage.
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    retainage_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class ContractPayment(models.Model):
    """A payment issued on a commitment (`/rest/v1.0/contract_payments`)."""

    id = models.BigIntegerField(primary_key=True, default=procore_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contract_payments")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="payments")
    requisition = models.ForeignKey(
        Requisition, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    invoice_number = models.CharField(max_length=255, blank=True)
    invoice_date = models.DateField(null=True, blank=True)
    check_number = models.CharField(max_length=255, blank=True)
    payment_method = models.CharField(max_length=20, blank=True)
    payment_number = models.IntegerField(null=True, blank=True)
    draw_request_number = models.IntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    origin_id = models.CharField(max_length=255, blank=True, db_index=True)
    origin_data = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # No unique constraint on origin_id: `Company.unique_payment_origin` decides, and the API
    # enforces it under a lock (see api._create_payment).


# --- The OAuth server ------------------------------------------------------------------------


class OAuthClient(models.Model):
    """An app. With `service_account` set it may use client_credentials as that Procore user."""

    client_id = models.CharField(max_length=100, unique=True)
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=100, default="Sandbox app")
    redirect_uris = models.JSONField(default=list, blank=True)
    service_account = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Companies where the app is installed; a call for another company answers 403
    # "App is not connected to this company".
    installed_in = models.ManyToManyField(Company, blank=True)


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=100, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    redirect_uri = models.CharField(max_length=500)
    code_challenge = models.CharField(max_length=200, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)


class Token(models.Model):
    """Access token (5,400 s) and single-use refresh token: a refresh kills the old one whether
    it succeeds or not."""

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    access_token = models.CharField(max_length=200, unique=True)
    refresh_token = models.CharField(max_length=200, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField()
    refresh_used = models.BooleanField(default=False)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
