"""Xero webhook events as received, and each integration's pending hand-off to a run.

An event is kept until a targeted run has taken its bill (`consumed_by_run`), so nothing a delivery
said is lost while a run is going or a worker is down. Xero may send an event more than once (it
retries a delivery that got no 200 for up to 24 hours: https://developer.xero.com/documentation/
webhooks/configuring-your-server), so an event is unique on what identifies it.
"""

from django.db import models

from syncapp.connections.models import Integration


class XeroWebhookEvent(models.Model):
    """One INVOICE event of a signed delivery, for an organisation connected to an integration."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    # The event's own fields (https://developer.xero.com/documentation/webhooks/overview).
    tenant_id = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64)  # the InvoiceID
    event_category = models.CharField(max_length=20)
    event_type = models.CharField(max_length=20)  # CREATE | UPDATE
    event_date = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    # The targeted run that took this event's bill; None while it waits for one.
    consumed_by_run = models.ForeignKey(
        "sync.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "tenant_id", "resource_id", "event_type", "event_date"],
                name="webhooks_event_once",
            )
        ]
        indexes = [models.Index(fields=["integration", "consumed_at", "received_at"], name="webhooks_event_waiting")]


class WebhookDispatch(models.Model):
    """Whether a task that turns an integration's waiting events into a run is on its way.

    The first event of a burst arms it (a conditional UPDATE, so one task per burst); the task
    disarms it when it is done. An arming older than `services.STALE_ARMING` is taken to belong to
    a lost task (a worker that died), so the next event or run end arms it again.
    """

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="+")
    armed_at = models.DateTimeField(null=True, blank=True)
