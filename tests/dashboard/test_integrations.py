"""Several integrations in the dashboard: adding, renaming and removing one (Admins only), and the
switcher every page shows, kept in the URL and the session."""

from __future__ import annotations

import pytest

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.core.models import AuditEntry
from syncapp.sync.models import Payment, RunState, SyncRun
from tests.dashboard.conftest import described_by_missing, make_payment, make_world

pytestmark = pytest.mark.django_db


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/integrations/"),
        ("post", "/integrations/add/"),
        ("post", "/integrations/{pk}/rename/"),
        ("get", "/integrations/{pk}/remove/"),
        ("post", "/integrations/{pk}/remove/"),
    ],
)
def test_it_requires_admin(client, finance_user, method, path):
    integration = Integration.objects.create(name="north")
    client.force_login(finance_user)
    data = {"add-label": "X", "i1-label": "X", "confirm": "north"}

    response = getattr(client, method)(path.format(pk=integration.pk), data)

    assert response.status_code == 403
    assert list(Integration.objects.values_list("name", "label")) == [("north", "")]


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get("/integrations/")["Location"] == "/login/?next=/integrations/"


def test_forms_need_the_csrf_token(admin_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)

    assert strict.post("/integrations/add/", {"add-label": "North"}).status_code == 403
    assert not Integration.objects.exists()


# --- add ----------------------------------------------------------------------------------------


def test_an_admin_adds_an_integration_and_is_sent_to_connect_it(admin_client, admin_user):
    Integration.objects.create(name="first")

    response = admin_client.post("/integrations/add/", {"add-label": "Southbank Builders (NZ)", "add-name": ""})

    added = Integration.objects.get(label="Southbank Builders (NZ)")
    assert added.name == "southbank-builders-nz"
    assert response.status_code == 302
    assert response["Location"] == "/connections/?integration=southbank-builders-nz"
    page = admin_client.get(response["Location"])
    assert b"Southbank Builders (NZ)" in page.content and b"Connect Xero" in page.content
    entry = AuditEntry.objects.get(action="integration.added")
    assert entry.actor == admin_user and entry.integration == added


def test_a_taken_or_malformed_short_name_is_refused_with_the_reason(admin_client):
    Integration.objects.create(name="north")

    taken = admin_client.post("/integrations/add/", {"add-label": "North again", "add-name": "north"})
    malformed = admin_client.post("/integrations/add/", {"add-label": "Bad", "add-name": "Bad Name!"})
    blank = admin_client.post("/integrations/add/", {"add-label": "   ", "add-name": ""})

    assert taken.status_code == malformed.status_code == blank.status_code == 400
    assert "exists already" in taken.content.decode()
    assert "lower-case letters, digits and hyphens" in malformed.content.decode()
    assert Integration.objects.count() == 1


# --- rename -------------------------------------------------------------------------------------


def test_an_admin_renames_an_integration_and_its_data_stays_with_it(admin_client):
    world = make_world()
    pk = world.integration.pk

    response = admin_client.post(f"/integrations/{pk}/rename/", {f"i{pk}-label": "Demo AU", f"i{pk}-name": "demo-au"})

    assert response.status_code == 302
    integration = Integration.objects.get(pk=pk)
    assert (integration.name, integration.label) == ("demo-au", "Demo AU")
    assert Payment.objects.filter(integration=integration).count() == Payment.objects.count() > 0
    entry = AuditEntry.objects.get(action="integration.renamed")
    assert entry.details["before"] == {"name": "demo", "label": "demo"}
    assert "Demo AU" in admin_client.get("/").content.decode()


def test_a_rename_to_another_integrations_short_name_is_refused(admin_client):
    Integration.objects.create(name="north")
    south = Integration.objects.create(name="south")

    response = admin_client.post(
        f"/integrations/{south.pk}/rename/", {f"i{south.pk}-label": "South", f"i{south.pk}-name": "north"}
    )

    assert response.status_code == 400 and "exists already" in response.content.decode()
    assert Integration.objects.get(pk=south.pk).name == "south"
    assert described_by_missing(response.content.decode()) == []


def test_a_rename_without_a_name_says_so_next_to_the_input(admin_client):
    south = Integration.objects.create(name="south")
    blank = {f"i{south.pk}-label": "", f"i{south.pk}-name": ""}
    response = admin_client.post(f"/integrations/{south.pk}/rename/", blank)
    html = response.content.decode()
    assert response.status_code == 400 and "This field is required." in html
    assert f'aria-describedby="id_i{south.pk}-label_helptext id_i{south.pk}-label_error"' in html
    assert described_by_missing(html) == []


# --- remove -------------------------------------------------------------------------------------


def test_removing_asks_for_the_short_name_and_refuses_another(admin_client):
    world = make_world()
    url = f"/integrations/{world.integration.pk}/remove/"

    page = admin_client.get(url)
    wrong = admin_client.post(url, {"confirm": "Demo"})

    assert "Type <code>demo</code> to confirm" in page.content.decode()
    assert wrong.status_code == 400 and "Type demo exactly" in wrong.content.decode()
    assert Integration.objects.filter(pk=world.integration.pk).exists()


def test_removing_deletes_the_integration_and_what_was_kept_for_it_and_is_audited(admin_client, admin_user):
    world = make_world()
    other = Integration.objects.create(name="other")
    kept = make_payment(other, 900)
    # No tokens are stored, so there is nothing to revoke remotely; the rows are forgotten.
    Connection.objects.filter(integration=world.integration).update(access_token_encrypted="")

    response = admin_client.post(f"/integrations/{world.integration.pk}/remove/", {"confirm": "demo"})

    assert response.status_code == 302 and response["Location"] == "/integrations/"
    assert list(Integration.objects.all()) == [other]
    assert list(Payment.objects.all()) == [kept]
    assert not Connection.objects.filter(integration_id=world.integration.pk).exists()
    entry = AuditEntry.objects.get(action="integration.removed")
    assert entry.actor == admin_user and entry.details["name"] == "demo"
    assert AuditEntry.objects.filter(action="connection.disconnected").count() == 2


@pytest.mark.parametrize("state", [RunState.QUEUED, RunState.RUNNING, RunState.PAUSED])
def test_removing_is_refused_while_a_run_is_not_over(admin_client, state):
    world = make_world()
    run = SyncRun.objects.create(integration=world.integration, state=state)
    url = f"/integrations/{world.integration.pk}/remove/"

    page = admin_client.get(url)
    response = admin_client.post(url, {"confirm": "demo"}, follow=True)

    assert f"Run #{run.pk} of this integration" in page.content.decode()
    assert f"Run #{run.pk} of this integration" in response.content.decode()
    assert Integration.objects.filter(pk=world.integration.pk).exists()
    assert Connection.objects.filter(integration=world.integration, status=ConnectionStatus.CONNECTED).count() == 2
    assert not AuditEntry.objects.filter(action="integration.removed").exists()


# --- the switcher -------------------------------------------------------------------------------


def two_integrations():
    world = make_world()  # "demo": its payments are pay-0000xx
    second = Integration.objects.create(name="second", label="Second Site")
    make_payment(second, 777, vendor_name="Only In Second")
    return world, second


def test_with_one_integration_every_page_shows_its_name_without_a_menu(finance_client):
    Integration.objects.filter(pk=make_world().integration.pk).update(label="Demo Builders")

    for path in ("/", "/payments/", "/runs/", "/connections/", "/settings/", "/reconciliation/"):
        html = finance_client.get(path).content.decode()
        assert '<strong id="integration-current">Demo Builders</strong>' in html, path
        assert 'id="integration-switcher"' not in html and "?integration=" not in html, path


def test_only_admins_see_the_link_to_manage_integrations(client, admin_user, finance_user):
    make_world()

    client.force_login(admin_user)
    assert 'href="/integrations/">Manage integrations' in client.get("/").content.decode()
    client.force_login(finance_user)
    assert "Manage integrations" not in client.get("/").content.decode()


def test_the_integration_in_the_url_wins_and_is_remembered_for_pages_without_it(finance_client):
    two_integrations()

    chosen = finance_client.get("/payments/?integration=second").content.decode()
    later = finance_client.get("/payments/").content.decode()
    home = finance_client.get("/").content.decode()

    for html in (chosen, later):
        assert "Only In Second" in html and "Vendor 1" not in html
    assert '<option value="second" selected>Second Site</option>' in home
    # Links to the other pages carry the choice, so a copied link opens the same integration.
    assert 'href="/runs/?integration=second"' in home
    back = finance_client.get("/payments/?integration=demo").content.decode()
    assert "Vendor 1" in back and "Only In Second" not in back
    assert "Vendor 1" in finance_client.get("/payments/").content.decode()


def test_every_section_opens_on_the_integration_chosen_last(admin_client):
    two_integrations()
    admin_client.get("/?integration=second")

    for path in ("/payments/", "/runs/", "/failures/", "/mappings/", "/reconciliation/", "/connections/", "/settings/"):
        html = admin_client.get(path).content.decode()
        assert '<option value="second" selected>Second Site</option>' in html, path


def test_switching_on_a_page_that_shows_every_integration_is_remembered_too(admin_client):
    two_integrations()

    admin_client.get("/integrations/?integration=second")

    assert '<option value="second" selected>' in admin_client.get("/payments/").content.decode()


def test_a_page_about_one_payment_switches_to_that_payments_integration(finance_client):
    world, second = two_integrations()
    finance_client.get("/payments/?integration=second")

    detail = finance_client.get(f"/payments/{world.sent.pk}/").content.decode()

    assert '<option value="demo" selected>' in detail
    assert "Vendor 1" in finance_client.get("/payments/").content.decode()


def test_an_unknown_integration_in_the_url_is_not_found(finance_client):
    two_integrations()

    assert finance_client.get("/payments/?integration=nope").status_code == 404


def test_the_connections_page_shows_the_chosen_integration(admin_client):
    two_integrations()

    html = admin_client.get("/connections/?integration=second").content.decode()

    assert "<h2" in html and "Second Site</h2>" in html
    assert 'name="integration" value="second"' in html and 'name="integration" value="demo"' not in html


def test_connect_without_a_name_starts_for_the_integration_the_switcher_shows(admin_client, settings):
    two_integrations()
    admin_client.get("/connections/?integration=second")

    response = admin_client.post("/connections/procore/connect/")

    assert response.status_code == 302, response.content[:300]
    flow = admin_client.session["oauth_flow_procore"]
    assert flow["integration"] == Integration.objects.get(name="second").pk
