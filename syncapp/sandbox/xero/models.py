"""The simulated Xero: organisations, supplier contacts, bills, payments, and its OAuth server.

Fields mirror the Accounting API objects (see tests/specs/xero/xero_accounting.yaml); the API
views turn rows into Xero's JSON. Ids are UUIDs as in Xero.
"""

import uuid

from django.db import models


class Organisation(models.Model):
    tenant_id = models.UUIDField(default=uuid.uuid4, unique=True)  # also the OrganisationID
    name = models.CharField(max_length=255)
    short_code = models.CharField(max_length=20, blank=True)
    base_currency = models.CharField(max_length=3, default="AUD")
    country_code = models.CharField(max_length=2, default="AU")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="contacts")
    contact_id = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=255)
    contact_number = models.CharField(max_length=50, blank=True)
    account_number = models.CharField(max_length=50, blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    email = models.CharField(max_length=255, blank=True)
    is_supplier = models.BooleanField(default=True)
    is_customer = models.BooleanField(default=False)
    status = models.CharField(max_length=20, default="ACTIVE")  # ACTIVE | ARCHIVED | GDPRREQUEST
    merged_to_contact_id = models.UUIDField(null=True, blank=True)
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="xero_contact_name_unique")]

    def __str__(self) -> str:
        return self.name


class Invoice(models.Model):
    """A bill (ACCPAY) or sales invoice (ACCREC)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invoices")
    invoice_id = models.UUIDField(default=uuid.uuid4, unique=True)
    type = models.CharField(max_length=10, default="ACCPAY")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invoices")
    invoice_number = models.CharField(max_length=255, blank=True)  # the supplier's number, not unique
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, default="AUTHORISED")
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency_code = models.CharField(max_length=3, default="AUD")
    currency_rate = models.DecimalField(max_digits=18, decimal_places=6, default=1)
    line_amount_types = models.CharField(max_length=20, default="Exclusive")
    sub_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total_tax = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    amount_due = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # [{"Description", "Quantity", "UnitAmount", "AccountCode", "LineAmount",
    #   "Tracking": [{"Name", "Option", "TrackingCategoryID"}]}]
    line_items = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "type", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.invoice_number}"


class Payment(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="payments")
    payment_id = models.UUIDField(default=uuid.uuid4, unique=True)
    # Bill payments point at an invoice; credit-note refunds, prepayments and overpayments do not.
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="payments")
    # For payment types that are not on an invoice: the embedded object Xero returns instead
    # (e.g. {"CreditNote": {...}} or {"Prepayment": {...}}).
    other_document = models.JSONField(null=True, blank=True)
    payment_type = models.CharField(max_length=30, default="ACCPAYPAYMENT")
    status = models.CharField(max_length=20, default="AUTHORISED")  # AUTHORISED | DELETED
    date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    bank_amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency_rate = models.DecimalField(max_digits=18, decimal_places=6, default=1)
    reference = models.CharField(max_length=255, blank=True)
    is_reconciled = models.BooleanField(default=False)
    batch_payment_id = models.UUIDField(null=True, blank=True)
    account_id = models.UUIDField(default=uuid.uuid4)
    account_code = models.CharField(max_length=20, default="090")
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "updated_at"]),
            models.Index(fields=["organisation", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.payment_type} {self.amount} ({self.status})"


# --- The identity server ---------------------------------------------------------------


class OAuthClient(models.Model):
    """An app registered with the sandbox Xero. `client_credentials` apps are custom connections
    tied to one organisation."""

    client_id = models.CharField(max_length=100, unique=True)
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=100, default="Sandbox app")
    redirect_uris = models.JSONField(default=list, blank=True)
    custom_connection_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=100, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    redirect_uri = models.CharField(max_length=500)
    scope = models.CharField(max_length=1000)
    code_challenge = models.CharField(max_length=200, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    organisations = models.ManyToManyField(Organisation)
    # The consent that made this code; its tokens and connections share it (GET /connections).
    auth_event_id = models.UUIDField(default=uuid.uuid4)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)


class Token(models.Model):
    """An access token and, for code grants with offline_access, its refresh token.

    Refresh rotates: the old refresh token is marked `rotated_at` and dies at once. (Xero lets a
    lost refresh response be retried with the old token for 30 minutes; the sandbox is stricter on
    purpose, so a client that saves the new pair before using it is proven safe either way.)
    """

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    access_token = models.CharField(max_length=200, unique=True)
    refresh_token = models.CharField(max_length=200, unique=True, null=True, blank=True)
    scope = models.CharField(max_length=1000)
    organisations = models.ManyToManyField(Organisation)
    auth_event_id = models.UUIDField(default=uuid.uuid4)
    expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class TenantConnection(models.Model):
    """A row of GET /connections: an app's access to one organisation (deleted on disconnect)."""

    connection_id = models.UUIDField(default=uuid.uuid4, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    auth_event_id = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "organisation"], name="xero_one_connection_per_org")
        ]
