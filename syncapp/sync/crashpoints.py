"""Named points in a run where a crash would hurt most (between fetch, resolve and each send).

Production code calls `reached(name)`; it does nothing unless a test has set `hook`, which may
raise to simulate a worker dying right there (a BaseException, so the run cannot tidy up).
"""

from collections.abc import Callable

hook: Callable[[str], None] | None = None


def reached(name: str) -> None:
    if hook is not None:
        hook(name)
