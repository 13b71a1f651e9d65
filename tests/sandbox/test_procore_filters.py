"""The simulated Procore honours the documented filters a reader of changes uses, over real HTTP:
`filters[updated_at]` ranges (date, UTC datetime and offset datetime forms) on projects, vendors,
work order and purchase order contracts and v1.1 requisitions, a 400 for a malformed range, no
filter on the generic commitments list (it documents none), and `filters[vendor_id]` on projects
in each reading its switch offers.
"""

import datetime as dt
from decimal import Decimal

import pytest

from syncapp.sandbox.procore.models import Commitment, Project, Requisition, Vendor
from tests.sandbox import test_procore_api

procore_world = test_procore_api.procore_world  # the shared fixture

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
CHANGED = dt.datetime(2026, 11, 20, 10, 0, 0, 250_000, tzinfo=dt.UTC)  # 10:00:00.25 UTC


def _lists(world) -> dict[str, tuple[str, dict, type, object]]:
    """Each list documenting filters[updated_at]: path, params, model, the row the test changes."""
    company = {"company_id": world.company.pk}
    project = {"project_id": world.project.pk}
    return {
        "projects": ("/rest/v1.0/projects", company, Project, world.project),
        "vendors": ("/rest/v1.0/vendors", company, Vendor, world.vendor),
        "work orders": ("/rest/v1.0/work_order_contracts", project, Commitment, world.subcontract),
        "purchase orders": ("/rest/v1.0/purchase_order_contracts", project, Commitment, world.purchase_order),
        "requisitions": ("/rest/v1.1/requisitions", project, Requisition, world.requisition),
    }


def _only_one_row_changed(model, row) -> None:
    """Every row of `model` last updated long ago, `row` at CHANGED. `update()` writes the times
    as given (auto_now applies on save only)."""
    model.objects.update(updated_at=LONG_AGO)
    model.objects.filter(pk=row.pk).update(updated_at=CHANGED)


def _listed(world, path: str, params: dict, updated_at: str) -> list[int]:
    answer = world.get(path, params={**params, "filters[updated_at]": updated_at})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Total"] == str(len(answer.json()))
    return [row["id"] for row in answer.json()]


@pytest.fixture
def crowded(procore_world):
    """A second row in each list, so a filter that lets everything through is caught."""
    w = procore_world
    Project.objects.create(company=w.company, name="Second Project")
    vendor = Vendor.objects.create(company=w.company, name="Second Vendor")
    Commitment.objects.create(project=w.project, number="SC-002", vendor=vendor)
    second_order = Commitment.objects.create(
        project=w.project, kind=Commitment.PURCHASE_ORDER, number="PO-002", vendor=vendor
    )
    Requisition.objects.create(project=w.project, commitment=second_order, number=1, invoice_number="B-7")
    return w


@pytest.mark.parametrize("name", ["projects", "vendors", "work orders", "purchase orders", "requisitions"])
def test_each_documented_list_answers_only_rows_updated_within_the_range_in_every_form(crowded, name):
    path, params, model, row = _lists(crowded)[name]
    _only_one_row_changed(model, row)
    inside = {
        "date": "2026-11-20...2026-11-20",
        "date span": "2026-11-01...2026-11-30",
        "utc": "2026-11-20T09:59:00Z...2026-11-20T10:01:00Z",
        "offset": "2026-11-20T19:30:00+10:00...2026-11-20T21:00:00+10:00",
        "negative offset": "2026-11-20T04:00:00-06:00...2026-11-20T05:00:00-06:00",
    }
    outside = {
        "day before": "2026-11-19...2026-11-19",
        "utc up to the second before": "2026-11-20T09:00:00Z...2026-11-20T09:59:59Z",
        "offset ending before": "2026-11-20T19:00:00+10:00...2026-11-20T19:59:59+10:00",
        "end is the whole second, not its fraction": "2026-11-20T09:00:00Z...2026-11-20T10:00:00Z",
        "start after end": "2026-11-21...2026-11-19",
    }

    unfiltered = [r["id"] for r in crowded.get(path, params=params).json()]

    assert len(unfiltered) == 2 and row.pk in unfiltered
    for form, updated_at in inside.items():
        assert _listed(crowded, path, params, updated_at) == [row.pk], form
    for form, updated_at in outside.items():
        assert _listed(crowded, path, params, updated_at) == [], form
    assert _listed(crowded, path, params, "2026-01-01...2026-11-30") == unfiltered


@pytest.mark.parametrize(
    "updated_at",
    [
        "2026-11-20",  # no range
        "2026-11-20..2026-11-21",  # two dots
        "2026-11-20...",  # open end
        "...2026-11-21",  # open start
        "2026-11-20...2026-11-21...2026-11-22",
        "yesterday...today",
        "2026-11-20...2026-11-21T00:00:00Z",  # a date with a datetime
        "2026-11-20T10:00:00...2026-11-21T10:00:00",  # no zone
        "2026-11-20T10:00:00.5Z...2026-11-21T10:00:00Z",  # fractions are not a documented form
        "2026-11-20T10:00:00 10:00...2026-11-21T10:00:00 10:00",  # an unencoded + read as a space
        "2026-02-30...2026-03-01",  # no such day
        "2026-11-20T25:00:00Z...2026-11-21T10:00:00Z",  # no such hour
    ],
)
def test_a_malformed_range_is_a_400_with_an_errors_body(procore_world, updated_at):
    path, params, _, _ = _lists(procore_world)["requisitions"]

    answer = procore_world.get(path, params={**params, "filters[updated_at]": updated_at})

    assert answer.status_code == 400
    assert "filters[updated_at]" in answer.json()["errors"]


@pytest.mark.parametrize("name", ["projects", "vendors", "work orders", "purchase orders", "requisitions"])
def test_every_documented_list_refuses_a_malformed_range(procore_world, name):
    path, params, _, _ = _lists(procore_world)[name]

    answer = procore_world.get(path, params={**params, "filters[updated_at]": "last week"})

    assert answer.status_code == 400
    assert set(answer.json()) == {"errors"}


def test_the_generic_commitments_list_documents_no_filters_and_ignores_updated_at(procore_world):
    Commitment.objects.update(updated_at=LONG_AGO)
    params = {"project_id": procore_world.project.pk}

    in_range = procore_world.get(
        "/rest/v1.0/commitments", params={**params, "filters[updated_at]": "2026-11-20...2026-11-20"}
    )
    malformed = procore_world.get("/rest/v1.0/commitments", params={**params, "filters[updated_at]": "last week"})

    everything = {procore_world.subcontract.pk, procore_world.purchase_order.pk}
    assert in_range.status_code == 200 and {row["id"] for row in in_range.json()} == everything
    assert malformed.status_code == 200 and {row["id"] for row in malformed.json()} == everything


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _since(moment: dt.datetime) -> str:
    """A range from `moment` (rounded down to its second) to a minute from now."""
    return f"{_utc(moment.replace(microsecond=0))}...{_utc(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))}"


def test_a_change_saved_to_a_row_moves_it_into_a_range_that_starts_after_the_last_read(procore_world):
    for model in (Project, Vendor, Commitment, Requisition):
        model.objects.update(updated_at=LONG_AGO)
    last_read = dt.datetime.now(dt.UTC)
    procore_world.purchase_order.status = "Terminated"
    procore_world.purchase_order.save()
    procore_world.requisition.status = "revise_and_resubmit"
    procore_world.requisition.save()

    project = {"project_id": procore_world.project.pk}
    changed_orders = _listed(procore_world, "/rest/v1.0/purchase_order_contracts", project, _since(last_read))
    changed_work = _listed(procore_world, "/rest/v1.0/work_order_contracts", project, _since(last_read))
    changed_invoices = _listed(procore_world, "/rest/v1.1/requisitions", project, _since(last_read))

    assert changed_orders == [procore_world.purchase_order.pk]
    assert changed_work == []
    assert changed_invoices == [procore_world.requisition.pk]


def test_a_vendor_created_over_the_api_is_in_a_range_from_before_it(procore_world):
    Vendor.objects.update(updated_at=LONG_AGO)
    last_read = dt.datetime.now(dt.UTC)
    created = procore_world.send(
        "POST", "/rest/v1.0/vendors", {"company_id": procore_world.company.pk, "vendor": {"name": "New Tiling Co"}}
    )
    assert created.status_code == 201

    listed = _listed(procore_world, "/rest/v1.0/vendors", {"company_id": procore_world.company.pk}, _since(last_read))

    assert listed == [created.json()["id"]]


def test_a_new_payment_leaves_its_commitment_and_invoice_out_of_a_later_range(procore_world):
    # The docs do not say that a payment issued touches the commitment or the invoice it names,
    # so the sandbox does not: a reader must not rely on it to see new payments.
    Commitment.objects.update(updated_at=LONG_AGO)
    Requisition.objects.update(updated_at=LONG_AGO)
    last_read = dt.datetime.now(dt.UTC)
    created = procore_world.send(
        "POST",
        "/rest/v1.0/contract_payments",
        {
            "project_id": procore_world.project.pk,
            "contract_id": procore_world.subcontract.pk,
            "contract_payment": {
                "date": "2026-11-20",
                "amount": str(Decimal("100.00")),
                "requisition_id": procore_world.requisition.pk,
            },
        },
    )
    assert created.status_code == 201

    project = {"project_id": procore_world.project.pk}
    assert _listed(procore_world, "/rest/v1.0/work_order_contracts", project, _since(last_read)) == []
    assert _listed(procore_world, "/rest/v1.1/requisitions", project, _since(last_read)) == []


# --- filters[vendor_id] on projects ---------------------------------------------------------------


@pytest.fixture
def vendor_projects(procore_world):
    """The world's vendor holds commitments on its project only; a second project has another
    vendor's commitment, a third only a deleted commitment of the world's vendor."""
    w = procore_world
    other_vendor = Vendor.objects.create(company=w.company, name="Other Trades Pty Ltd")
    second = Project.objects.create(company=w.company, name="Second Project")
    Commitment.objects.create(project=second, number="SC-001", vendor=other_vendor)
    third = Project.objects.create(company=w.company, name="Third Project")
    Commitment.objects.create(project=third, number="SC-001", vendor=w.vendor, deleted_at=CHANGED)
    return {"mine": w.project.pk, "other": second.pk, "deleted": third.pk, "other_vendor": other_vendor.pk}


def _projects_of(world, vendor_id) -> list[int]:
    answer = world.get("/rest/v1.0/projects", params={"company_id": world.company.pk, "filters[vendor_id]": vendor_id})
    assert answer.status_code == 200, answer.text
    return sorted(row["id"] for row in answer.json())


def test_vendor_id_lists_the_projects_where_the_vendor_holds_a_live_commitment_by_default(
    procore_world, vendor_projects, settings
):
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = ""

    assert _projects_of(procore_world, procore_world.vendor.pk) == [vendor_projects["mine"]]
    assert _projects_of(procore_world, vendor_projects["other_vendor"]) == [vendor_projects["other"]]
    assert _projects_of(procore_world, 2**40 + 7) == []


def test_vendor_id_read_as_commitments_when_the_switch_says_so(procore_world, vendor_projects, settings):
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = "commitments"

    assert _projects_of(procore_world, procore_world.vendor.pk) == [vendor_projects["mine"]]


def test_vendor_id_ignored_lists_every_project(procore_world, vendor_projects, settings):
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = "ignored"

    every = sorted([vendor_projects["mine"], vendor_projects["other"], vendor_projects["deleted"]])
    assert _projects_of(procore_world, procore_world.vendor.pk) == every
    assert _projects_of(procore_world, "not-a-number") == every


def test_vendor_id_none_lists_no_project_for_any_vendor(procore_world, vendor_projects, settings):
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = "none"

    assert _projects_of(procore_world, procore_world.vendor.pk) == []
    assert _projects_of(procore_world, vendor_projects["other_vendor"]) == []


def test_vendor_id_that_is_not_an_integer_is_a_400(procore_world, vendor_projects, settings):
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = "commitments"

    answer = procore_world.get(
        "/rest/v1.0/projects", params={"company_id": procore_world.company.pk, "filters[vendor_id]": "abc"}
    )

    assert answer.status_code == 400 and "filters[vendor_id]" in answer.json()["errors"]


def test_vendor_id_and_updated_at_combine_as_a_logical_and(procore_world, vendor_projects, settings):
    # "Filtering on List Actions": several filters on one call are a logical AND.
    settings.SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER = "commitments"
    Project.objects.update(updated_at=LONG_AGO)
    params = {"company_id": procore_world.company.pk, "filters[vendor_id]": procore_world.vendor.pk}

    recent = procore_world.get(
        "/rest/v1.0/projects", params={**params, "filters[updated_at]": "2026-11-01...2026-11-30"}
    )
    old = procore_world.get("/rest/v1.0/projects", params={**params, "filters[updated_at]": "2026-01-01...2026-01-31"})

    assert recent.json() == []
    assert [row["id"] for row in old.json()] == [vendor_projects["mine"]]
