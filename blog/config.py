"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """Raised when the environment cannot make a safe configuration."""


def _env(name: str, default: str | None = None) -> str | None:
    """Return an environment variable, treating an empty value as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    """Return an integer environment variable or raise a clear error."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    """Return a yes/no environment variable."""
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SITE_NAME = "My Circle Story"
    SITE_SLOGAN = "stories from every corner"
    SITE_TAGLINE = (
        "Weave Your World with Threads of Fashion, Business Brilliance, News Narratives, "
        "Storybook Moments, and Healthful Chapters."
    )
    POSTS_PER_PAGE = 10
    SITE_TIMEZONE = "UTC"
    PUBLISH_DUE_INTERVAL = 60  # seconds between on-request checks for due posts (0: never)

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_RESET_MAX_AGE = 3600

    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute; 20 per hour"
    LOGIN_LIMIT_PER_ADDRESS = "30 per minute; 200 per hour"
    # Two-factor sign-in: wrong codes per person, how long the password step waits
    # for its code, and how long "trust this browser" lasts.
    TWO_FACTOR_LIMIT = "5 per minute; 20 per hour"
    TWO_FACTOR_PENDING_SECONDS = 300
    TWO_FACTOR_REMEMBER_DAYS = 30
    API_READ_LIMIT = "300 per minute"  # per address
    API_WRITE_LIMIT = "60 per minute"  # per token

    MAIL_DEFAULT_SENDER = "My Circle Story <no-reply@localhost>"

    PAGE_CACHE = True
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "text/plain", "text/xml", "application/javascript",
        "text/javascript", "application/json", "application/xml", "application/atom+xml",
    ]
    SEND_FILE_MAX_AGE_DEFAULT = 31536000  # assets carry a content hash in their URLs
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # one image, as uploaded
    # Room for the form fields around the largest upload; bigger requests get 413.
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    IMAGE_WIDTHS = (480, 960, 1600)  # the responsive sizes written for each image


def _shared_settings(cfg: type[BaseConfig], instance_path: Path) -> None:
    """Fill in the settings every environment reads from the environment."""
    cfg.SITE_NAME = _env("SITE_NAME", cfg.SITE_NAME)
    cfg.SITE_SLOGAN = _env("SITE_SLOGAN", cfg.SITE_SLOGAN)
    cfg.SITE_TAGLINE = _env("SITE_TAGLINE", cfg.SITE_TAGLINE)
    cfg.POSTS_PER_PAGE = _env_int("POSTS_PER_PAGE", cfg.POSTS_PER_PAGE)
    cfg.SITE_TIMEZONE = _env("SITE_TIMEZONE", cfg.SITE_TIMEZONE)
    try:
        ZoneInfo(cfg.SITE_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"SITE_TIMEZONE is not a known time zone: {cfg.SITE_TIMEZONE!r}") from exc
    cfg.UPLOAD_DIR = _env("UPLOAD_DIR", str(instance_path / "uploads"))
    cfg.PAGE_CACHE = (_env("CIRCLE_PAGE_CACHE", "on") or "on").lower() not in {"off", "0", "no"}
    cfg.PROXY_COUNT = _env_int("CIRCLE_PROXY_COUNT", 0)  # proxies whose X-Forwarded-* to trust
    cfg.API_READ_LIMIT = _env("API_READ_LIMIT", cfg.API_READ_LIMIT)
    cfg.API_WRITE_LIMIT = _env("API_WRITE_LIMIT", cfg.API_WRITE_LIMIT)
    cfg.MAX_UPLOAD_BYTES = _env_int("MAX_UPLOAD_BYTES", cfg.MAX_UPLOAD_BYTES)
    cfg.MAX_CONTENT_LENGTH = cfg.MAX_UPLOAD_BYTES + 1024 * 1024
    cfg.SERVER_NAME_FOR_LINKS = _env("SITE_URL")

    redis_url = _env("REDIS_URL")
    cfg.REDIS_URL = redis_url
    if redis_url:
        cfg.CACHE_TYPE = "RedisCache"
        cfg.CACHE_REDIS_URL = redis_url
        cfg.RATELIMIT_STORAGE_URI = redis_url
    else:
        cfg.CACHE_TYPE = "SimpleCache"
        cfg.RATELIMIT_STORAGE_URI = "memory://"
    cfg.CACHE_DEFAULT_TIMEOUT = _env_int("CACHE_DEFAULT_TIMEOUT", 300)
    cfg.CACHE_KEY_PREFIX = _env("CACHE_KEY_PREFIX", "circle:")
    cfg.RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "circle-rl")
    if redis_url:
        cfg.RATELIMIT_STORAGE_OPTIONS = {"key_prefix": cfg.RATELIMIT_KEY_PREFIX}

    cfg.MAIL_SERVER = _env("MAIL_SERVER")
    cfg.MAIL_PORT = _env_int("MAIL_PORT", 587)
    cfg.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    cfg.MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    cfg.MAIL_USERNAME = _env("MAIL_USERNAME")
    cfg.MAIL_PASSWORD = _env("MAIL_PASSWORD")
    cfg.MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", cfg.MAIL_DEFAULT_SENDER)

    cfg.DATABASE_POOL_SIZE = _env_int("DATABASE_POOL_SIZE", 5)
    cfg.DATABASE_MAX_OVERFLOW = _env_int("DATABASE_MAX_OVERFLOW", 5)


def engine_options(config) -> dict:
    """Return the engine options that suit the configured database."""
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return {}
    return {
        "pool_size": config["DATABASE_POOL_SIZE"],
        "max_overflow": config["DATABASE_MAX_OVERFLOW"],
        "pool_pre_ping": True,
    }


def normalise_database_url(url: str) -> str:
    """Point plain postgres:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_url(instance_path: Path) -> str:
    """Return the embedded default database in the instance folder."""
    return f"sqlite:///{instance_path / 'circle.sqlite'}"


def _development_secret(instance_path: Path) -> str:
    """Generate a secret key once and keep it in the instance folder."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def development_config(instance_path: Path) -> type[BaseConfig]:
    """Build the development configuration with safe defaults."""

    class DevelopmentConfig(BaseConfig):
        ENV_NAME = "development"
        SECRET_KEY = _env("SECRET_KEY") or _development_secret(instance_path)
        SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("DATABASE_URL") or _sqlite_url(instance_path)
        )

    _shared_settings(DevelopmentConfig, instance_path)
    return DevelopmentConfig


def production_config(instance_path: Path) -> type[BaseConfig]:
    """Build the production configuration; a missing secret is fatal."""
    secret = _env("SECRET_KEY")
    if not secret or len(secret) < 16:
        raise ConfigError(
            "SECRET_KEY must be set (at least 16 characters) when CIRCLE_ENV=production"
        )

    class ProductionConfig(BaseConfig):
        ENV_NAME = "production"
        SECRET_KEY = secret
        SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("DATABASE_URL") or _sqlite_url(instance_path)
        )
        SESSION_COOKIE_SECURE = True
        REMEMBER_COOKIE_SECURE = True
        PREFERRED_URL_SCHEME = "https"

    _shared_settings(ProductionConfig, instance_path)
    return ProductionConfig


def testing_config(instance_path: Path) -> type[BaseConfig]:
    """Build the test configuration: fast hashing, no mail, test database."""

    class TestingConfig(BaseConfig):
        ENV_NAME = "testing"
        TESTING = True
        SECRET_KEY = "testing-secret-key-not-for-production"
        SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("TEST_DATABASE_URL") or "sqlite://"
        )
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        PUBLISH_DUE_INTERVAL = 0  # off, so query counts are exact; a test turns it on

    _shared_settings(TestingConfig, instance_path)
    TestingConfig.PAGE_CACHE = False  # query-count tests measure real work; cache tests opt in
    TestingConfig.MAIL_SERVER = None
    TestingConfig.RATELIMIT_KEY_PREFIX = f"circle-test-{secrets.token_hex(4)}"
    if TestingConfig.REDIS_URL:
        # Each run keeps its own limits, so resetting them touches no one else's.
        TestingConfig.RATELIMIT_STORAGE_OPTIONS = {"key_prefix": TestingConfig.RATELIMIT_KEY_PREFIX}
    TestingConfig.CACHE_KEY_PREFIX = f"circle-test-{secrets.token_hex(4)}:"
    return TestingConfig


def load_config(instance_path: Path, name: str | None = None) -> type[BaseConfig]:
    """Choose the configuration named by CIRCLE_ENV (or the given name)."""
    name = name or _env("CIRCLE_ENV", "development")
    builders = {
        "development": development_config,
        "production": production_config,
        "testing": testing_config,
    }
    if name not in builders:
        raise ConfigError(f"CIRCLE_ENV must be one of {', '.join(builders)}, not {name!r}")
    return builders[name](instance_path)
