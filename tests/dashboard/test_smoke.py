import pytest
from django.urls import reverse


@pytest.mark.parametrize("name", ["home", "payments", "runs", "failures", "mappings", "mapping-bills", "audit"])
def test_pages_render(admin_client, world, name):
    r = admin_client.get(reverse(name))
    assert r.status_code == 200, r.content[:2000]


def test_detail(admin_client, world):
    for url in [
        reverse("payment", args=[world.blocked.pk]),
        reverse("payment", args=[world.failed.pk]),
        reverse("run", args=[world.run.pk]),
        reverse("run-progress", args=[world.run.pk]),
        reverse("run-log", args=[world.run.pk]),
    ]:
        r = admin_client.get(url)
        assert r.status_code in (200, 286), (url, r.content[:3000])
