"""The sandbox: a local simulator of the Xero and Procore APIs (same paths, JSON, headers, OAuth,
paging, rate limits and errors), for the demo and the tests. Switched on by SANDBOX_ENABLED.

The product reaches it only over HTTP, exactly as it reaches the real services; nothing in
syncapp outside this package imports from it.
"""
