"""The simulated Procore refuses what real Procore documents refusing, over real HTTP: a project the
user is not in, a project whose Commitments or Invoicing tool is off, deleted commitments, the
Procore-Company-Id rules of /me and /companies, and 422 bodies of every documented shape.
"""

import datetime as dt

import pytest
from django.utils import timezone

from syncapp.sandbox.procore.models import ContractPayment, Token, User
from tests.sandbox import test_procore_api
from tests.sandbox.test_procore_api import make_token

procore_world = test_procore_api.procore_world  # the shared fixture

pytestmark = pytest.mark.django_db(transaction=True)


def _refuse(world, tools: str) -> None:
    world.project.refused_tools = tools
    world.project.save()


def _project_calls(world) -> dict[str, tuple[str, dict]]:
    """Every call of the product that names the project, by what it reads."""
    project = {"project_id": world.project.pk}
    return {
        "project": (f"/rest/v1.0/projects/{world.project.pk}", {"company_id": world.company.pk}),
        "work orders": ("/rest/v1.0/work_order_contracts", project),
        "purchase orders": ("/rest/v1.0/purchase_order_contracts", project),
        "commitment": (f"/rest/v1.0/commitments/{world.subcontract.pk}", project),
        "payments": ("/rest/v1.0/contract_payments", {**project, "contract_id": world.subcontract.pk}),
        "requisitions": ("/rest/v1.1/requisitions", project),
    }


def _statuses(world) -> dict[str, int]:
    return {name: world.get(path, params=params).status_code for name, (path, params) in _project_calls(world).items()}


def test_a_project_the_user_is_not_in_is_left_out_of_the_project_list(procore_world):
    _refuse(procore_world, "project")

    listed = procore_world.get("/rest/v1.0/projects", params={"company_id": procore_world.company.pk})

    assert listed.status_code == 200
    assert procore_world.project.pk not in [p["id"] for p in listed.json()]
    assert listed.headers["Total"] == "0"


def test_every_call_naming_a_project_the_user_is_not_in_answers_403_and_others_are_untouched(procore_world):
    before = _statuses(procore_world)
    _refuse(procore_world, "project")

    after = _statuses(procore_world)

    assert set(before.values()) == {200}
    assert set(after.values()) == {403}
    refused = procore_world.get("/rest/v1.0/work_order_contracts", params={"project_id": procore_world.project.pk})
    assert refused.json() == {"errors": "You do not have access to this project"}
    # Company-level reads do not depend on the project.
    assert procore_world.get("/rest/v1.0/vendors", params={"company_id": procore_world.company.pk}).status_code == 200


def test_the_commitments_tool_off_refuses_commitments_and_their_payments_but_not_invoices(procore_world):
    _refuse(procore_world, "commitments")

    statuses = _statuses(procore_world)
    created = procore_world.send(
        "POST",
        "/rest/v1.0/contract_payments",
        {
            "project_id": procore_world.project.pk,
            "contract_id": procore_world.subcontract.pk,
            "contract_payment": {"date": "2026-11-10", "amount": "10.00"},
        },
    )

    assert statuses == {
        "project": 200,
        "work orders": 403,
        "purchase orders": 403,
        "commitment": 403,
        "payments": 403,
        "requisitions": 200,
    }
    assert created.status_code == 403
    assert "Commitments tool" in created.json()["errors"]
    assert "not connected" not in created.json()["errors"].lower()  # not read as "reconnect the app"


def test_the_invoicing_tool_off_refuses_subcontractor_invoices_only(procore_world):
    _refuse(procore_world, "invoicing")

    statuses = _statuses(procore_world)

    assert statuses["requisitions"] == 403
    assert {name: s for name, s in statuses.items() if name != "requisitions"} == dict.fromkeys(
        ["project", "work orders", "purchase orders", "commitment", "payments"], 200
    )
    detail = procore_world.get(
        f"/rest/v1.1/requisitions/{procore_world.requisition.pk}", params={"project_id": procore_world.project.pk}
    )
    assert detail.status_code == 403


def _listed(world, path: str, **filters) -> list[int]:
    response = world.get(path, params={"project_id": world.project.pk, **filters})
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def test_a_deleted_commitment_is_listed_only_when_asked_for_and_its_show_answers_404(procore_world):
    deleted = procore_world.subcontract
    deleted.deleted_at = timezone.now() - dt.timedelta(days=3)
    deleted.save()
    path = "/rest/v1.0/work_order_contracts"

    plain = _listed(procore_world, path)
    with_deleted = _listed(procore_world, path, **{"filters[include_deleted]": "with"})
    only_deleted = procore_world.get(
        path, params={"project_id": procore_world.project.pk, "filters[include_deleted]": "only"}
    ).json()
    generic = _listed(procore_world, "/rest/v1.0/commitments", **{"filters[include_deleted]": "with"})
    show = procore_world.get(f"{path}/{deleted.pk}", params={"project_id": procore_world.project.pk})
    generic_show = procore_world.get(
        f"/rest/v1.0/commitments/{deleted.pk}", params={"project_id": procore_world.project.pk}
    )

    assert deleted.pk not in plain
    assert deleted.pk in with_deleted
    assert [row["id"] for row in only_deleted] == [deleted.pk]
    assert only_deleted[0]["deleted_at"] is not None
    assert deleted.pk not in generic  # the generic list documents no include_deleted filter
    assert procore_world.purchase_order.pk in generic
    assert (show.status_code, generic_show.status_code) == (404, 404)


def test_a_payment_on_a_deleted_commitment_is_refused(procore_world):
    procore_world.subcontract.deleted_at = timezone.now()
    procore_world.subcontract.save()

    created = procore_world.send(
        "POST",
        "/rest/v1.0/contract_payments",
        {
            "project_id": procore_world.project.pk,
            "contract_id": procore_world.subcontract.pk,
            "contract_payment": {"date": "2026-11-10", "amount": "10.00"},
        },
    )

    assert created.status_code == 422
    assert "contract_id" in created.json()["errors"]


# --- Procore-Company-Id on /me and /companies ---------------------------------------------------


def _bare(world, path: str, *, token: str | None = None, params=None, company: int | None = None):
    import httpx

    headers = {"Authorization": f"Bearer {token or world.token}"}
    if company:
        headers["Procore-Company-Id"] = str(company)
    return httpx.get(f"{world.base}{path}", params=params, headers=headers, timeout=10)


def test_me_and_companies_answer_a_user_without_the_company_header(procore_world):
    assert _bare(procore_world, "/rest/v1.0/me").status_code == 200
    assert _bare(procore_world, "/rest/v1.0/companies").status_code == 200


def test_me_with_a_company_id_needs_the_company_header(procore_world):
    params = {"company_id": procore_world.company.pk}

    without = _bare(procore_world, "/rest/v1.0/me", params=params)
    with_header = _bare(procore_world, "/rest/v1.0/me", params=params, company=procore_world.company.pk)

    assert without.status_code == 400
    assert "Procore-Company-Id" in without.json()["errors"]
    assert with_header.status_code == 200


def test_company_scoped_calls_need_the_company_header(procore_world):
    response = _bare(procore_world, "/rest/v1.0/projects", params={"company_id": procore_world.company.pk})

    assert response.status_code == 400
    assert "Procore-Company-Id" in response.json()["errors"]


def _service_account_token(world) -> str:
    account = User.objects.create(login="svc@harbour.example", name="Sync service", is_service_account=True)
    account.companies.add(world.company)
    token = make_token(world.client, account)
    Token.objects.filter(access_token=token).update(refresh_token=None)  # client_credentials: none
    return token


def test_with_the_regions_rule_on_a_service_account_must_name_its_company_on_me_and_companies(procore_world, settings):
    settings.SANDBOX_PROCORE_SERVICE_ACCOUNT_COMPANY_HEADER = "on"
    token = _service_account_token(procore_world)
    company = procore_world.company.pk

    paths = ("/rest/v1.0/me", "/rest/v1.0/companies")
    refused = [_bare(procore_world, path, token=token).status_code for path in paths]
    answered = [_bare(procore_world, path, token=token, company=company).status_code for path in paths]
    a_user = _bare(procore_world, "/rest/v1.0/companies").status_code

    assert refused == [400, 400]
    assert answered == [200, 200]
    assert a_user == 200  # the rule is for service accounts only


def test_with_the_regions_rule_off_a_service_account_needs_no_header_on_me_and_companies(procore_world, settings):
    settings.SANDBOX_PROCORE_SERVICE_ACCOUNT_COMPANY_HEADER = ""
    token = _service_account_token(procore_world)

    assert _bare(procore_world, "/rest/v1.0/companies", token=token).status_code == 200


# --- 422 bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["text", "list", "map", "error"])
def test_the_422_switch_refuses_the_payment_create_in_the_chosen_shape_and_creates_nothing(
    procore_world, settings, shape
):
    settings.SANDBOX_PROCORE_PAYMENT_422 = shape
    before = ContractPayment.objects.count()

    response = procore_world.send(
        "POST",
        "/rest/v1.0/contract_payments",
        {
            "project_id": procore_world.project.pk,
            "contract_id": procore_world.subcontract.pk,
            "contract_payment": {"date": "2026-11-10", "amount": "10.00", "origin_id": "xero-payment-422"},
        },
    )

    body = response.json()
    assert response.status_code == 422
    if shape == "error":
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    else:
        kind = {"text": str, "list": list, "map": dict}[shape]
        assert set(body) == {"errors"} and isinstance(body["errors"], kind)
    assert ContractPayment.objects.count() == before


def test_the_422_switch_off_lets_the_payment_through(procore_world, settings):
    settings.SANDBOX_PROCORE_PAYMENT_422 = ""

    response = procore_world.send(
        "POST",
        "/rest/v1.0/contract_payments",
        {
            "project_id": procore_world.project.pk,
            "contract_id": procore_world.subcontract.pk,
            "contract_payment": {"date": "2026-11-10", "amount": "10.00"},
        },
    )

    assert response.status_code == 201
