"""Error pages, JSON errors under /api, and the security headers."""

from __future__ import annotations

import pytest

from blog.services import reading


def test_404_page_is_in_the_site_style(client):
    response = client.get("/category/missing")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in page and 'class="masthead"' in page


def test_403_page_is_in_the_site_style(client, auth, make):
    make.user("reader", username="riya")
    auth.login("riya")
    response = client.get("/editor/")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_a_crash_shows_a_500_page_without_a_trace(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals of the database layer")

    monkeypatch.setattr(reading, "latest", broken)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["status"] == 404


def test_api_crash_is_json_without_a_trace(client, monkeypatch):
    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(reading, "navigation_sections", broken)
    response = client.get("/api/v1/categories")
    assert response.status_code == 500
    assert response.is_json and "secret" not in response.get_data(as_text=True)


def test_api_lists_sections(client, make):
    make.section("Health", slug="health")
    data = client.get("/api/v1/categories").get_json()["data"]
    assert [s["slug"] for s in data] == ["health"]


@pytest.mark.parametrize("url", ["/", "/login", "/category/missing", "/api/v1/categories"])
def test_security_headers_on_every_response(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]


def test_pages_have_no_inline_script_or_handlers(client, make):
    make.section("Health", slug="health")
    for url in ["/", "/login", "/register", "/category/health"]:
        page = client.get(url).get_data(as_text=True).lower()
        assert "<script>" not in page and " onclick=" not in page and " onload=" not in page
