"""Every page names the site's icon, and the icon is served."""

from django.templatetags.static import static


def test_pages_link_the_svg_favicon_and_it_is_served(finance_client, world):
    page = finance_client.get("/").content.decode()
    url = static("favicon.svg")
    assert f'<link rel="icon" href="{url}" type="image/svg+xml">' in page
    response = finance_client.get(url)
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content if response.streaming else [response.content])
