"""`sandbox_seed --second-company`: a second Xero organisation and Procore company with a world of
their own, beside the first, for a second integration."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncapp.sandbox.models import SeededWorld
from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seed import (
    COMPANY_ID,
    ORGANISATION_TENANT_ID,
    SECOND_COMPANY_ID,
    SECOND_TENANT_ID,
    SERVICE_ACCOUNT_LOGIN,
    seed_world,
)
from syncapp.sandbox.xero import models as xr

pytestmark = pytest.mark.django_db


def test_the_second_company_gets_its_own_world_and_the_first_stays(settings):
    seed_world(payments=40, seed=1)
    first_payments = set(xr.Payment.objects.values_list("payment_id", flat=True))
    out = StringIO()

    call_command("sandbox_seed", "--second-company", "--payments", "40", "--seed", "1", stdout=out)

    assert "Seeded 40 payments" in out.getvalue()
    second = xr.Payment.objects.filter(organisation__tenant_id=SECOND_TENANT_ID)
    assert second.count() == 40
    assert set(xr.Payment.objects.filter(organisation__tenant_id=ORGANISATION_TENANT_ID).values_list(
        "payment_id", flat=True)) == first_payments  # fmt: skip
    assert pc.Project.objects.filter(company_id=SECOND_COMPANY_ID).exists()
    assert pc.Project.objects.filter(company_id=COMPANY_ID).exists()
    # The service account and the product's Procore app reach both companies.
    service = pc.User.objects.get(login=SERVICE_ACCOUNT_LOGIN)
    assert set(service.companies.values_list("id", flat=True)) == {COMPANY_ID, SECOND_COMPANY_ID}
    app = pc.OAuthClient.objects.get(client_id=settings.PROCORE_CLIENT_ID)
    assert set(app.installed_in.values_list("id", flat=True)) == {COMPANY_ID, SECOND_COMPANY_ID}
    assert SeededWorld.objects.count() == 1  # the sandbox's index still describes the first world


def test_seeding_the_second_company_twice_is_refused():
    call_command("sandbox_seed", "--second-company", "--payments", "40", stdout=StringIO())

    with pytest.raises(CommandError, match="already holds a world"):
        call_command("sandbox_seed", "--second-company", "--payments", "40", stdout=StringIO())
    with pytest.raises(CommandError, match="beside the first world"):
        call_command("sandbox_seed", "--second-company", "--reset", stdout=StringIO())
