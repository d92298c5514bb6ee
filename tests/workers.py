"""A real `flask worker` for the tests: a child process on the test app's database and queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the child must share with the test's app to work on the same site and queue.
SHARED = (
    "SQLALCHEMY_DATABASE_URI", "JOBS_QUEUE_NAME", "JOBS_SQLITE_PATH", "REDIS_URL",
    "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "CACHE_KEY_PREFIX", "CACHE_GENERATION_DIR",
    "UPLOAD_DIR", "SERVER_NAME_FOR_LINKS", "WEBHOOKS_ALLOW_PRIVATE",
)
_CHILD = """
import json, sys
from blog import create_app, queue
overrides = json.loads(sys.argv[1])
app = create_app(overrides)
queue.run_worker(app, int(sys.argv[2]))
"""


def start_worker(app, threads: int = 2, **overrides) -> subprocess.Popen:
    """Start a worker process (the consumer `flask worker` runs) on app's database and queue."""
    config = {"CIRCLE_ENV": "testing"}
    config.update({k: app.config[k] for k in SHARED if app.config.get(k) is not None})
    config.update(overrides)
    env = dict(os.environ)
    if not app.config.get("REDIS_URL"):
        env.pop("REDIS_URL", None)
    # A file, not a pipe: a chatty worker never blocks on it.
    with tempfile.NamedTemporaryFile(prefix="circle-worker-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(config), str(threads)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = log.name
    return process


def stop_worker(process: subprocess.Popen, kill: bool = False) -> str:
    """Stop a worker (SIGKILL when kill, else SIGINT and a wait); return what it logged."""
    if process.poll() is None:
        if kill:
            process.kill()
        else:
            process.send_signal(2)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log = Path(process.log_path)
    text = log.read_text(errors="replace")
    log.unlink(missing_ok=True)
    return text


def wait_until(check, timeout: float = 60.0, every: float = 0.1) -> bool:
    """Poll check() until it is true or timeout seconds pass; return its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return bool(check())
