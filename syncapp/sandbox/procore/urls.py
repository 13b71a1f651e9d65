"""URLs of the simulated Procore, mounted at /sandbox/procore/: the login server under `login/`
(PROCORE_LOGIN_URL), the REST API under `api/` (PROCORE_API_URL), web pages under `web/`."""

from django.urls import path

from syncapp.sandbox.procore import api, oauth, web

V10 = "api/rest/v1.0/"
V11 = "api/rest/v1.1/"

urlpatterns = [
    path("login/oauth/authorize", oauth.authorize, name="sandbox-procore-authorize"),
    path("login/oauth/token", oauth.token, name="sandbox-procore-token"),
    path("login/oauth/revoke", oauth.revoke, name="sandbox-procore-revoke"),
    path(V10 + "me", api.me),
    path(V10 + "companies", api.companies),
    path(V10 + "projects", api.projects),
    path(V10 + "projects/<int:project_id>", api.project_detail),
    path(V10 + "vendors", api.vendors),
    path(V10 + "vendors/<int:vendor_id>", api.vendor_detail),
    path(V10 + "work_order_contracts", api.work_order_contracts),
    path(V10 + "work_order_contracts/<int:commitment_id>", api.work_order_contract),
    path(V10 + "purchase_order_contracts", api.purchase_order_contracts),
    path(V10 + "purchase_order_contracts/<int:commitment_id>", api.purchase_order_contract),
    path(V10 + "commitments", api.commitments),
    path(V10 + "commitments/<int:commitment_id>", api.commitment),
    path(V10 + "contract_payments", api.contract_payments),
    path(V10 + "contract_payments/<int:payment_id>", api.contract_payment),
    path(V11 + "requisitions", api.requisitions),
    path(V11 + "requisitions/<int:requisition_id>", api.requisition),
    path(
        "web/projects/<int:project_id>/commitments/<int:commitment_id>",
        web.commitment_page,
        name="sandbox-procore-commitment",
    ),
    # The shape of Procore's own commitment URLs, which the dashboard's "open in Procore" links use.
    path("web/<int:project_id>/project/commitments/<int:commitment_id>", web.commitment_page),
    path("control/reset-rate-limits", web.reset_limits, name="sandbox-procore-reset-rate-limits"),
]
