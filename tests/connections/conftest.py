"""Fixtures for the connections tests: apps registered in the sandbox Xero and Procore, and a
helper that clicks through a consent page over real HTTP, as a browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from django.conf import settings

from syncapp.connections.models import Connection, Integration, Provider
from syncapp.sandbox.procore import models as procore
from syncapp.sandbox.xero import models as xero


@dataclass
class Form:
    action: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    checkboxes: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, label text)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)


class _FormParser(HTMLParser):
    """Just enough HTML reading to submit a consent form: inputs, checkboxes and buttons."""

    def __init__(self):
        super().__init__()
        self.form: Form | None = None
        self._button: list | None = None
        self._label_for: str | None = None
        self._labels: dict[str, str] = {}
        self._ids: dict[str, tuple[str, str]] = {}
        self._open_checkbox: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.form is None:
            self.form = Form(action=a.get("action") or "")
        elif self.form is None:
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "checkbox":
                self.form.checkboxes.append((a.get("name", ""), a.get("value", "on"), a.get("id", "")))
                self._open_checkbox = (a.get("name", ""), a.get("value", "on"))
            elif kind in ("hidden", "text") and a.get("name"):
                self.form.fields.append((a["name"], a.get("value", "")))
            elif kind == "submit":
                self.form.buttons.append((a.get("name", ""), a.get("value", ""), a.get("value", "")))
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]
        elif tag == "label":
            self._label_for = a.get("for", "")

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data
        if self._label_for is not None:
            self._labels[self._label_for] = self._labels.get(self._label_for, "") + data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None and self.form is not None:
            self.form.buttons.append((self._button[0], self._button[1], self._button[2].strip()))
            self._button = None
        elif tag == "label":
            self._label_for = None

    def result(self) -> Form:
        assert self.form is not None, "no form on the page"
        self.form.checkboxes = [
            (name, value, self._labels.get(ident, "").strip()) for name, value, ident in self.form.checkboxes
        ]
        return self.form


def parse_form(html: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    return parser.result()


def consent(authorize_url: str, *, allow: bool = True, organisations: list[str] | None = None) -> str:
    """Open the sandbox consent page, tick the organisations (all, or those named), press "Allow
    access" (or the other button), and return where the sandbox redirects the browser."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text[:500]
        form = parse_form(page.text)
        data = list(form.fields)
        for name, value, label in form.checkboxes:
            if organisations is None or label in organisations or value in organisations:
                data.append((name, value))
        wanted = [b for b in form.buttons if (b[2] == "Allow access") == allow]
        assert wanted, f"no button to press in {form.buttons}"
        name, value, _ = wanted[0]
        if name:
            data.append((name, value))
        target = urljoin(str(page.url), form.action) if form.action else str(page.url)
        body: dict[str, list[str]] = {}
        for key, value in data:
            body.setdefault(key, []).append(value)
        answer = browser.post(target, data=body)
        assert answer.status_code in (302, 303), answer.text[:500]
        return answer.headers["location"]


def local_path(url: str) -> str:
    """The path and query of a URL on our own server, for Django's test client."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def start_flow(client, provider: str, integration: str | None = None) -> str:
    """Press Connect on the Connections page; return the authorize URL the browser is sent to."""
    data = {"integration": integration} if integration else {}
    response = client.post(f"/connections/{provider}/connect/", data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def full_flow(client, provider: str, *, organisations: list[str] | None = None):
    """Connect, consent, come back: the response of our callback."""
    back = consent(start_flow(client, provider), organisations=organisations)
    return client.get(local_path(back))


@pytest.fixture(autouse=True)
def role_groups(db):
    """Transactional tests flush the tables, the role groups of the data migration with them."""
    from django.contrib.auth.models import Group

    from syncapp.core.roles import ADMIN, FINANCE

    for name in (ADMIN, FINANCE):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def xero_org(db) -> xero.Organisation:
    return xero.Organisation.objects.create(name="Demo Builders Pty Ltd", short_code="!dB1")


@pytest.fixture
def xero_app(sandbox, xero_org) -> xero.OAuthClient:
    return xero.OAuthClient.objects.create(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        name="Payment Sync",
        redirect_uris=[f"{sandbox}/connections/xero/callback/"],
    )


@pytest.fixture
def procore_company(db) -> procore.Company:
    return procore.Company.objects.create(name="Harbour Construction")


@pytest.fixture
def procore_user(db, procore_company) -> procore.User:
    user = procore.User.objects.create(login="pm@harbour.example", name="Pat Manager")
    user.companies.add(procore_company)
    return user


@pytest.fixture
def procore_app(sandbox, procore_company, procore_user) -> procore.OAuthClient:
    app = procore.OAuthClient.objects.create(
        client_id=settings.PROCORE_CLIENT_ID,
        client_secret=settings.PROCORE_CLIENT_SECRET,
        name="Payment Sync",
        redirect_uris=[f"{sandbox}/connections/procore/callback/"],
    )
    app.installed_in.add(procore_company)
    return app


def connection_of(provider: str, integration: str = "default") -> Connection:
    return Connection.objects.get(integration=Integration.objects.get(name=integration), provider=provider)


__all__ = ["Provider", "connection_of", "consent", "full_flow", "local_path", "parse_form", "start_flow"]
