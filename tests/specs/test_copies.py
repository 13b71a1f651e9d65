"""The specs kept in the repository are the published ones: byte-identical to the copies they
came from (when ../shared/specs is beside the checkout), licences included."""

import pytest

from tests.specs import ORIGIN_DIR, PROCORE_DIR, SPECS_DIR, XERO_DIR


def _copies() -> list[str]:
    return sorted(
        str(path.relative_to(SPECS_DIR)) for folder in (PROCORE_DIR, XERO_DIR) for path in folder.iterdir()
    )


def test_each_vendor_folder_carries_its_mit_licence():
    for folder in (PROCORE_DIR, XERO_DIR):
        assert (folder / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.skipif(not ORIGIN_DIR.is_dir(), reason="the origin ../shared/specs is not beside this checkout")
@pytest.mark.parametrize("name", _copies())
def test_every_copied_spec_is_byte_identical_to_its_origin(name):
    origin = ORIGIN_DIR / name
    assert origin.is_file(), f"{name} has no origin in {ORIGIN_DIR}"
    assert (SPECS_DIR / name).read_bytes() == origin.read_bytes(), f"{name} differs from {origin}: copy it again"
