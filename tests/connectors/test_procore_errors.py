"""Procore's refusals as the connector reads them: a 422 in every documented body shape becomes a
DataError carrying Procore's own words; a 403 on one project is a refusal of that project, not a
"reconnect"; deleted commitments are read only when asked for. The 422 bodies are read over a
MockTransport, the project and commitment rules over HTTP against the sandbox (they are the
sandbox's behaviour too); the `{"error": {...}}` example is Procore's own (Document Management
technical guide, Error Reference).
"""


import httpx
import pytest
from django.utils import timezone

from syncapp.connectors.procore import procore_messages
from syncapp.connectors.types import DataError, NeedsReconnect
from syncapp.sandbox.faults import PAYMENT_422_BODIES
from tests.connectors.mock_procore import PAYMENT, MockProcore

# developers.procore.com, Document Management technical guide, "Error Reference" (example body).
PROCORE_ERROR_OBJECT_EXAMPLE = {
    "error": {
        "code": "BAD_REQUEST",
        "message": "Bad Request",
        "details": [{"reason_code": "INVALID_PROPERTY", "message": "uploads.0.file_name must be a string"}],
    }
}


def test_the_error_object_reads_as_its_message_and_each_details_message():
    message, details = procore_messages(PROCORE_ERROR_OBJECT_EXAMPLE)

    assert message == "Bad Request: uploads.0.file_name must be a string"
    assert details["details"][0]["reason_code"] == "INVALID_PROPERTY"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": "VALIDATION_ERROR", "message": "Invalid", "details": {"amount": ["must be positive"]}},
         "Invalid: amount must be positive"),
        ({"code": "VALIDATION_ERROR", "message": "Invalid", "details": "amount must be positive"},
         "Invalid: amount must be positive"),
        ({"code": "FORBIDDEN", "message": "", "details": []}, "FORBIDDEN"),
        ({"code": "X", "message": "Only a message"}, "Only a message"),
    ],
)  # fmt: skip
def test_the_error_object_reads_whatever_its_details_hold(error, expected):
    assert procore_messages({"error": error})[0] == expected




@pytest.mark.parametrize(
    ("shape", "words"),
    [
        ("text", ["Payments cannot be added to a commitment that is not approved"]),
        ("list", ["Amount exceeds the remaining balance of the commitment", "Date is before the contract date"]),
        ("map", ["amount exceeds the remaining balance of the commitment", "date is not a valid date"]),
        ("error", ["Validation errors detected", "invoice_date must not be after the payment date"]),
    ],
)
def test_a_422_on_the_payment_create_raises_procores_own_words_whatever_the_shape(shape, words):
    """The bodies are the sandbox's (each shape Procore's pages show); no server is needed to read them."""
    procore = MockProcore(lambda: httpx.Response(422, json=PAYMENT_422_BODIES[shape]))

    with pytest.raises(DataError) as refused:
        procore.client.create_contract_payment(PAYMENT)

    assert refused.value.status == 422 and len(procore.requests) == 1
    for text in words:
        assert text in refused.value.message


@pytest.mark.django_db(transaction=True)
def test_a_403_on_one_projects_commitments_is_a_refusal_of_that_project_not_a_reconnect(procore_world, procore_client):
    procore_world.project.refused_tools = "commitments"
    procore_world.project.save()

    with pytest.raises(DataError) as refused:
        procore_client.commitments(procore_world.project.id)

    assert not isinstance(refused.value, NeedsReconnect)
    assert refused.value.status == 403
    assert procore_client.requisitions(project_id=procore_world.project.id)  # the other tool still answers


@pytest.mark.django_db(transaction=True)
def test_deleted_commitments_are_left_out_unless_asked_for(procore_world, procore_client):
    procore_world.commitment.deleted_at = timezone.now()
    procore_world.commitment.save()

    live = {c.id for c in procore_client.commitments(procore_world.project.id)}
    deleted = {c.id for c in procore_client.commitments(procore_world.project.id, deleted=True)}

    assert procore_world.commitment.id not in live and procore_world.purchase_order.id in live
    assert deleted == {procore_world.commitment.id}
