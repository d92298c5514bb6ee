"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """Raised when the environment cannot make a safe configuration."""


MIN_SECRET_LENGTH = 32
# Keys that have been published (this project's test suite, tutorials, demos): anyone can
# sign a session with them, so production refuses them and `flask check-deploy` names them.
KNOWN_SECRETS = frozenset(
    {
        "testing-secret-key-not-for-production",
        "0123456789abcdef",
        "0123456789abcdef0123456789abcdef",
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "mysecret",
        "my-secret-key",
        "supersecret",
        "super-secret-key",
        "dev",
        "development",
        "dev-key",
        "dev-secret",
        "devkey",
        "test",
        "testing",
        "test-key",
        "password",
        "default",
        "insecure",
        "not-secret",
        "you-will-never-guess",
        "hard to guess string",
        "your-secret-key",
        "your-secret-key-here",
        "replace-me",
        "flask-secret-key",
        "circle",
    }
)
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
HSTS = "max-age=31536000; includeSubDomains"


def secret_problem(secret: str | None) -> str | None:
    """Why a SECRET_KEY is unsafe for production, or None when it will do."""
    if not secret:
        return "SECRET_KEY is not set"
    if secret.strip().lower() in KNOWN_SECRETS:
        return "SECRET_KEY is a published test or demo key"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < 8:
        return "SECRET_KEY repeats too few characters to be random"
    return None


def default_workers() -> int:
    """Gunicorn's worker count when WEB_CONCURRENCY is unset (gunicorn.conf.py uses it too)."""
    return min(2 * multiprocessing.cpu_count() + 1, 4)


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
    # Slugs keep letters of any script (percent-encoded in addresses); True: ASCII only.
    SLUG_TRANSLITERATE = False
    SITE_TIMEZONE = "UTC"

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False

    # Sessions end after this long without a request (staff: anyone who writes), and
    # at the latest this many days after signing in, remembered or not.
    SESSION_IDLE_MINUTES_STAFF = 720
    SESSION_IDLE_MINUTES_READER = 7 * 24 * 60
    SESSION_ABSOLUTE_DAYS = 14
    # Sensitive actions ask for the password again after this many minutes.
    REAUTH_MINUTES = 10

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_RESET_MAX_AGE = 3600

    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    # Failed sign-ins: per account tried (the lock-out), and per address across accounts.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes; 20 per day"
    LOGIN_LIMIT_PER_ADDRESS = "20 per 10 minutes; 100 per day"
    # Registration attempts per address; "already taken" answers count too.
    REGISTER_LIMIT_PER_ADDRESS = "10 per hour"
    SEARCH_LIMIT_PER_ADDRESS = "30 per minute"  # /search and /api/v1/search
    # Newsletter: subscribe forms sent per address; how long a confirmation link works;
    # recipients per batch job (one SMTP connection each); how long a send may show no
    # progress before the worker's clock hands its waiting recipients out again.
    SUBSCRIBE_LIMIT_PER_ADDRESS = "5 per minute; 30 per hour"
    NEWSLETTER_CONFIRM_MAX_AGE = 7 * 24 * 3600
    NEWSLETTER_BATCH_SIZE = 100
    NEWSLETTER_STALLED_AFTER = 300
    # Per person (admins are exempt): images uploaded per hour and bytes stored in all.
    UPLOAD_LIMIT_PER_HOUR = 60
    UPLOAD_QUOTA_BYTES = 500 * 1024 * 1024
    # Archives for import-json / import-wxr: bytes once expanded, and number of entries.
    # and how many times its compressed size one entry (past 1 MB) may expand to.
    IMPORT_MAX_EXPANDED_BYTES = 4 * 1024 * 1024 * 1024
    IMPORT_MAX_ENTRIES = 100_000
    IMPORT_MAX_RATIO = 100
    # Two-factor sign-in: wrong codes per person, how long the password step waits
    # for its code, and how long "trust this browser" lasts.
    TWO_FACTOR_LIMIT = "5 per minute; 20 per hour"
    TWO_FACTOR_PENDING_SECONDS = 300
    TWO_FACTOR_REMEMBER_DAYS = 30
    API_READ_LIMIT = "300 per minute"  # per address
    API_WRITE_LIMIT = "60 per minute"  # per token

    MAIL_DEFAULT_SENDER = "My Circle Story <no-reply@localhost>"

    PAGE_CACHE = True
    PURGE_URLS: tuple[str, ...] = ()  # Varnish instances told of every change (xkey-purge)
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
    # Where upload files live: "local" (UPLOAD_DIR) or "s3" (S3-compatible object storage,
    # for many app servers). Credentials: S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY when set,
    # else boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).
    MEDIA_STORAGE = "local"
    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None  # MinIO, moto, ...; unset for AWS itself
    S3_REGION: str | None = None
    S3_PREFIX = ""  # keys are <prefix>/<year>/<month>/<file>
    S3_PUBLIC_URL: str | None = None  # where readers fetch media; unset: Circle streams it
    S3_ACCESS_KEY_ID: str | None = None
    S3_SECRET_ACCESS_KEY: str | None = None

    SERVER_NAME_FOR_LINKS: str | None = None  # SITE_URL: the one address links are built on
    ALLOWED_HOSTS: list[str] = []  # Host names requests may name; others answer 400
    STRICT_TRANSPORT_SECURITY: str | None = None  # the HSTS header; production sends it


def _override(cfg: type[BaseConfig], read, *names: str) -> None:
    """Let the environment override each named setting, read with read (_env or _env_int)."""
    for name in names:
        setattr(cfg, name, read(name, getattr(cfg, name)))


def _shared_settings(cfg: type[BaseConfig], instance_path: Path) -> None:
    """Fill in the settings every environment reads from the environment."""
    cfg.SITE_NAME = _env("SITE_NAME", cfg.SITE_NAME)
    cfg.SITE_SLOGAN = _env("SITE_SLOGAN", cfg.SITE_SLOGAN)
    cfg.SITE_TAGLINE = _env("SITE_TAGLINE", cfg.SITE_TAGLINE)
    cfg.POSTS_PER_PAGE = _env_int("POSTS_PER_PAGE", cfg.POSTS_PER_PAGE)
    cfg.SLUG_TRANSLITERATE = _env_bool("SLUG_TRANSLITERATE", cfg.SLUG_TRANSLITERATE)
    cfg.SITE_TIMEZONE = _env("SITE_TIMEZONE", cfg.SITE_TIMEZONE)
    try:
        ZoneInfo(cfg.SITE_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"SITE_TIMEZONE is not a known time zone: {cfg.SITE_TIMEZONE!r}") from exc
    cfg.UPLOAD_DIR = _env("UPLOAD_DIR", str(instance_path / "uploads"))
    _media_storage(cfg)
    cfg.PAGE_CACHE = (_env("CIRCLE_PAGE_CACHE", "on") or "on").lower() not in {"off", "0", "no"}
    cfg.PURGE_URLS = tuple(
        url.strip() for url in (_env("CIRCLE_PURGE_URLS", "") or "").split(",") if url.strip()
    )
    for url in cfg.PURGE_URLS:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"CIRCLE_PURGE_URLS holds {url!r}: give http(s) addresses of Varnish")
    cfg.PROXY_COUNT = _env_int("CIRCLE_PROXY_COUNT", 0)  # proxies whose X-Forwarded-* to trust
    cfg.API_READ_LIMIT = _env("API_READ_LIMIT", cfg.API_READ_LIMIT)
    cfg.API_WRITE_LIMIT = _env("API_WRITE_LIMIT", cfg.API_WRITE_LIMIT)
    _override(cfg, _env, "LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS",
              "REGISTER_LIMIT_PER_ADDRESS", "SEARCH_LIMIT_PER_ADDRESS",
              "SUBSCRIBE_LIMIT_PER_ADDRESS")
    _override(cfg, _env_int, "NEWSLETTER_CONFIRM_MAX_AGE", "NEWSLETTER_BATCH_SIZE",
              "NEWSLETTER_STALLED_AFTER")
    _override(cfg, _env_int, "UPLOAD_LIMIT_PER_HOUR", "UPLOAD_QUOTA_BYTES",
              "IMPORT_MAX_EXPANDED_BYTES", "IMPORT_MAX_ENTRIES", "IMPORT_MAX_RATIO")
    cfg.MAX_UPLOAD_BYTES = _env_int("MAX_UPLOAD_BYTES", cfg.MAX_UPLOAD_BYTES)
    cfg.MAX_CONTENT_LENGTH = cfg.MAX_UPLOAD_BYTES + 1024 * 1024
    cfg.SERVER_NAME_FOR_LINKS = _site_url()
    cfg.WEB_CONCURRENCY = _env_int("WEB_CONCURRENCY", default_workers())
    _override(cfg, _env_int, "SESSION_IDLE_MINUTES_STAFF", "SESSION_IDLE_MINUTES_READER",
              "SESSION_ABSOLUTE_DAYS", "REAUTH_MINUTES")

    redis_url = _env("REDIS_URL")
    cfg.REDIS_URL = redis_url
    if redis_url:
        cfg.CACHE_TYPE = "RedisCache"
        cfg.CACHE_REDIS_URL = redis_url
        cfg.RATELIMIT_STORAGE_URI = redis_url
    else:
        cfg.CACHE_TYPE = "SimpleCache"
        # A file every worker on this machine shares (blog/limits_storage.py).
        cfg.RATELIMIT_STORAGE_URI = _env(
            "RATELIMIT_STORAGE_URI", f"circle-sqlite://{instance_path / 'ratelimits.sqlite'}"
        )
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

    cfg.MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 30)  # seconds to wait for the SMTP server

    # The job queue (blog/queue.py): Redis when REDIS_URL is set, else a SQLite file.
    cfg.JOBS_QUEUE_NAME = _env("JOBS_QUEUE_NAME", "circle")
    cfg.JOBS_SQLITE_PATH = _env("JOBS_SQLITE_PATH", str(instance_path / "jobs.sqlite"))
    cfg.WORKER_THREADS = _env_int("WORKER_THREADS", 2)
    # Webhooks to private, loopback or link-local addresses are refused unless this is on
    # (a hook on the same machine or network: development, an intranet receiver).
    cfg.WEBHOOKS_ALLOW_PRIVATE = _env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
    cfg.WEBHOOK_TIMEOUT = _env_int("WEBHOOK_TIMEOUT", 10)  # seconds to wait for a receiver

    cfg.DATABASE_POOL_SIZE = _env_int("DATABASE_POOL_SIZE", 5)
    cfg.DATABASE_MAX_OVERFLOW = _env_int("DATABASE_MAX_OVERFLOW", 5)


MEDIA_STORAGES = ("local", "s3")


def media_storage_problem(config: Mapping) -> str | None:
    """Why the media storage settings cannot work, or None when they will."""
    kind = config.get("MEDIA_STORAGE") or "local"
    if kind not in MEDIA_STORAGES:
        return f"MEDIA_STORAGE must be 'local' or 's3', not {kind!r}"
    if kind == "s3" and not config.get("S3_BUCKET"):
        return "MEDIA_STORAGE=s3 needs S3_BUCKET: the name of the bucket media files go in"
    public = config.get("S3_PUBLIC_URL")
    if kind == "s3" and public and urlsplit(public).scheme not in ("http", "https"):
        return f"S3_PUBLIC_URL must be an http(s) address (https://media.example), not {public!r}"
    return None


def _media_storage(cfg: type[BaseConfig]) -> None:
    """MEDIA_STORAGE and the S3 settings from the environment; settings that cannot work stop
    the start with the reason."""
    cfg.MEDIA_STORAGE = (_env("MEDIA_STORAGE", cfg.MEDIA_STORAGE) or "local").strip().lower()
    _override(cfg, _env, "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX",
              "S3_PUBLIC_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
    reason = media_storage_problem(
        {name: getattr(cfg, name) for name in ("MEDIA_STORAGE", "S3_BUCKET", "S3_PUBLIC_URL")}
    )
    if reason:
        raise ConfigError(reason)


def _site_url() -> str | None:
    """SITE_URL, checked: an absolute http(s) address such as https://mycirclestory.example."""
    raw = _env("SITE_URL")
    if raw is None:
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"SITE_URL must be the site's address, like https://mycirclestory.example, not {raw!r}"
        )
    return raw.strip().rstrip("/")


def _allowed_hosts(cfg: type[BaseConfig], local: bool) -> None:
    """ALLOWED_HOSTS from the environment, else SITE_URL's host (plus localhost when local)."""
    raw = _env("ALLOWED_HOSTS")
    if raw is not None:
        hosts = [host.strip().lower() for host in raw.split(",") if host.strip()]
    else:
        site = cfg.SERVER_NAME_FOR_LINKS
        hosts = [urlsplit(site).hostname] if site else []
        if local:
            hosts += [host for host in LOCAL_HOSTS if host not in hosts]
    cfg.ALLOWED_HOSTS = hosts


def deploy_problems(config: Mapping) -> list[tuple[str, str]]:
    """What is unsafe in a configuration for a public site: (severity, message) pairs."""
    problems: list[tuple[str, str]] = []

    def problem(severity: str, message: str) -> None:
        problems.append((severity, message))

    if config.get("ENV_NAME") != "production":
        problem("error", f"CIRCLE_ENV is {config.get('ENV_NAME')!r}, not 'production'")
    if config.get("DEBUG"):
        problem("error", "debug mode is on (it runs code sent from the browser's error page)")
    if config.get("TESTING"):
        problem("error", "TESTING is on")
    reason = secret_problem(config.get("SECRET_KEY"))
    if reason:
        problem("error", f"{reason}; set a random one: python -c 'import secrets; "
                         "print(secrets.token_hex(32))'")
    site = config.get("SERVER_NAME_FOR_LINKS")
    if not site:
        problem("error", "SITE_URL is not set, so links in mail and feeds have no trusted address")
    elif not site.startswith("https://"):
        problem("error", f"SITE_URL is not an https address: {site}")
    hosts = config.get("ALLOWED_HOSTS") or []
    if not hosts:
        problem("error", "ALLOWED_HOSTS is empty")
    elif "*" in hosts:
        problem("error", "ALLOWED_HOSTS allows any host ('*')")
    if not config.get("SESSION_COOKIE_SECURE"):
        problem("error", "the session cookie is not Secure (SESSION_COOKIE_SECURE)")
    if not config.get("REMEMBER_COOKIE_SECURE"):
        problem("error", "the remember-me cookie is not Secure (REMEMBER_COOKIE_SECURE)")
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        problem("error", "the session cookie is readable by scripts (SESSION_COOKIE_HTTPONLY)")
    if not config.get("STRICT_TRANSPORT_SECURITY"):
        problem("warning", "no Strict-Transport-Security header is sent")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problem("warning", "the database is SQLite; use PostgreSQL (DATABASE_URL) in production")
    workers = config.get("WEB_CONCURRENCY") or 1
    if workers > 1 and not config.get("REDIS_URL"):
        problem(
            "warning",
            f"{workers} workers without REDIS_URL: each keeps its own page cache, and rate "
            "limits are shared only by the workers of this machine",
        )
    reason = media_storage_problem(config)
    if reason:
        problem("error", reason)
    if config.get("MEDIA_STORAGE") == "s3" and workers > 1 and not config.get("S3_PUBLIC_URL"):
        problem(
            "warning",
            "media is on S3 without S3_PUBLIC_URL: every image is streamed through the app "
            "servers; put a CDN or the bucket's address in S3_PUBLIC_URL",
        )
    if not config.get("RATELIMIT_ENABLED", True):
        problem("error", "rate limits are off, so sign-in, registration and reset are unlimited")
    if not config.get("MAIL_SERVER"):
        problem(
            "warning",
            "MAIL_SERVER is not set: mail (password resets, notifications, newsletters) is only "
            "written to the log",
        )
    elif (
        config.get("MAIL_USERNAME")
        and not config.get("MAIL_USE_TLS")
        and not config.get("MAIL_USE_SSL")
    ):
        problem(
            "error", "the mail password would be sent in clear: set MAIL_USE_TLS or MAIL_USE_SSL"
        )
    return problems


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
    _allowed_hosts(DevelopmentConfig, local=True)
    DevelopmentConfig.LINKS_FALLBACK = _development_address()
    return DevelopmentConfig


def _development_address() -> str:
    """Where `make run` serves (gunicorn.conf.py's BIND or PORT): links in mail a worker
    writes point there when SITE_URL is unset, since a worker has no request to ask."""
    bind = (_env("BIND") or "").strip() or f"127.0.0.1:{_env_int('PORT', 5000)}"
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def production_config(instance_path: Path) -> type[BaseConfig]:
    """Build the production configuration; a weak secret or no SITE_URL is fatal."""
    secret = _env("SECRET_KEY")
    if not secret:
        raise ConfigError(
            f"SECRET_KEY must be set (at least {MIN_SECRET_LENGTH} random characters) "
            "when CIRCLE_ENV=production"
        )
    reason = secret_problem(secret)
    if reason:
        raise ConfigError(
            f"{reason}: production needs a random SECRET_KEY of at least "
            f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_hex(32))')"
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
        STRICT_TRANSPORT_SECURITY = HSTS

    _shared_settings(ProductionConfig, instance_path)
    if not ProductionConfig.SERVER_NAME_FOR_LINKS:
        raise ConfigError(
            "SITE_URL must be set when CIRCLE_ENV=production (e.g. https://mycirclestory.example):"
            " every link in mail, feeds and pages is built from it"
        )
    _allowed_hosts(ProductionConfig, local=False)
    return ProductionConfig


# One name per test process for its limits, however many apps the tests build.
_TEST_RUN = secrets.token_hex(4)


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

    _shared_settings(TestingConfig, instance_path)
    _allowed_hosts(TestingConfig, local=True)
    TestingConfig.PAGE_CACHE = False  # query-count tests measure real work; cache tests opt in
    TestingConfig.MAIL_SERVER = None
    TestingConfig.RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", f"circle-test-{_TEST_RUN}")
    if not TestingConfig.REDIS_URL and not _env("RATELIMIT_STORAGE_URI"):
        # A file of this run's own, so resetting it touches no one else's limits.
        limits_file = Path(tempfile.gettempdir()) / f"{TestingConfig.RATELIMIT_KEY_PREFIX}.sqlite"
        TestingConfig.RATELIMIT_STORAGE_URI = f"circle-sqlite://{limits_file}"
    if TestingConfig.REDIS_URL:
        # Each run keeps its own limits, so resetting them touches no one else's.
        TestingConfig.RATELIMIT_STORAGE_OPTIONS = {"key_prefix": TestingConfig.RATELIMIT_KEY_PREFIX}
    TestingConfig.CACHE_KEY_PREFIX = f"circle-test-{secrets.token_hex(4)}:"
    # Each app a test builds has a queue of its own (on Redis too), emptied by the fixtures.
    queue = f"circle-test-{secrets.token_hex(4)}"
    TestingConfig.JOBS_QUEUE_NAME = queue
    TestingConfig.JOBS_SQLITE_PATH = str(Path(tempfile.gettempdir()) / f"{queue}.jobs.sqlite")
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
