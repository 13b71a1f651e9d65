"""Writes a .env for the local demo with freshly generated secrets, unless one exists.

The sandbox OAuth client ids and secrets are generated here too; `sandbox_seed` registers them
with the simulated Xero and Procore, so no secret lives in the repository.
"""

import base64
import os
import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if path.exists():
    sys.exit(0)

fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
path.write_text(
    "\n".join(
        [
            "# Written by `make .env` for the local demo. Not for production.",
            "DEBUG=true",
            "SECURE_COOKIES=false",
            f"SECRET_KEY={secrets.token_urlsafe(50)}",
            f"TOKEN_ENCRYPTION_KEYS={fernet_key}",
            "SANDBOX_ENABLED=true",
            f"XERO_CLIENT_ID=sandbox-xero-{secrets.token_hex(8)}",
            f"XERO_CLIENT_SECRET={secrets.token_urlsafe(32)}",
            f"PROCORE_CLIENT_ID=sandbox-procore-{secrets.token_hex(8)}",
            f"PROCORE_CLIENT_SECRET={secrets.token_urlsafe(32)}",
            "# The sandbox Xero signs a webhook delivery to the dashboard when a payment is added.",
            f"XERO_WEBHOOK_KEY={secrets.token_urlsafe(48)}",
            "SANDBOX_XERO_WEBHOOK_URL=http://127.0.0.1:8000/webhooks/xero/",
            "",
        ]
    )
)
print(f"wrote {path} with fresh secrets")
