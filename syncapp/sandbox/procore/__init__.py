"""The simulated Procore, reached by the product only over HTTP (mounted at /sandbox/procore/).

- `oauth.py`: login server under `login/` (PROCORE_LOGIN_URL): authorize (consent page), token,
  revoke.
- `api.py`: REST API under `api/` (PROCORE_API_URL): me, companies, projects, vendors,
  commitments, requisitions (v1.1), contract payments; the gate (token, company, rate limits,
  faults) every call passes.
- `ratelimit.py`: hourly and spike windows in process memory; `reset_rate_limits()`, or POST
  `control/reset-rate-limits` from another process.
- `web.py`: commitment page under `web/` (PROCORE_WEB_URL).
- Switches: the shared `Behaviour("procore")` row (faults, limits, expire_tokens,
  commit_then_fail), `Company.refuse_delete_with_origin` (DELETE of a synced payment -> 422) and
  `Company.unique_payment_origin` (on: a taken origin_id -> 409; off: a duplicate is created).
"""
