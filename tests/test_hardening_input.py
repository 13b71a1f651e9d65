"""Bad input is a 400 or a form message, never a 500: the cases the issue names, one by one.
(tests/dashboard/test_fuzz_inputs.py sweeps every page and action.)"""

import pytest

pytestmark = pytest.mark.django_db


def test_a_nul_byte_in_a_filter_is_a_bad_request(admin_client):
    assert admin_client.get("/audit/", {"action": "\x00"}).status_code == 400
    assert admin_client.get("/payments/", {"q": "inv\x00"}).status_code == 400


def test_a_nul_byte_in_a_posted_form_is_a_bad_request(client, finance_user):
    response = client.post("/login/", {"username": "fin-finance\x00", "password": "pw-for-tests"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_nul_byte_in_a_cookie_is_a_bad_request(client):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/login/").status_code == 400


def test_the_same_filter_without_the_nul_byte_works(admin_client):
    assert admin_client.get("/audit/", {"action": "sync.started"}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"page": "abc"}, {"page": "-1"}, {"page": "99999999999999999999"}, {"sort": "zzz"},
     {"date_from": "2024-13-45"}, {"amount_min": "1e309"}, {"state": "nope"}],
)
def test_garbage_in_the_payment_list_is_ignored(admin_client, params):
    response = admin_client.get("/payments/", params)
    assert response.status_code == 200


def test_a_wrong_next_address_after_an_action_goes_back_to_the_payment(admin_client):
    from tests.dashboard.conftest import make_world

    world = make_world()
    response = admin_client.post(f"/payments/{world.failed.pk}/retry/", {"next": "abc"})
    assert response.status_code == 302
    assert response["Location"] == f"/payments/{world.failed.pk}/"


def test_linking_an_unknown_contact_is_refused_with_a_message_and_links_nothing(admin_client):
    from syncapp.sync.models import VendorLink
    from tests.dashboard.conftest import make_world

    make_world()
    before = VendorLink.objects.count()
    response = admin_client.post("/mappings/vendors/link/", {"contact_id": "x" * 3000, "vendor_id": "501"}, follow=True)
    assert response.status_code == 200
    assert b"not a Xero contact of this integration" in response.content
    assert VendorLink.objects.count() == before


def test_linking_an_unknown_bill_is_refused_with_a_message_and_links_nothing(admin_client):
    from syncapp.sync.models import BillLink
    from tests.dashboard.conftest import make_world

    make_world()
    response = admin_client.post(
        "/mappings/bills/link/", {"xero_invoice_id": "no-such-bill", "choice": "5:77:"}, follow=True
    )
    assert response.status_code == 200
    assert b"not a Xero bill of this integration" in response.content
    assert not BillLink.objects.exists()


@pytest.mark.parametrize("text", ["²", "99999999999999999999", "12"])
def test_a_search_that_looks_like_a_number_is_never_an_error(admin_client, text):
    assert admin_client.get("/payments/", {"q": text}).status_code == 200
