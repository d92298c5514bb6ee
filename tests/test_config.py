"""Configuration from the environment."""

from __future__ import annotations

import pytest

from blog import create_app
from blog.config import ConfigError, load_config, normalise_database_url

STRONG_SECRET = "c2f1a9e07b4d4e6f8a3b5c7d9e1f2a4b6c8d0e2f"


def test_production_refuses_to_start_without_a_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("CIRCLE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_config(tmp_path)


def test_production_uses_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("SITE_URL", "https://mycirclestory.example")
    config = load_config(tmp_path, "production")
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE
    assert config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"


def test_development_secret_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path, "development").SECRET_KEY
    second = load_config(tmp_path, "development").SECRET_KEY
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_development_defaults_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load_config(tmp_path, "development")
    assert f"sqlite:///{tmp_path / 'circle.sqlite'}" == config.SQLALCHEMY_DATABASE_URI


@pytest.mark.parametrize(
    "env,expected",
    [
        ({}, "http://127.0.0.1:5000"),
        ({"PORT": "8000"}, "http://127.0.0.1:8000"),
        ({"BIND": "0.0.0.0:8080"}, "http://127.0.0.1:8080"),
        ({"BIND": "devbox.local:5001"}, "http://devbox.local:5001"),
    ],
)
def test_development_mail_links_from_a_worker_point_where_make_run_serves(
    monkeypatch, tmp_path, env, expected
):
    """A worker has no request to build links on: without SITE_URL they go to gunicorn's bind."""
    for name in ("SITE_URL", "BIND", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    site = create_app({"CIRCLE_ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    from blog.hosts import absolute_url

    with site.app_context():
        assert absolute_url("public.subscribe") == f"{expected}/subscribe"


def test_redis_url_moves_cache_and_limits_to_redis(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    config = load_config(tmp_path, "development")
    assert config.CACHE_TYPE == "RedisCache"
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/3"


def test_purge_urls_name_every_varnish(monkeypatch, tmp_path):
    monkeypatch.setenv("CIRCLE_PURGE_URLS", "http://127.0.0.1:6081, http://10.0.0.5:6081")
    config = load_config(tmp_path, "development")
    assert config.PURGE_URLS == ("http://127.0.0.1:6081", "http://10.0.0.5:6081")
    monkeypatch.setenv("CIRCLE_PURGE_URLS", "127.0.0.1:6081")
    with pytest.raises(ConfigError, match="CIRCLE_PURGE_URLS"):
        load_config(tmp_path, "development")
    monkeypatch.delenv("CIRCLE_PURGE_URLS")
    assert load_config(tmp_path, "development").PURGE_URLS == ()


def test_bad_values_are_clear_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTS_PER_PAGE", "lots")
    with pytest.raises(ConfigError, match="POSTS_PER_PAGE must be a whole number"):
        load_config(tmp_path, "development")
    monkeypatch.delenv("POSTS_PER_PAGE")
    with pytest.raises(ConfigError, match="CIRCLE_ENV must be one of"):
        load_config(tmp_path, "staging")


def test_postgres_urls_use_psycopg3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_site_name_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SITE_NAME", "Another Circle")
    app = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SITE_NAME"] == "Another Circle"


def test_behind_a_proxy_links_use_the_forwarded_scheme(database_url, app):
    # Without SITE_URL (development), links follow the request once its host is allowed.
    proxied = create_app(
        {"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "PROXY_COUNT": 1,
         "ALLOWED_HOSTS": ["localhost", "mag.example"]}
    )
    page = proxied.test_client().get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mag.example"}
    )
    assert '<link rel="canonical" href="https://mag.example/">' in page.get_data(as_text=True)
    direct = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    page = direct.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert '<link rel="canonical" href="http://localhost/">' in page.get_data(as_text=True)


def test_site_url_decides_every_link_whatever_the_proxy_says(database_url, app):
    proxied = create_app(
        {"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "PROXY_COUNT": 1,
         "ALLOWED_HOSTS": ["localhost", "mag.example"],
         "SERVER_NAME_FOR_LINKS": "https://mycirclestory.example"}
    )
    page = proxied.test_client().get(
        "/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-Host": "mag.example"}
    )
    html = page.get_data(as_text=True)
    assert '<link rel="canonical" href="https://mycirclestory.example/">' in html
    assert "mag.example" not in html


@pytest.mark.parametrize(
    "secret,reason",
    [
        ("k3Y9xq2LmP0wRt7vB4nZ", "shorter than 32"),  # 20 characters
        ("testing-secret-key-not-for-production", "published test or demo key"),
        ("0123456789abcdef", "published test or demo key"),
        ("changeme", "published test or demo key"),
        ("a" * 40, "too few characters"),
    ],
)
def test_production_refuses_a_weak_or_known_secret(monkeypatch, tmp_path, secret, reason):
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("SITE_URL", "https://mycirclestory.example")
    with pytest.raises(ConfigError, match=reason):
        load_config(tmp_path, "production")
    monkeypatch.setenv("CIRCLE_ENV", "production")
    with pytest.raises(ConfigError, match="production needs a random SECRET_KEY"):
        create_app()


def test_production_requires_site_url(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.delenv("SITE_URL", raising=False)
    with pytest.raises(ConfigError, match="SITE_URL must be set"):
        load_config(tmp_path, "production")
    for bad in ("mycirclestory.example", "ftp://mycirclestory.example", "https://"):
        monkeypatch.setenv("SITE_URL", bad)
        with pytest.raises(ConfigError, match="SITE_URL must be the site's address"):
            load_config(tmp_path, "production")


def test_allowed_hosts_default_to_site_url_and_local_names(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("SITE_URL", "https://mycirclestory.example/")
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    production = load_config(tmp_path, "production")
    assert production.ALLOWED_HOSTS == ["mycirclestory.example"]
    assert production.SERVER_NAME_FOR_LINKS == "https://mycirclestory.example"
    assert production.STRICT_TRANSPORT_SECURITY == "max-age=31536000; includeSubDomains"
    development = load_config(tmp_path, "development")
    assert development.ALLOWED_HOSTS == ["mycirclestory.example", "localhost", "127.0.0.1", "::1"]
    assert development.STRICT_TRANSPORT_SECURITY is None
    monkeypatch.setenv("ALLOWED_HOSTS", "mycirclestory.example, .Circle.example ,www.example")
    listed = load_config(tmp_path, "production")
    assert listed.ALLOWED_HOSTS == ["mycirclestory.example", ".circle.example", "www.example"]


@pytest.mark.parametrize(
    "host,allowed",
    [
        ("mycirclestory.example", True),
        ("MyCircleStory.Example:8443", True),
        ("news.circle.example", True),
        ("circle.example", True),
        ("evil.example", False),
        ("mycirclestory.example.evil.example", False),
        ("evilcircle.example", False),
        ("[::1]:5000", True),
        ("mycirclestory.example/evil", False),
        ("", False),
    ],
)
def test_allowed_hosts_match_like_djangos(host, allowed):
    from blog.hosts import host_allowed

    hosts = ["mycirclestory.example", ".circle.example", "::1"]
    assert host_allowed(host, hosts) is allowed
