"""The web container's health check (docker-compose.yml): GET /healthz from inside the container,
exit 0 on 200, 1 otherwise, with one line saying what it got.

It asks gunicorn directly over plain HTTP (settings exempt /healthz from the HTTPS redirect) and
names a host Django accepts (the first of ALLOWED_HOSTS), or Django would answer 400 to
"127.0.0.1". Standard library only: the image has Python, not curl.

    python scripts/web_health.py [port]      (default 8000)
"""

import http.client
import os
import sys


def host_header(allowed_hosts: str) -> str:
    """A name the first ALLOWED_HOSTS entry accepts: '.example.com' accepts example.com, '*' any."""
    first = next((entry.strip() for entry in allowed_hosts.split(",") if entry.strip()), "*")
    return "localhost" if first == "*" else first.lstrip(".")


def check(port: int, allowed_hosts: str) -> tuple[bool, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host_header(allowed_hosts)})
        response = connection.getresponse()
    except OSError as error:
        return False, f"web not answering on port {port}: {error}"
    finally:
        connection.close()
    return response.status == 200, f"/healthz answered {response.status} {response.reason}"


if __name__ == "__main__":
    healthy, line = check(int(sys.argv[1]) if len(sys.argv) > 1 else 8000, os.environ.get("ALLOWED_HOSTS", ""))
    print(line)
    sys.exit(0 if healthy else 1)
