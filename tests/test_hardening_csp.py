"""Content-Security-Policy: every page is sent with a policy that allows only our own scripts and
styles, and no page carries inline script, event handlers or style attributes that it would block."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from tests.dashboard.conftest import make_world

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


class _InlineFinder(HTMLParser):
    """Collects what the policy blocks: <script> without src, <style>, on...= and style= attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on") or name == "style"]
        scripted = [name for name, value in attrs if (value or "").strip().lower().startswith("javascript:")]
        self.found += [f"{tag} {name}=javascript:" for name in scripted]


def _inline(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.found


def test_the_finder_sees_what_the_policy_would_block():
    page = '<script>x()</script><p style="a" onclick="b"><a href="javascript:c">'
    assert sorted(_inline(page)) == ["a href=javascript:", "inline <script>", "p onclick=", "p style="]
    assert _inline('<script src="/static/js/app.js"></script><p class="x">') == []


def test_pages_are_sent_with_a_policy_without_inline_script_or_style(client, admin_client):
    for response in (client.get("/login/"), admin_client.get("/"), admin_client.get("/payments/")):
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_the_connect_forms_may_go_on_to_the_oauth_login_pages():
    """Browsers hold a form's redirect to form-action: the Connect button is a form whose answer
    redirects to Xero's or Procore's login page."""
    allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]
    for name in ("XERO_AUTHORIZE_URL", "PROCORE_LOGIN_URL"):
        origin = "/".join(getattr(settings, name).split("/", 3)[:3])
        assert origin in allowed


def _templates() -> list[Path]:
    # The sandbox imitates third parties' pages and is excluded from the policy (settings).
    return [p for p in (ROOT / "templates").rglob("*.html") if "sandbox" not in p.relative_to(ROOT).parts]


def test_no_template_has_inline_script_handlers_or_styles():
    assert len(_templates()) > 20
    offenders = {}
    for path in _templates():
        source = path.read_text()
        found = _inline(re.sub(r"{[%{#].*?[%}#]}", "", source, flags=re.S))
        found += ["htmx hx-on"] if re.search(r"\bhx-on", source) else []
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    page = client.get("/login/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in page
    assert ".htmx-indicator" in (ROOT / "static" / "css" / "app.css").read_text()


@pytest.mark.parametrize(
    "path",
    ["/", "/payments/", "/payments/{payment}/", "/runs/", "/runs/{run}/", "/failures/", "/mappings/",
     "/mappings/bills/", "/settings/", "/audit/", "/connections/", "/reconciliation/", "/login/"],
)
def test_rendered_pages_carry_nothing_the_policy_blocks(admin_client, path):
    world = make_world()  # payments in every state, a finished run with its outcomes
    response = admin_client.get(path.format(payment=world.blocked.pk, run=world.run.pk))
    assert response.status_code == 200
    assert _inline(response.content.decode()) == []
