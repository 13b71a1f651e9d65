"""`python -m tests.torture.procore_reader --seconds S`: a worker process that reads Procore's
project list over and over for S seconds through the product's own client and token store
(syncapp.sync.clients.procore_client, ConnectionTokens), as a second sync worker or a report would.

The token scenario runs three of these beside a sync run so that four processes need a new token at
the same moment. Prints "reading" after its first answer, then "calls=N errors=M"; exits 1 if any
call failed.
"""

from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    seconds = parser.parse_args().seconds

    import django

    django.setup()
    from syncapp.connections.models import Connection
    from syncapp.sync.clients import procore_client

    connection = Connection.objects.get(provider="procore")
    calls = errors = 0
    deadline = time.monotonic() + seconds
    with procore_client(connection) as client:
        while time.monotonic() < deadline:
            try:
                client.projects()
            except Exception as exc:  # any failure is the finding: say what it was
                errors += 1
                print(f"error: {type(exc).__name__}: {exc}", flush=True)
            else:
                calls += 1
                if calls == 1:
                    print("reading", flush=True)
    print(f"calls={calls} errors={errors}", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
