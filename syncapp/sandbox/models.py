"""Run-time switches of the sandbox: rate limits and faults, one row per simulated service.

Stored in the database so a management command, a test or a benchmark can change them while the
server runs in another process or thread.
"""

from django.db import models


class Service(models.TextChoices):
    XERO = "xero", "Xero"
    PROCORE = "procore", "Procore"


class CommitThenFail(models.TextChoices):
    OFF = "", "Off"
    ERROR_500 = "500", "Create the payment, then answer 500"
    TIMEOUT = "timeout", "Create the payment, then hang past the client's timeout"


class Behaviour(models.Model):
    """How one simulated service behaves right now. `get(service)` creates the row on first use."""

    service = models.CharField(max_length=10, choices=Service.choices, unique=True)
    latency_ms = models.PositiveIntegerField(default=0, help_text="Added to every API answer.")
    error_rate = models.FloatField(default=0.0, help_text="Share of API calls answered with a 5xx (0..1).")
    throttle_rate = models.FloatField(default=0.0, help_text="Share of API calls answered with a 429 (0..1).")
    expire_tokens = models.BooleanField(default=False, help_text="Treat every access token as expired (401).")
    commit_then_fail = models.CharField(max_length=10, choices=CommitThenFail.choices, blank=True, default="")
    commit_then_fail_rate = models.FloatField(default=1.0, help_text="Share of creates hit by commit_then_fail.")
    hang_seconds = models.FloatField(default=35.0, help_text="How long a 'timeout' fault hangs.")
    # Rate limits. Xero: per organisation per minute and per day. Procore: hourly and spike window.
    minute_limit = models.PositiveIntegerField(default=60)
    day_limit = models.PositiveIntegerField(default=5000)
    hourly_limit = models.PositiveIntegerField(default=3600)
    spike_limit = models.PositiveIntegerField(default=25)
    spike_window_seconds = models.PositiveIntegerField(default=10)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.service} behaviour"

    @classmethod
    def get(cls, service: str) -> "Behaviour":
        behaviour, _ = cls.objects.get_or_create(service=service)
        return behaviour

    @classmethod
    def set(cls, service: str, **values) -> "Behaviour":
        behaviour = cls.get(service)
        for name, value in values.items():
            setattr(behaviour, name, value)
        behaviour.save()
        return behaviour

    @classmethod
    def reset(cls, service: str | None = None) -> None:
        """Back to defaults: no faults, the real services' limits."""
        rows = cls.objects.all() if service is None else cls.objects.filter(service=service)
        rows.delete()


class SeededWorld(models.Model):
    """A record of the world `sandbox_seed` built: its size, seed, counts and cases (a sample of
    ids per case), for the /sandbox/ page and for processes that did not seed it themselves."""

    seed = models.IntegerField()
    payments = models.PositiveIntegerField()
    base_date = models.DateField()
    seconds = models.FloatField(default=0.0)
    summary = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"world of {self.payments} payments (seed {self.seed})"
