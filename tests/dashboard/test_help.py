"""How it works (/help/): every reason the engine writes has a section, every state a line, and the
places that show a reason link to its section."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse
from django.utils.html import escape

from syncapp.dashboard import guide
from syncapp.sync.models import PaymentState
from syncapp.sync.reasons import REASON_TITLES

SYNC = Path(__file__).resolve().parents[2] / "syncapp" / "sync"


def codes_the_engine_writes() -> set[str]:
    """Every reason code written in the engine's source: _blocked("code", ...), _skipped("code", ...)
    and reason_code="code" (the failed sends' "procore_refused" among them)."""
    source = "\n".join(path.read_text() for path in SYNC.glob("*.py"))
    codes = set(re.findall(r'_(?:blocked|skipped)\(\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'reason_code="([a-z_]+)"', source))
    return codes


def test_the_engine_writes_the_codes_we_think_it_does():
    codes = codes_the_engine_writes()
    assert {"vendor_not_linked", "overpayment", "procore_refused", "ignored", "not_bill_payment"} <= codes
    assert len(codes) >= 19


def test_every_reason_the_engine_writes_has_a_section_on_the_page(finance_client):
    text = finance_client.get(reverse("help")).content.decode()
    for code in codes_the_engine_writes() | set(REASON_TITLES) | set(guide.REASONS):
        assert f'id="reason-{code}"' in text, code
        assert code in guide.REASONS, code  # explained, not only titled


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
    # One list of codes, one place for titles: every explained code has its title in sync.reasons
    # and every titled code is explained, and the page shows exactly that title.
    assert set(guide.REASONS) == set(REASON_TITLES)
    text = finance_client.get(reverse("help")).content.decode()
    for code, title in REASON_TITLES.items():
        section = text.split(f'id="reason-{code}"', 1)[1].split("</article>", 1)[0]
        heading = re.search(r"<h3>(.*?)</h3>", section, re.S).group(1).strip()
        assert heading == escape(title), code
