"""How it works (/help/): every reason the engine writes has a section, every state a line, and the
places that show a reason link to its section."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse
from django.utils.html import escape

from syncapp.dashboard import guide
from syncapp.sync.models import PaymentState
from syncapp.sync.reasons import CATALOGUE, Reason

SYNC = Path(__file__).resolve().parents[2] / "syncapp" / "sync"


def engine_source() -> str:
    return "\n".join(path.read_text() for path in SYNC.glob("*.py") if path.name != "reasons.py")


def codes_the_engine_writes() -> set[str]:
    """Every reason the engine's source names: Reason.VENDOR_NOT_LINKED and the like."""
    return {Reason[name].value for name in re.findall(r"\bReason\.([A-Z_]+)\b", engine_source())}


def test_the_engine_writes_every_code_of_the_catalogue_by_name():
    assert codes_the_engine_writes() == set(Reason.values)


def test_the_engine_writes_no_code_as_a_bare_string():
    # A bare "vendor_not_linked" would bypass the catalogue's words (and its help section).
    source = engine_source()
    assert not re.findall(r'reason_code\s*=\s*"[a-z]', source)
    assert not re.findall(r'reason_code"\s*:\s*"[a-z]', source)
    assert not re.findall(r'_(?:blocked|skipped)\(\s*"', source)


def test_every_reason_has_a_section_on_the_page_in_its_group(finance_client):
    text = finance_client.get(reverse("help")).content.decode()
    for reason, explained in CATALOGUE.items():
        group = text.split(f'id="{explained.category}"', 1)[1].split("</section>", 1)[0]
        assert f'id="reason-{reason.value}"' in group, reason
        assert explained.means and explained.what_to_do, reason  # explained, not only titled
    assert set(CATALOGUE) == set(Reason)


def test_every_payment_state_is_explained(finance_client):
    text = finance_client.get(reverse("help")).content.decode()
    assert [code for code, _ in guide.STATES] == list(PaymentState.values)
    for state in PaymentState:
        assert f'id="state-{state.value}"' in text
        assert str(state.label) in text


def test_a_reason_section_says_what_it_means_and_what_to_do(finance_client):
    text = finance_client.get(reverse("help")).content.decode()
    section = text.split('id="reason-vendor_not_linked"', 1)[1].split("</article>", 1)[0]
    assert "Vendor not linked in Procore" in section
    assert "not linked to a Procore vendor" in section and "What to do:" in section and "Mappings" in section


def test_anyone_signed_in_may_read_it_even_without_a_role(client, roleless_user):
    client.force_login(roleless_user)
    assert client.get(reverse("help")).status_code == 200


def test_it_requires_login(client, db):
    response = client.get(reverse("help"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_home_links_to_it(finance_client, world):
    assert f'href="{reverse("help")}"' in finance_client.get(reverse("home")).content.decode()


def test_a_blocked_payment_links_to_its_reason(finance_client, world):
    world.blocked.reason_code = "vendor_not_linked"
    world.blocked.save()
    text = finance_client.get(reverse("payment", args=[world.blocked.pk])).content.decode()
    assert 'href="/help/#reason-vendor_not_linked"' in text


def test_each_failure_group_links_to_its_reason(admin_client, world):
    text = admin_client.get(reverse("failures")).content.decode()
    for payment in (world.blocked, world.failed):
        payment.refresh_from_db()
        assert f'href="/help/#reason-{payment.reason_code}"' in text


def test_the_payments_list_links_each_blocked_or_failed_row_to_its_reason(finance_client, world):
    text = finance_client.get(reverse("payments")).content.decode()
    for payment in (world.blocked, world.failed):
        payment.refresh_from_db()
        assert f'href="/help/#reason-{payment.reason_code}"' in text


def test_every_section_is_titled_as_the_dashboard_titles_the_reason(finance_client):
    # One catalogue: the page shows exactly the title the failure groups show.
    text = finance_client.get(reverse("help")).content.decode()
    for reason in Reason:
        section = text.split(f'id="reason-{reason.value}"', 1)[1].split("</article>", 1)[0]
        heading = re.search(r"<h3>(.*?)</h3>", section, re.S).group(1).strip()
        assert heading == escape(reason.label), reason
