"""Benchmark Circle under gunicorn with wrk; print and save a Markdown table.

    python bench/run.py                       # 10,000 posts on SQLite
    python bench/run.py --posts 100000        # 100,000 posts on SQLite
    python bench/run.py --engine postgres     # PostgreSQL + Redis (local services)

It builds the site the way a real one is built, once: it writes a WordPress
export of N posts (bench/wxr.py, cached in bench/data/), creates a fresh database,
runs `flask db upgrade` and `flask import-wxr` on it (progress and report shown,
the counts checked against the export), and does nothing more to it (no ANALYZE).
--seed-direct seeds with bench/seed.py instead; --reseed builds it again.

Then it starts gunicorn with the project's gunicorn.conf.py and
CIRCLE_ENV=production on a free loopback port and runs `wrk --latency` against
each reader page (home, a section's page 1 and a deep page, a typical article, the
busiest tag, the article's author, search for a common and a rare word, the site
and section feeds, the API's post list), first with the page cache on, then with
CIRCLE_PAGE_CACHE=off. Last come the two ceilings: the same article's bytes from
a bare Flask view (bench/bare.py) on the same gunicorn settings, and from disk by
nginx (a generated minimal nginx.conf, in the foreground). Each page's rate is
shown as a share of both. Workers' peak RSS (VmHWM) is sampled throughout.
--mixed SECONDS adds the mixed run (bench/mixed.py: readers while staff write).
--lighthouse adds Lighthouse's performance at phone width (score, LCP, CLS, TBT) of
home and the article, on the first gunicorn (bench/lighthouse.py; measured, not a test).
The table goes to stdout and to bench/results/<date>-<n>posts-<engine>.md.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
PYTHON = sys.executable
sys.path.insert(0, str(BENCH))

import lighthouse  # noqa: E402
import wxr  # noqa: E402
from wxr import COMMON_WORD, RARE_WORD  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "circle_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "bench-throwaway-secret-key-not-for-production"
ARTICLE_SLUG_PREFIX = "revolutionizing-cancer-treatment"  # the --seed-direct site's article
BARE = "bare Flask ceiling"
NGINX = "nginx static copy"
SIGNED_IN = "article (signed-in reader)"
THROUGH_VARNISH = " through Varnish"  # "article through Varnish", "home through Varnish"

# The targets from issue 14, checked under the table.
TARGET_UNCACHED_SHARE = 0.15  # of the bare-Flask ceiling: article, section page 1, home
TARGET_CACHED_SHARE = 0.7  # of the bare-Flask ceiling, cached in the app
TARGET_DEEP_PAGE_RATIO = 1.2
TARGET_SEARCH_P99_MS = 50
TARGET_RSS_MB = 150
TARGET_MIXED_HIT_RATE = 0.95
TARGET_SIGNED_IN_SHARE = 0.5  # of the anonymous cached article
TARGET_VARNISH_SHARE = 0.3  # of nginx serving the same bytes

_children: list[subprocess.Popen] = []


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- processes -----------------------------------------------------------------------


def _kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process we started and everything in its process group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _cleanup() -> None:
    for proc in list(_children):
        _kill_group(proc)
        _children.remove(proc)


def _on_signal(signum, _frame) -> None:
    _cleanup()
    raise SystemExit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 30, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET a URL (as an anonymous reader unless headers say otherwise); return status,
    headers and body."""
    request = urllib.request.Request(url, headers={"X-Forwarded-For": "10.255.0.1",
                                                   **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class RssSampler(threading.Thread):
    """Track the peak resident memory (VmHWM) of every worker of a gunicorn master."""

    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.peak_kb = 0
        self.workers_seen: set[int] = set()
        self._stop = threading.Event()

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    @staticmethod
    def _hwm_kb(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _stat(pid: int) -> list[str]:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return []
        return text.rsplit(")", 1)[1].split()

    def cpu_seconds(self) -> float:
        """CPU time used by all workers so far: reaped ones (the master's cutime and
        cstime) plus the live ones. Recycled workers' start-up counts too."""
        ticks = 0
        master = self._stat(self.master_pid)
        if master:
            ticks += int(master[13]) + int(master[14])  # cutime, cstime
        for pid in self._children(self.master_pid):
            fields = self._stat(pid)
            if fields:
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        for pid in self._children(self.master_pid):
            self.workers_seen.add(pid)
            self.peak_kb = max(self.peak_kb, self._hwm_kb(pid))

    def run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.25)

    def stop(self) -> None:
        self.sample()
        self._stop.set()


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    sampler: RssSampler
    log: Path
    cleanup: Path | None = None  # a folder to remove when stopped

    def stop(self) -> None:
        self.sampler.stop()
        _kill_group(self.proc)
        if self.proc in _children:
            _children.remove(self.proc)
        if self.cleanup:
            shutil.rmtree(self.cleanup, ignore_errors=True)


def _wait_healthy(proc: subprocess.Popen, base: str, log: Path) -> None:
    """Wait until base/healthz answers 200; stop when the process dies or 60 s pass."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{Path(str(proc.args[0])).name} exited with {proc.returncode}; "
                             f"see {log}")
        try:
            status, _, _ = get(base + "/healthz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    _kill_group(proc)
    raise SystemExit(f"{base}/healthz did not answer within 60s; see {log}")


def start_gunicorn(app_spec: str, env: dict, log: Path, extra_args: list[str]) -> Server:
    """Start gunicorn -c gunicorn.conf.py in its own process group; wait for /healthz."""
    port = free_port()
    env = {**env, "BIND": f"127.0.0.1:{port}"}
    cmd = [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), *extra_args, app_spec]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as err:
        # The access log (stdout) is written and thrown away: the cost stays, the disk doesn't fill.
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True,
        )
    _children.append(proc)
    base = f"http://127.0.0.1:{port}"
    _wait_healthy(proc, base, log)
    sampler = RssSampler(proc.pid)
    sampler.start()
    return Server(proc, base, sampler, log)


# --- wrk -----------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    path: str
    cache: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    requests: int = 0
    x_cache: str = ""
    kb: float = 0.0
    cpu_ms: float = 0.0  # worker CPU per request
    load: float = 0.0  # 1-minute load average after the run
    error_detail: dict = field(default_factory=dict)


def run_wrk(url: str, args, duration: int, headers: dict | None = None) -> dict:
    cmd = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency",
        "--timeout", "30s", "-s", str(BENCH / "wrk.lua"), url,
    ]
    for name, value in (headers or {}).items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    match = re.search(r"^BENCH_JSON (\{.*\})$", out.stdout, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk gave no summary for {url}:\n{out.stdout}\n{out.stderr}")
    return json.loads(match.group(1))


def measure(server: Server, name: str, path: str, cache: str, args,
            sent: dict | None = None, base: str | None = None) -> Result:
    """Run wrk on one page of server (or through a front at base), with the headers sent."""
    url = (base or server.base) + path
    status, headers, body = get(url, headers=sent)
    if status != 200:
        raise SystemExit(f"{path} answered {status} before the run; see {server.log}")
    run_wrk(url, args, args.warmup, sent)  # every worker renders (and caches) the page first
    _, headers, body = get(url, headers=sent)
    cpu_before = server.sampler.cpu_seconds()
    data = run_wrk(url, args, args.duration, sent)
    cpu = server.sampler.cpu_seconds() - cpu_before
    load = float(Path("/proc/loadavg").read_text().split()[0])
    seconds = data["duration_us"] / 1e6
    errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    result = Result(
        name=name, path=path, cache=cache,
        rps=data["requests"] / seconds,
        p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        errors=sum(errors.values()), requests=data["requests"],
        x_cache=headers.get("X-Cache", "-"), kb=len(body) / 1024, error_detail=errors,
        cpu_ms=1000 * cpu / max(1, data["requests"]), load=load,
    )
    print(f"   {name:<26} cache {cache:<7} {result.rps:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
          f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  cpu {result.cpu_ms:5.2f} ms/req  "
          f"load {load:.1f}  ({result.x_cache})", flush=True)
    return result


# --- database ------------------------------------------------------------------------


def _source(args) -> str:
    """How the site is built: "wxr" (import a generated export) or "seed" (seed.py)."""
    return "seed" if args.seed_direct else "wxr"


def sqlite_path(args) -> Path:
    """The SQLite database of this size and source."""
    return DATA / f"{'bench' if args.seed_direct else 'wxr'}-{args.posts}.sqlite"


def database_url(args) -> str:
    """The bench database's address."""
    if args.engine == "postgres":
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
    return f"sqlite:///{sqlite_path(args)}"


def _pg(sql: str, database: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
        capture_output=True, text=True, timeout=600, check=True,
    )
    return out.stdout.strip()


def sql_row(args, sql: str) -> tuple | None:
    """The first row of a query on the bench database (values as text on PostgreSQL)."""
    if args.engine == "postgres":
        out = _pg(sql, PG_DB)
        return tuple(out.splitlines()[0].split("|")) if out else None
    with sqlite3.connect(sqlite_path(args)) as conn:
        return conn.execute(sql).fetchone()


def _built_marker(args) -> Path:
    """The note of what the bench database holds and how it was built."""
    return DATA / f"built-{args.engine}-{args.posts}.json"


def _database_posts(args) -> int | None:
    """How many posts the bench database holds, or None when it is not there."""
    if args.engine == "postgres":
        if _pg(f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'") != "1":
            return None
    elif not sqlite_path(args).exists():
        return None
    try:
        return int(sql_row(args, "SELECT count(*) FROM posts")[0])
    except (subprocess.CalledProcessError, sqlite3.Error, TypeError):
        return None


def drop_database(args) -> None:
    if args.engine == "postgres":
        _pg(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    else:
        for suffix in ("", "-wal", "-shm"):
            sqlite_path(args).with_name(sqlite_path(args).name + suffix).unlink(missing_ok=True)
    shutil.rmtree(upload_dir(args), ignore_errors=True)
    _built_marker(args).unlink(missing_ok=True)


def upload_dir(args) -> Path:
    return DATA / f"uploads-{args.engine}-{args.posts}"


def export_file(args) -> tuple[Path, wxr.Manifest]:
    """The generated WordPress export of args.posts posts and its manifest, written if missing."""
    path = DATA / f"magazine-{args.posts}.wxr"
    note = path.with_name(path.name + ".json")
    if path.exists() and note.exists() and not args.regenerate:
        manifest = wxr.Manifest(**json.loads(note.read_text()))
        if manifest.version == wxr.VERSION and manifest.seed == wxr.SEED:
            say(f"using {path.relative_to(ROOT)} ({manifest.bytes / 1e6:,.0f} MB)")
            return path, manifest
    say(f"writing a WordPress export of {args.posts:,} posts (bench/wxr.py)")

    def show(done: int, total: int) -> None:
        print(f"\r    {done:,}/{total:,} posts", end="", flush=True)

    DATA.mkdir(parents=True, exist_ok=True)
    manifest = wxr.generate(path, args.posts, progress=show)
    print()
    note.write_text(json.dumps(asdict(manifest), indent=2))
    say(f"{path.relative_to(ROOT)}: {manifest.bytes / 1e6:,.0f} MB in {manifest.seconds:.0f}s")
    return path, manifest


def _flask(args, env: dict, *command: str) -> float:
    """Run a flask command on the bench database, its output on the terminal; return seconds."""
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-m", "flask", *command], cwd=ROOT, env={**env, "FLASK_APP": "wsgi"},
        check=True, timeout=args.seed_timeout,
    )
    return time.monotonic() - started


def _check_import(args, manifest: wxr.Manifest) -> None:
    """Stop when the database does not hold what the export holds."""
    want = {
        "published posts": (manifest.published, "SELECT count(*) FROM posts WHERE kind = 'post' "
                            "AND status = 'published'"),
        "posts": (manifest.posts, "SELECT count(*) FROM posts WHERE kind = 'post'"),
        "comments": (manifest.comments, "SELECT count(*) FROM comments"),
        "tags": (manifest.tags, "SELECT count(*) FROM tags"),
    }
    for what, (expected, sql) in want.items():
        have = int(sql_row(args, sql)[0])
        if have != expected:
            raise SystemExit(f"the import brought {have:,} {what} over, the export has "
                             f"{expected:,}: see the import report above")


def build_database(args, env: dict) -> dict:
    """The bench database, built when missing; return the note of how it was built.

    By default the site is built as a real one is: `flask db upgrade` on a fresh
    database, then `flask import-wxr` of the generated export. Nothing else is done
    to it afterwards (no ANALYZE): the bench measures what an import leaves.
    """
    marker = _built_marker(args)
    if not args.reseed and marker.exists():
        built = json.loads(marker.read_text())
        # One PostgreSQL database serves every size: check it holds this build's rows.
        if built.get("source") == _source(args) and _database_posts(args) == built.get("rows"):
            say(f"using the {args.engine} database built on {built['date']} "
                f"({built['how']}); flask db upgrade, as a deploy does")
            _flask(args, env, "db", "upgrade")
            return built
    manifest = None
    if not args.seed_direct:
        path, manifest = export_file(args)
    say(f"a fresh {args.engine} database for {args.posts:,} posts")
    drop_database(args)
    DATA.mkdir(parents=True, exist_ok=True)
    if args.engine == "postgres":
        _pg(f"CREATE DATABASE {PG_DB}")
    if args.seed_direct:
        started = time.monotonic()
        subprocess.run(
            [PYTHON, str(BENCH / "seed.py"), "--database-url", database_url(args),
             "--posts", str(args.posts), "--upload-dir", str(upload_dir(args))],
            cwd=ROOT, check=True, timeout=args.seed_timeout,
        )
        seconds = time.monotonic() - started
        how = f"bench/seed.py in {seconds:.0f}s, ANALYZEd by the seeder"
        built = {"source": "seed", "seconds": round(seconds, 1)}
    else:
        say("flask db upgrade")
        upgrade = _flask(args, env, "db", "upgrade")
        say(f"flask import-wxr {path.relative_to(ROOT)}")
        seconds = _flask(args, env, "import-wxr", str(path))
        _check_import(args, manifest)
        how = (f"flask import-wxr of the generated export ({manifest.bytes / 1e6:,.0f} MB, "
               f"written in {manifest.seconds:.0f}s) in {seconds:.0f}s after a "
               f"{upgrade:.0f}s flask db upgrade; no ANALYZE by the bench")
        built = {"source": "wxr", "seconds": round(seconds, 1), "manifest": asdict(manifest)}
    built.update({"date": date.today().isoformat(), "how": how, "rows": _database_posts(args)})
    marker.write_text(json.dumps(built, indent=2))
    say(how)
    return built


@dataclass
class Targets:
    """What the bench measures on this site: addresses found in the database."""

    article: str
    section: str
    section_posts: int
    tag: str
    author: str


def find_targets(args, built: dict) -> Targets:
    """The article (the export's typical one, or the CAR-T feature), its section and author,
    and the tag on most posts."""
    join = ("FROM posts p JOIN categories c ON c.id = p.category_id "
            "JOIN users u ON u.id = p.author_id")
    if built["source"] == "wxr":
        where = f"p.wp_post_id = {int(built['manifest']['article_wp_id'])}"
    else:
        where = f"p.slug LIKE '{ARTICLE_SLUG_PREFIX}%'"
    row = sql_row(args, f"SELECT c.slug, p.slug, u.username {join} WHERE {where} "
                        "ORDER BY p.id LIMIT 1")
    if row is None:
        raise SystemExit("the bench article is not in the database: --reseed")
    section, slug, author = row
    tag = sql_row(args, "SELECT t.slug FROM tags t JOIN post_tags pt ON pt.tag_id = t.id "
                        "GROUP BY t.id, t.slug ORDER BY count(*) DESC, t.id LIMIT 1")[0]
    size = int(sql_row(args, "SELECT count(*) FROM posts p JOIN categories c ON "
                             f"c.id = p.category_id WHERE c.slug = '{section}' "
                             "AND p.status = 'published'")[0])
    return Targets(article=f"/{section}/{slug}", section=section, section_posts=size,
                   tag=tag, author=author)


# --- the machine ---------------------------------------------------------------------


def _first(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine(args, workers: int) -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    commit = _first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    info = {
        "CPU": f"{cpu}, {os.cpu_count()} CPUs (nproc)",
        "Memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "gunicorn": _first([PYTHON, "-m", "gunicorn", "--version"]),
        "wrk": _first(["wrk", "--version"]).split(" Copyright")[0],
        "Git commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "Workers": f"{workers} (gunicorn.conf.py" + (", WEB_CONCURRENCY)" if
                                                     os.environ.get("WEB_CONCURRENCY") else ")"),
        "Load": f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s "
                f"(after a {args.warmup}s warm-up per URL), no Accept-Encoding",
    }
    if args.engine == "postgres":
        info["PostgreSQL"] = _pg("SHOW server_version")
        info["Redis"] = _first(["redis-server", "--version"])
    return info


def gunicorn_workers(env: dict) -> int:
    code = ("import runpy; print(runpy.run_path('gunicorn.conf.py')['workers'])")
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=30, check=True)
    return int(out.stdout.strip())


# --- nginx ---------------------------------------------------------------------------


def nginx_binary() -> str | None:
    """nginx's path (Debian puts it in /usr/sbin), or None."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def start_nginx(binary: str, page: Path, workers: int) -> Server:
    """nginx serving page's bytes from disk on a free port: the ceiling of a static file.

    A minimal generated nginx.conf in its own prefix folder, in the foreground
    (no daemon), as many worker processes as gunicorn has, no access log.
    """
    port = free_port()
    prefix = DATA / f"nginx-{os.getpid()}"
    shutil.rmtree(prefix, ignore_errors=True)
    (prefix / "www").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    shutil.copyfile(page, prefix / "www" / "article.html")
    temp = "".join(f"    {kind}_temp_path {prefix / 'tmp' / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = prefix / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes {workers};\n"
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    access_log off;\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    keepalive_requests 1000000;\n"
        "    default_type text/html;\n"
        f"{temp}"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        f"        root {prefix / 'www'};\n"
        "        location = /healthz { return 200 'ok'; }\n"
        "        location / { try_files /article.html =404; }\n"
        "    }\n"
        "}\n"
    )
    command = [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
    return _serve(command, port, DATA / "logs" / "nginx.log", prefix)


def _serve(command: list[str], port: int, log: Path, folder: Path) -> Server:
    """Start a server in the foreground (its output to log), wait for /healthz on port;
    folder is removed when it stops."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as err:
        proc = subprocess.Popen(command, stdout=err, stderr=subprocess.STDOUT,
                                start_new_session=True)
    _children.append(proc)
    base = f"http://127.0.0.1:{port}"
    _wait_healthy(proc, base, log)
    sampler = RssSampler(proc.pid)
    sampler.start()
    server = Server(proc, base, sampler, log)
    server.cleanup = folder
    return server


# --- a signed-in reader ----------------------------------------------------------------

READER = "bench-reader"
READER_PASSWORD = "bench-reader-pass-8f3k2q-not-secret"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 after signing in carries the session cookie: keep it


def _cookies(headers) -> dict[str, str]:
    """name -> value of each cookie a response sets."""
    found = {}
    for line in headers.get_all("Set-Cookie") or ():
        name, _, rest = line.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def sign_in_reader(args, env: dict, base: str) -> str:
    """Create the bench's reader account (once) and sign it in; return its Cookie header."""
    subprocess.run(
        [PYTHON, "-m", "flask", "create-user", "--email", f"{READER}@bench.circle.example",
         "--username", READER, "--role", "reader", "--password", READER_PASSWORD],
        cwd=ROOT, env={**env, "FLASK_APP": "wsgi"}, capture_output=True, check=False,
        timeout=120,
    )  # refused (and harmless) when an earlier run created it
    opener = urllib.request.build_opener(_NoRedirect)
    sent = {"X-Forwarded-For": "10.254.0.1"}
    with opener.open(urllib.request.Request(base + "/login", headers=sent), timeout=30) as page:
        jar = _cookies(page.headers)
        field = re.search(rb'<input[^>]*name="csrf_token"[^>]*>', page.read())
    token = field and re.search(rb'value="([^"]+)"', field.group(0))
    if not token:
        raise SystemExit("the sign-in page has no CSRF token")
    form = urllib.parse.urlencode({"csrf_token": token.group(1).decode(), "login": READER,
                                   "password": READER_PASSWORD}).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    request = urllib.request.Request(base + "/login", data=form, method="POST", headers={
        **sent, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        answer = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        answer = error
    if answer.status not in (302, 303):
        raise SystemExit(f"the bench reader could not sign in ({answer.status})")
    jar.update(_cookies(answer.headers))
    # The sign-in leaves a welcome message in the session: read it once (as the browser
    # does on the next page), or every request would carry it and be nobody else's page.
    landing = urllib.parse.urljoin(base + "/login", answer.headers.get("Location") or "/")
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    with opener.open(urllib.request.Request(landing, headers={**sent, "Cookie": cookie}),
                     timeout=30) as page:
        jar.update(_cookies(page.headers))
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --- Varnish -------------------------------------------------------------------------

VCL = ROOT / "deploy" / "varnish" / "circle.vcl"


def varnishd_binary() -> str | None:
    """varnishd's path (Debian puts it in /usr/sbin), or None."""
    return shutil.which("varnishd") or next(
        (p for p in ("/usr/sbin/varnishd",) if os.access(p, os.X_OK)), None
    )


def start_varnish(binary: str, port: int, backend: str) -> Server:
    """varnishd on port with the project's VCL, its one backend the gunicorn at backend."""
    folder = DATA / f"varnish-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    host, backend_port = backend.removeprefix("http://").split(":")
    vcl, count = re.subn(
        r'(backend app1 \{\s*\.host = )"[^"]*";(\s*\.port = )"[^"]*";',
        rf'\1"{host}";\2"{backend_port}";', VCL.read_text())
    if count != 1:
        raise SystemExit(f"{VCL.relative_to(ROOT)} has no `backend app1` with host and port")
    (folder / "circle.vcl").write_text(vcl)
    command = [binary, "-F", "-a", f"127.0.0.1:{port}", "-f", str(folder / "circle.vcl"),
               "-n", str(folder / "work"), "-s", "malloc,256m", "-T", "none", "-j", "none",
               *os.environ.get("BENCH_VARNISH_ARGS", "").split()]
    return _serve(command, port, DATA / "logs" / "varnishd.log", folder)


# --- report --------------------------------------------------------------------------


def _share(r: Result, ceiling: Result | None) -> str:
    return f"{r.rps / ceiling.rps:.1%}" if ceiling and ceiling.rps else "-"


def table(results: list[Result]) -> str:
    """The Markdown table: each page's rate, latency, errors and share of both ceilings."""
    bare, nginx = _find(results, BARE, "-"), _find(results, NGINX, "-")
    lines = [
        "| Page | Path | Page cache | Requests/s | p50 ms | p99 ms | Errors "
        "| ÷ bare Flask | ÷ nginx | Worker CPU ms/request | Size kB | Load avg |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | `{r.path}` | {r.cache} | {r.rps:,.{1 if r.rps < 10 else 0}f} | "
            f"{r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.errors}{' ' + str(r.error_detail) if r.errors else ''} "
            f"| {_share(r, bare)} | {_share(r, nginx)} "
            f"| {r.cpu_ms:.2f} | {r.kb:.0f} | {r.load:.1f} |"
        )
    return "\n".join(lines)


def _find(results: list[Result], name: str, cache: str) -> Result | None:
    return next((r for r in results if r.name == name and r.cache == cache), None)


def targets(results: list[Result], peak_mb: float) -> list[str]:
    """Check issue 14's targets that this run measures; one line each, with the numbers."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    bare = _find(results, BARE, "-")
    if bare:
        for cache, goal in (("off", TARGET_UNCACHED_SHARE), ("on", TARGET_CACHED_SHARE)):
            for name in ("article", "section page 1", "home"):
                r = _find(results, name, cache)
                if r:
                    share = r.rps / bare.rps
                    lines.append(
                        f"- Cache {cache}, {name}: {r.rps:,.0f}/s = {share:.1%} of the "
                        f"bare-Flask ceiling ({bare.rps:,.0f}/s), target ≥ {goal:.0%}: "
                        f"{verdict(share >= goal)}")
    first = _find(results, "section page 1", "off")
    deep = next((r for r in results if r.name.startswith("section page ") and r.cache == "off"
                 and r is not first), None)
    if first and deep:
        ratio = first.rps / deep.rps if deep.rps else float("inf")
        lines.append(f"- Cache off, {deep.name} vs page 1: {ratio:.2f}× slower (p50 "
                     f"{deep.p50_ms:.1f} vs {first.p50_ms:.1f} ms), target within "
                     f"{TARGET_DEEP_PAGE_RATIO}×: {verdict(ratio <= TARGET_DEEP_PAGE_RATIO)}")
    for name in ("search (common word)", "search (rare word)"):
        r = _find(results, name, "off")
        if r:
            lines.append(f"- Cache off, {name}: p99 {r.p99_ms:.1f} ms, target < "
                         f"{TARGET_SEARCH_P99_MS} ms: {verdict(r.p99_ms < TARGET_SEARCH_P99_MS)}")
    total_errors = sum(r.errors for r in results)
    lines.append(f"- Errors: {total_errors} in all runs, target 0: {verdict(total_errors == 0)}")
    lines.append(f"- Peak worker RSS: {peak_mb:.0f} MB, target < {TARGET_RSS_MB} MB: "
                 f"{verdict(peak_mb < TARGET_RSS_MB)}")
    anonymous, signed_in = _find(results, "article", "on"), _find(results, SIGNED_IN, "on")
    if anonymous and signed_in:
        share = signed_in.rps / anonymous.rps
        lines.append(f"- Signed-in reader's article: {signed_in.rps:,.0f}/s = {share:.1%} of the "
                     f"anonymous cached article ({anonymous.rps:,.0f}/s), target ≥ "
                     f"{TARGET_SIGNED_IN_SHARE:.0%}: {verdict(share >= TARGET_SIGNED_IN_SHARE)}")
    nginx = _find(results, NGINX, "-")
    for name in ("article", "home"):
        front = _find(results, name + THROUGH_VARNISH, "varnish")
        if front and nginx:
            share = front.rps / nginx.rps
            lines.append(f"- {name.capitalize()} through Varnish: {front.rps:,.0f}/s = {share:.1%} "
                         f"of nginx serving the article's bytes ({nginx.rps:,.0f}/s), target ≥ "
                         f"{TARGET_VARNISH_SHARE:.0%}: {verdict(share >= TARGET_VARNISH_SHARE)}")
    lines.append("- The mixed run only with --mixed (below when it ran).")
    return lines


# --- main ----------------------------------------------------------------------------


def scenarios(t: Targets, deep_page: int) -> list[tuple[str, str]]:
    """Each page the bench measures: its name and address."""
    s = t.section
    return [
        ("home", "/"),
        ("section page 1", f"/category/{s}"),
        (f"section page {deep_page}", f"/category/{s}?page={deep_page}"),
        ("article", t.article),
        ("tag", f"/tag/{t.tag}"),
        ("author", f"/author/{t.author}"),
        ("search (common word)", f"/search?q={COMMON_WORD}"),
        ("search (rare word)", f"/search?q={RARE_WORD}"),
        ("site feed", "/feed.xml"),
        ("section feed", f"/category/{s}/feed.xml"),
        ("API post list", "/api/v1/posts"),
    ]


def _wanted(name: str, only: set[str]) -> bool:
    """Whether --only asks for this page ("section page" matches both section pages)."""
    return not only or any(name == o or name.startswith(o + " ") for o in only)


def app_env(args, prefix: str, run_id: str) -> dict:
    """The environment of the app (server and flask commands) on the bench database."""
    env = {
        **os.environ,
        "CIRCLE_ENV": "production",
        "SECRET_KEY": SECRET,
        "SITE_URL": "https://bench.circle.example",  # production requires it; links only
        "ALLOWED_HOSTS": "127.0.0.1",  # wrk and the warm-up ask for 127.0.0.1:<port>
        "DATABASE_URL": database_url(args),
        "UPLOAD_DIR": str(upload_dir(args)),
        "CACHE_KEY_PREFIX": prefix,
        "RATELIMIT_KEY_PREFIX": f"circle-bench-rl-{run_id}",
        "CIRCLE_PROXY_COUNT": "1",  # wrk.lua sends each request from one of many readers
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("REDIS_URL", None)
    if args.engine == "postgres":
        env["REDIS_URL"] = REDIS_URL
    return env


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(description="Benchmark Circle with wrk under gunicorn.")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per URL")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reseed", action="store_true",
                        help="build the database again (import the export again)")
    parser.add_argument("--regenerate", action="store_true",
                        help="write the WordPress export again (and so build the database again)")
    parser.add_argument("--seed-direct", action="store_true",
                        help="seed the database with bench/seed.py instead of importing "
                             "the generated WordPress export")
    parser.add_argument("--drop", action="store_true",
                        help="drop the bench database and uploads afterwards")
    parser.add_argument("--only", default="",
                        help="comma-separated page names to run (e.g. 'article,bare Flask "
                             "ceiling,nginx static copy')")
    parser.add_argument("--cache", choices=("both", "on", "off"), default="both")
    parser.add_argument("--gunicorn-arg", action="append", default=[],
                        help="extra gunicorn argument for experiments (e.g. --max-requests=0)")
    parser.add_argument("--mixed", type=int, default=0, metavar="SECONDS",
                        help="also run the mixed run this long (readers while staff write; "
                             "120 sees two edits); it adds its comments to the bench database")
    parser.add_argument("--lighthouse", action="store_true",
                        help="also run Lighthouse's performance audit at phone width on home "
                             "and the article (bench/lighthouse.py)")
    parser.add_argument("--no-save", action="store_true", help="print only; write no result file")
    parser.add_argument("--seed-timeout", type=int, default=6 * 3600,
                        help="seconds allowed to build the database")
    args = parser.parse_args(argv)
    args.reseed = args.reseed or args.regenerate
    return args


def _check_tools(args) -> str | None:
    """Stop when wrk, the database services or a wanted Lighthouse are missing; return
    nginx's path or None."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk (make bench does this)")
    if args.engine == "postgres":
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode:
            raise SystemExit("PostgreSQL is not answering on 127.0.0.1:5432")
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True,
                          check=False).returncode:
            raise SystemExit("Redis is not answering on 127.0.0.1:6379")
    if args.lighthouse and lighthouse.missing():
        raise SystemExit(lighthouse.missing())
    nginx = nginx_binary()
    if nginx is None:
        say("nginx is missing (sudo apt-get install -y nginx; make bench does this): "
            "no static-file ceiling in this run")
    return nginx


def mixed_run(args, env: dict, found: Targets, logs: Path) -> dict:
    """Readers at full speed over several pages while bench/mixed.py writes (cache on).

    Returns the readers' rate, latency, errors and hit rate, and the writer's summary.
    """
    say(f"mixed run, {args.mixed}s: readers at full speed, a comment approved every second, "
        "an edit a minute")
    server = start_gunicorn(
        "wsgi:app", {**env, "CIRCLE_PAGE_CACHE": "on"},
        logs / f"gunicorn-{args.engine}-{args.posts}-mixed.log", args.gunicorn_arg,
    )
    paths = ["/", f"/category/{found.section}", found.article, f"/tag/{found.tag}",
             f"/author/{found.author}", "/feed.xml", f"/category/{found.section}/feed.xml",
             "/api/v1/posts"]
    try:
        for path in paths:  # every page rendered once before the clock starts
            get(server.base + path)
        writer = subprocess.Popen(
            [PYTHON, str(BENCH / "mixed.py"), "--base", server.base, "--article", found.article,
             "--section", found.section, "--duration", str(args.mixed)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )
        _children.append(writer)
        cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.mixed}s",
               "--latency", "--timeout", "30s", "-s", str(BENCH / "mixed.lua"), server.base]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.mixed + 60,
                             env={**os.environ, "BENCH_PATHS": " ".join(paths)}, check=False)
        written, _ = writer.communicate(timeout=args.mixed + 120)
        _children.remove(writer)
    finally:
        server.stop()
    match = re.search(r"^BENCH_JSON (\{.*\})$", out.stdout, re.MULTILINE)
    summary = re.search(r"^MIXED_JSON (\{.*\})$", written or "", re.MULTILINE)
    if not match or not summary:
        raise SystemExit(f"the mixed run gave no summary:\n{out.stdout}\n{out.stderr}\n"
                         f"{written}\nsee {server.log}")
    data, writes = json.loads(match.group(1)), json.loads(summary.group(1))
    seconds = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    result = {
        "rps": data["requests"] / seconds, "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000, "errors": errors,
        "hit_rate": data["hits"] / max(1, data["answers"]), "pages": paths, **writes,
    }
    print(f"   readers {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
          f"p99 {result['p99_ms']:6.1f} ms  errors {errors}  hit rate {result['hit_rate']:.1%}  "
          f"writes {writes['writes']}  stale {len(writes['stale'])}", flush=True)
    return result


def mixed_lines(mixed: dict) -> list[str]:
    """The mixed run's section of the results, with its targets."""
    stale = mixed["stale"]
    ok = "met" if mixed["hit_rate"] >= TARGET_MIXED_HIT_RATE else "**missed**"
    return [
        "## Mixed run",
        "",
        f"Readers over {', '.join(f'`{p}`' for p in mixed['pages'])} with the page cache on, "
        f"while {mixed['writes']['comment']} comments were approved (one a second) and "
        f"{mixed['writes']['edit']} titles edited (one a minute) through the app's services "
        "(bench/mixed.py); after every write each page showing it was fetched.",
        "",
        f"- Readers: {mixed['rps']:,.0f} req/s, p50 {mixed['p50_ms']:.1f} ms, p99 "
        f"{mixed['p99_ms']:.1f} ms, {mixed['errors']} errors",
        f"- Hit rate: {mixed['hit_rate']:.1%}, target ≥ {TARGET_MIXED_HIT_RATE:.0%}: {ok}",
        f"- Stale pages after a write: {len(stale)} of {sum(mixed['checks'].values())} checked, "
        f"target 0: {'met' if not stale else '**missed**'}",
        *[f"  - {s}" for s in stale[:10]],
        "",
    ]


def lighthouse_run(server: Server, found: Targets, cache: str) -> dict[str, dict]:
    """Lighthouse's performance at phone width of home and the article, one after another."""
    say(f"Lighthouse performance at phone width (page cache {cache}): home and the article")
    measured = {}
    for name, path in (("home", "/"), ("article", found.article)):
        measured[name] = lighthouse.performance(server.base + path)
        r = measured[name]
        print(f"   {name:10} score {r['score']}  LCP {r['lcp_ms'] / 1000:.1f} s  "
              f"CLS {r['cls']:.3f}  TBT {r['tbt_ms']:.0f} ms", flush=True)
    return measured


def lighthouse_lines(phone: dict[str, dict], cache: str) -> list[str]:
    """The Lighthouse section of the results."""
    return [
        "## Lighthouse performance at phone width",
        "",
        f"Lighthouse with the page cache {cache}, its mobile defaults: a 412 px wide "
        "screen, simulated slow 4G and a 4x slower CPU (bench/lighthouse.py). Measured "
        "on this machine under its load, not a target.",
        "",
        *lighthouse.lines(phone),
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nginx = _check_tools(args)
    varnishd = varnishd_binary()
    if varnishd is None:
        say("varnishd is missing (apt-get install -y varnish varnish-modules): no Varnish front")
    started = time.monotonic()
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    run_id = f"{os.getpid()}"
    prefix = f"circle-bench-{run_id}:"
    env = app_env(args, prefix, run_id)
    built = build_database(args, env)
    workers = gunicorn_workers(env)
    found = find_targets(args, built)
    per_page = 10
    deep_page = min(200, max(1, found.section_posts // per_page))  # a full page
    if deep_page < 200:
        say(f"the {found.section} section has {found.section_posts} published posts: "
            f"the deep page is {deep_page}, its last full one")
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    caches = ["on", "off"] if args.cache == "both" else [args.cache]
    results: list[Result] = []
    phone: dict[str, dict] = {}  # Lighthouse performance, by page
    peak_kb = 0
    workers_seen = 0
    article_file = DATA / f"article-{args.engine}-{args.posts}.html"
    logs = DATA / "logs"
    try:
        for cache in caches:
            say(f"gunicorn ({workers} workers), page cache {cache}")
            served = {**env, "CIRCLE_PAGE_CACHE": cache}
            front_port = free_port() if cache == "on" and varnishd else None
            if front_port:  # pages carry xkey and purges go to the Varnish started below
                served["CIRCLE_PURGE_URLS"] = f"http://127.0.0.1:{front_port}"
            server = start_gunicorn(
                "wsgi:app", served,
                logs / f"gunicorn-{args.engine}-{args.posts}-cache-{cache}.log", args.gunicorn_arg,
            )
            try:
                if cache == caches[0]:
                    status, _, body = get(server.base + found.article)
                    if status != 200:
                        raise SystemExit(f"the article {found.article} answered {status}")
                    article_file.write_bytes(body)
                for name, path in scenarios(found, deep_page):
                    if _wanted(name, only):
                        results.append(measure(server, name, path, cache, args))
                if cache == caches[0] and args.lighthouse:
                    phone = lighthouse_run(server, found, cache)
                if cache == "on" and _wanted(SIGNED_IN, only):
                    say("a signed-in reader (their session cookie on every request)")
                    cookie = sign_in_reader(args, env, server.base)
                    results.append(measure(server, SIGNED_IN, found.article, cache, args,
                                           sent={"Cookie": cookie}))
                if front_port and any(_wanted(n + THROUGH_VARNISH, only)
                                      for n in ("article", "home")):
                    say(f"Varnish ({_first([varnishd, '-V'])}) in front, deploy/varnish/circle.vcl")
                    front = start_varnish(varnishd, front_port, server.base)
                    try:
                        for name, path in (("article", found.article), ("home", "/")):
                            if _wanted(name + THROUGH_VARNISH, only):
                                results.append(measure(server, name + THROUGH_VARNISH, path,
                                                       "varnish", args, base=front.base))
                    finally:
                        front.stop()
            finally:
                server.stop()
                peak_kb = max(peak_kb, server.sampler.peak_kb)
                workers_seen += len(server.sampler.workers_seen)
        if _wanted(BARE, only):
            say("bare Flask ceiling (bench/bare.py) on the same gunicorn settings")
            server = start_gunicorn(
                "bare:app", {**env, "BENCH_ARTICLE_FILE": str(article_file)},
                logs / "gunicorn-bare.log", ["--pythonpath", str(BENCH), *args.gunicorn_arg],
            )
            try:
                results.append(measure(server, BARE, "/", "-", args))
            finally:
                server.stop()
        if nginx and _wanted(NGINX, only):
            say(f"nginx serving a static copy of the article ({workers} worker processes)")
            server = start_nginx(nginx, article_file, workers)
            try:
                results.append(measure(server, NGINX, "/", "-", args))
            finally:
                server.stop()
        mixed = mixed_run(args, env, found, logs) if args.mixed else None
    finally:
        _cleanup()
        _forget_cache(env, prefix, args)
        if args.drop:
            say("dropping the bench database")
            drop_database(args)

    peak_mb = peak_kb / 1024
    info = machine(args, workers)
    if nginx:
        info["nginx"] = _first([nginx, "-v"])
    info["Load average before the run"] = (
        f"{' '.join(load_at_start)} (other work on the machine competes with gunicorn and wrk; "
        "the per-request worker CPU column is the figure that load does not skew much)")
    info["Site"] = built["how"]
    manifest = built.get("manifest")
    if manifest:
        info["Search words"] = (
            f"common `{COMMON_WORD}` ({manifest['common_posts']:,} published posts), rare "
            f"`{RARE_WORD}` ({len(manifest['rare_post_ids'])} posts)")
        info["Export"] = (
            f"{manifest['published']:,} published posts, {manifest['drafts']} drafts, "
            f"{manifest['pending']} pending, {manifest['pages']} page, "
            f"{manifest['comments']:,} comments ({manifest['replies']:,} replies), "
            f"{manifest['tags']} tags, {manifest['authors']} authors, 5 sections")
    else:
        info["Search words"] = f"common `{COMMON_WORD}`, rare `{RARE_WORD}` (one post)"
    info["Ceilings"] = (
        "bare Flask: bench/bare.py returning the article's bytes on the same gunicorn "
        "settings; nginx: the same bytes from disk, access log off")
    engine_name = "PostgreSQL + Redis" if args.engine == "postgres" else "SQLite"
    source = "imported from WordPress" if built["source"] == "wxr" else "seeded directly"
    title = (f"Circle benchmark: {args.posts:,} posts ({source}) on {engine_name}, "
             f"{date.today().isoformat()}")
    checks = targets(results, peak_mb)
    data = {
        "posts": args.posts, "engine": args.engine, "source": built["source"],
        "import_seconds": built.get("seconds"),
        "results": [r.__dict__ for r in results], "peak_worker_rss_mb": round(peak_mb, 1),
        "mixed": mixed, "lighthouse": phone,
    }
    text = "\n".join([
        f"# {title}",
        "",
        table(results),
        "",
        f"Peak RSS of a gunicorn worker (VmHWM, {workers_seen} worker processes over the run, "
        f"workers are recycled by max_requests): **{peak_mb:.0f} MB**.",
        "",
        f"Site built: {built['how']} (on {built['date']}).",
        "",
        "## Targets",
        "",
        *checks,
        "",
        *(mixed_lines(mixed) if mixed else []),
        *(lighthouse_lines(phone, caches[0]) if phone else []),
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
        f"- Extra gunicorn arguments: {' '.join(args.gunicorn_arg) or 'none'}",
        f"- Wall time: {time.monotonic() - started:.0f}s (building the database included "
        "when it was built in this run)",
        "",
        f"<!-- bench-data {json.dumps(data)} -->",
        "",
    ])
    print()
    print(text)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if built["source"] == "wxr" else "-seeded"
        out = RESULTS / f"{date.today().isoformat()}-{args.posts}posts-{args.engine}{suffix}.md"
        out.write_text(text)
        say(f"wrote {out.relative_to(ROOT)}")
    return 0


def _forget_cache(env: dict, prefix: str, args) -> None:
    """Remove what this run left in Redis and the instance folder."""
    shutil.rmtree(ROOT / "instance" / f"{prefix}keys", ignore_errors=True)  # key versions
    if args.engine != "postgres":
        return
    script = (
        "import redis, sys; r = redis.Redis.from_url(sys.argv[1]); "
        "keys = list(r.scan_iter(match=sys.argv[2] + '*', count=1000)) + "
        "list(r.scan_iter(match=sys.argv[3] + '*', count=1000)); "
        "[r.delete(*keys[i:i + 500]) for i in range(0, len(keys), 500)]"
    )
    subprocess.run([PYTHON, "-c", script, REDIS_URL, prefix, env["RATELIMIT_KEY_PREFIX"]],
                   timeout=60, check=False)


if __name__ == "__main__":
    raise SystemExit(main())
