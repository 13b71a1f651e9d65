"""The code stays readable: no function in syncapp/ above cyclomatic complexity 15 (radon's
measure; a function that branches more wants small named helpers or a table)."""

from pathlib import Path

from radon.complexity import cc_visit

MAX_COMPLEXITY = 15
SYNCAPP = Path(__file__).resolve().parent.parent / "syncapp"


def _functions_of(path: Path):
    for block in cc_visit(path.read_text()):
        yield block
        yield from getattr(block, "methods", ())  # a class: its methods are measured one by one


def test_no_function_in_syncapp_is_above_complexity_15():
    sources = [p for p in SYNCAPP.rglob("*.py") if "migrations" not in p.parts]
    assert len(sources) > 100  # the walk found the package
    too_complex = [
        f"{path.relative_to(SYNCAPP)}:{block.lineno} {block.name} ({block.complexity})"
        for path in sources
        for block in _functions_of(path)
        if block.complexity > MAX_COMPLEXITY
    ]
    assert too_complex == []
