"""Benchmark Circle under gunicorn with wrk; print and save a Markdown table.

    python bench/run.py                       # 10,000 posts on SQLite
    python bench/run.py --posts 100000        # 100,000 posts on SQLite
    python bench/run.py --engine postgres     # PostgreSQL + Redis (local services)

It seeds the bench database when it is missing (bench/seed.py; --reseed to start
over), starts gunicorn with the project's gunicorn.conf.py and CIRCLE_ENV=production
on a free loopback port, and runs `wrk --latency` against each reader URL, first
with the page cache on, then with CIRCLE_PAGE_CACHE=off. Last it serves the
same article's bytes from a bare Flask view (bench/bare.py) on the same gunicorn
settings: the stack's ceiling. Workers' peak RSS (VmHWM) is sampled throughout.
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
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
PYTHON = sys.executable
sys.path.insert(0, str(BENCH))

from seed import COMMON_WORD, RARE_WORD  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "circle_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "bench-throwaway-secret-key-not-for-production"
ARTICLE_SECTION = "health"
ARTICLE_SLUG_PREFIX = "revolutionizing-cancer-treatment"

# The targets from the issue, checked under the table.
TARGET_CACHED_SHARE = 0.5  # of the bare-Flask ceiling, article and section pages
TARGET_CACHED_P99_MS = 10
TARGET_ARTICLES_PER_S = 800
TARGET_SECTIONS_PER_S = 600
TARGET_DEEP_PAGE_RATIO = 1.5
TARGET_SEARCH_P99_MS = 50
TARGET_RSS_MB = 150
TARGET_100K_DROP = 0.2

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


def get(url: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    """GET a URL as an anonymous reader; return status, headers and body."""
    request = urllib.request.Request(url, headers={"X-Forwarded-For": "10.255.0.1"})
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

    def stop(self) -> None:
        self.sampler.stop()
        _kill_group(self.proc)
        if self.proc in _children:
            _children.remove(self.proc)


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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log}")
        try:
            status, _, _ = get(base + "/healthz", timeout=2)
            if status == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        _kill_group(proc)
        raise SystemExit(f"gunicorn did not answer /healthz within 60s; see {log}")
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


def run_wrk(url: str, args, duration: int) -> dict:
    cmd = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency",
        "--timeout", "30s", "-s", str(BENCH / "wrk.lua"), url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    match = re.search(r"^BENCH_JSON (\{.*\})$", out.stdout, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk gave no summary for {url}:\n{out.stdout}\n{out.stderr}")
    return json.loads(match.group(1))


def measure(server: Server, name: str, path: str, cache: str, args) -> Result:
    url = server.base + path
    status, headers, body = get(url)
    if status != 200:
        raise SystemExit(f"{path} answered {status} before the run; see {server.log}")
    run_wrk(url, args, args.warmup)  # every worker renders (and caches) the page first
    _, headers, body = get(url)
    cpu_before = server.sampler.cpu_seconds()
    data = run_wrk(url, args, args.duration)
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
    print(f"   {name:<22} cache {cache:<4} {result.rps:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
          f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  cpu {result.cpu_ms:5.2f} ms/req  "
          f"load {load:.1f}  ({result.x_cache})", flush=True)
    return result


# --- database ------------------------------------------------------------------------


def database_url(args) -> str:
    if args.engine == "postgres":
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
    return f"sqlite:///{DATA / f'bench-{args.posts}.sqlite'}"


def _pg(sql: str, database: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
        capture_output=True, text=True, timeout=600, check=True,
    )
    return out.stdout.strip()


def _seeded_posts(args) -> int | None:
    """How many posts the database holds (bench and demo), or None when it is not there."""
    if args.engine == "postgres":
        if _pg(f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'") != "1":
            return None
        try:
            return int(_pg("SELECT count(*) FROM posts", PG_DB))
        except subprocess.CalledProcessError:
            return None
    path = DATA / f"bench-{args.posts}.sqlite"
    if not path.exists():
        return None
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    except sqlite3.Error:
        return None


def drop_database(args) -> None:
    if args.engine == "postgres":
        _pg(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    else:
        for suffix in ("", "-wal", "-shm"):
            (DATA / f"bench-{args.posts}.sqlite{suffix}").unlink(missing_ok=True)
    shutil.rmtree(upload_dir(args), ignore_errors=True)


def upload_dir(args) -> Path:
    return DATA / f"uploads-{args.engine}-{args.posts}"


def ensure_database(args) -> None:
    have = None if args.reseed else _seeded_posts(args)
    if have is not None and abs(have - args.posts) <= 50:
        say(f"using the seeded {args.engine} database ({have:,} bench posts)")
        return
    say(f"seeding {args.posts:,} posts into a fresh {args.engine} database")
    drop_database(args)
    DATA.mkdir(parents=True, exist_ok=True)
    if args.engine == "postgres":
        _pg(f"CREATE DATABASE {PG_DB}")
    subprocess.run(
        [PYTHON, str(BENCH / "seed.py"), "--database-url", database_url(args),
         "--posts", str(args.posts), "--upload-dir", str(upload_dir(args))],
        cwd=ROOT, check=True, timeout=args.seed_timeout,
    )


def article_path(args) -> str:
    """The CAR-T feature's address."""
    sql = ("SELECT c.slug, p.slug FROM posts p JOIN categories c ON c.id = p.category_id "
           f"WHERE p.slug LIKE '{ARTICLE_SLUG_PREFIX}%' ORDER BY p.id LIMIT 1")
    if args.engine == "postgres":
        section, slug = _pg(sql, PG_DB).split("|")
    else:
        with sqlite3.connect(DATA / f"bench-{args.posts}.sqlite") as conn:
            section, slug = conn.execute(sql).fetchone()
    return f"/{section}/{slug}"


def section_size(args, section: str) -> int:
    sql = ("SELECT count(*) FROM posts p JOIN categories c ON c.id = p.category_id "
           f"WHERE c.slug = '{section}' AND p.status = 'published'")
    if args.engine == "postgres":
        return int(_pg(sql, PG_DB))
    with sqlite3.connect(DATA / f"bench-{args.posts}.sqlite") as conn:
        return conn.execute(sql).fetchone()[0]


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


# --- report --------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    lines = [
        "| Page | Path | Page cache | Requests/s | p50 ms | p99 ms | Errors "
        "| Worker CPU ms/request | Size kB | Load avg |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | `{r.path}` | {r.cache} | {r.rps:,.{1 if r.rps < 10 else 0}f} | "
            f"{r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.errors}{' ' + str(r.error_detail) if r.errors else ''} "
            f"| {r.cpu_ms:.2f} | {r.kb:.0f} | {r.load:.1f} |"
        )
    return "\n".join(lines)


def _find(results: list[Result], name: str, cache: str) -> Result | None:
    return next((r for r in results if r.name == name and r.cache == cache), None)


def _previous_10k(args) -> dict | None:
    """The newest 10,000-post result on this engine, for the 100,000-post comparison."""
    files = sorted(RESULTS.glob(f"*-10000posts-{args.engine}.md"))
    for path in reversed(files):
        match = re.search(r"<!-- bench-data (\{.*\}) -->", path.read_text())
        if match:
            return {"file": path.name, **json.loads(match.group(1))}
    return None


def targets(results: list[Result], args, peak_mb: float) -> list[str]:
    """Check the issue's targets; one line each, with the numbers."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    bare = _find(results, "bare Flask ceiling", "-")
    for name in ("article", "section page 1"):
        r = _find(results, name, "on")
        if r and bare:
            share = r.rps / bare.rps
            lines.append(f"- Cache on, {name}: {r.rps:,.0f}/s = {share:.0%} of the ceiling "
                         f"({bare.rps:,.0f}/s), target ≥ 50 %: "
                         f"{verdict(share >= TARGET_CACHED_SHARE)}; "
                         f"p99 {r.p99_ms:.1f} ms, target < 10 ms: "
                         f"{verdict(r.p99_ms < TARGET_CACHED_P99_MS)}")
    goals = (("article", TARGET_ARTICLES_PER_S), ("section page 1", TARGET_SECTIONS_PER_S))
    for name, goal in goals:
        r = _find(results, name, "off")
        if r:
            lines.append(f"- Cache off, {name}: {r.rps:,.0f}/s, target ≥ {goal}/s"
                         f"{' (at 10,000 posts)' if args.posts != 10000 else ''}: "
                         f"{verdict(r.rps >= goal)}")
    first, deep = _find(results, "section page 1", "off"), _find(results, "section page 200", "off")
    if first and deep:
        ratio = first.rps / deep.rps if deep.rps else float("inf")
        lines.append(f"- Cache off, page 200 vs page 1: {ratio:.2f}× slower (p50 {deep.p50_ms:.1f} "
                     f"vs {first.p50_ms:.1f} ms), target within 1.5×: "
                     f"{verdict(ratio <= TARGET_DEEP_PAGE_RATIO)}")
    for name in ("search (common word)", "search (rare word)"):
        r = _find(results, name, "off")
        if r:
            lines.append(f"- Cache off, {name}: p99 {r.p99_ms:.1f} ms, target < 50 ms: "
                         f"{verdict(r.p99_ms < TARGET_SEARCH_P99_MS)}")
    if args.posts > 10000:
        base = _previous_10k(args)
        if base:
            keys = (("article", "article_off_rps"), ("section page 1", "section_off_rps"))
            for name, key in keys:
                r = _find(results, name, "off")
                if r and base.get(key):
                    drop = 1 - r.rps / base[key]
                    lines.append(f"- Cache off, {name} at {args.posts:,} vs 10,000 posts "
                                 f"({base['file']}): {r.rps:,.0f} vs {base[key]:,.0f}/s, "
                                 f"{drop:+.0%} drop, target ≤ 20 %: "
                                 f"{verdict(drop <= TARGET_100K_DROP)}")
    total_errors = sum(r.errors for r in results)
    lines.append(f"- Errors: {total_errors} in all runs, target 0: {verdict(total_errors == 0)}")
    lines.append(f"- Peak worker RSS: {peak_mb:.0f} MB, target < {TARGET_RSS_MB} MB: "
                 f"{verdict(peak_mb < TARGET_RSS_MB)}")
    return lines


# --- main ----------------------------------------------------------------------------


def scenarios(args, article: str, api: str, deep_page: int) -> list[tuple[str, str]]:
    s = ARTICLE_SECTION
    return [
        ("home", "/"),
        ("section page 1", f"/category/{s}"),
        ("section page 200", f"/category/{s}?page={deep_page}"),
        ("article", article),
        ("search (common word)", f"/search?q={COMMON_WORD}"),
        ("search (rare word)", f"/search?q={RARE_WORD}"),
        ("section feed", f"/category/{s}/feed.xml"),
        ("API post list", api),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Circle with wrk under gunicorn.")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per URL")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reseed", action="store_true", help="seed the database again")
    parser.add_argument("--drop", action="store_true",
                        help="drop the bench database and uploads afterwards")
    parser.add_argument("--only", default="", help="comma-separated page names to run")
    parser.add_argument("--cache", choices=("both", "on", "off"), default="both")
    parser.add_argument("--gunicorn-arg", action="append", default=[],
                        help="extra gunicorn argument for experiments (e.g. --max-requests=0)")
    parser.add_argument("--no-save", action="store_true", help="print only; write no result file")
    parser.add_argument("--seed-timeout", type=int, default=1800)
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk (make bench does this)")
    if args.engine == "postgres":
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode:
            raise SystemExit("PostgreSQL is not answering on 127.0.0.1:5432")
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True,
                          check=False).returncode:
            raise SystemExit("Redis is not answering on 127.0.0.1:6379")

    started = time.monotonic()
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    ensure_database(args)
    run_id = f"{os.getpid()}"
    prefix = f"circle-bench-{run_id}:"
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
    workers = gunicorn_workers(env)
    article = article_path(args)
    per_page = 10
    size = section_size(args, ARTICLE_SECTION)
    deep_page = min(200, max(1, -(-size // per_page)))
    if deep_page < 200:
        say(f"the {ARTICLE_SECTION} section has {size} posts: the deep page is {deep_page}")
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    caches = ["on", "off"] if args.cache == "both" else [args.cache]
    results: list[Result] = []
    peak_kb = 0
    workers_seen = 0
    api = "/api/v1/posts"
    article_file = DATA / f"article-{args.engine}-{args.posts}.html"
    logs = DATA / "logs"
    try:
        for cache in caches:
            say(f"gunicorn ({workers} workers), page cache {cache}")
            server = start_gunicorn(
                "wsgi:app", {**env, "CIRCLE_PAGE_CACHE": cache},
                logs / f"gunicorn-{args.engine}-{args.posts}-cache-{cache}.log", args.gunicorn_arg,
            )
            try:
                if get(server.base + api)[0] != 200:
                    api = "/api/v1/categories"
                    say("/api/v1/posts is not there: measuring /api/v1/categories instead")
                if not article_file.exists() or cache == caches[0]:
                    status, _, body = get(server.base + article)
                    if status != 200:
                        raise SystemExit(f"the article {article} answered {status}")
                    article_file.write_bytes(body)
                for name, path in scenarios(args, article, api, deep_page):
                    if only and name not in only:
                        continue
                    results.append(measure(server, name, path, cache, args))
            finally:
                server.stop()
                peak_kb = max(peak_kb, server.sampler.peak_kb)
                workers_seen += len(server.sampler.workers_seen)
        if not only or "bare Flask ceiling" in only:
            say("bare Flask ceiling (bench/bare.py) on the same gunicorn settings")
            server = start_gunicorn(
                "bare:app", {**env, "BENCH_ARTICLE_FILE": str(article_file)},
                logs / "gunicorn-bare.log", ["--pythonpath", str(BENCH), *args.gunicorn_arg],
            )
            try:
                results.append(measure(server, "bare Flask ceiling", "/", "-", args))
            finally:
                server.stop()
    finally:
        _cleanup()
        _forget_cache(env, prefix, args)
        if args.drop:
            say("dropping the bench database")
            drop_database(args)

    peak_mb = peak_kb / 1024
    info = machine(args, workers)
    info["Load average before the run"] = (
        f"{' '.join(load_at_start)} (other work on the machine competes with gunicorn and wrk; "
        "the per-request worker CPU column is the figure that load does not skew much)")
    engine_name = "PostgreSQL + Redis" if args.engine == "postgres" else "SQLite"
    title = f"Circle benchmark: {args.posts:,} posts on {engine_name}, {date.today().isoformat()}"
    checks = targets(results, args, peak_mb)
    data = {
        "posts": args.posts, "engine": args.engine,
        "article_off_rps": getattr(_find(results, "article", "off"), "rps", None),
        "section_off_rps": getattr(_find(results, "section page 1", "off"), "rps", None),
        "results": [r.__dict__ for r in results], "peak_worker_rss_mb": round(peak_mb, 1),
    }
    text = "\n".join([
        f"# {title}",
        "",
        table(results),
        "",
        f"Peak RSS of a gunicorn worker (VmHWM, {workers_seen} worker processes over the run, "
        f"workers are recycled by max_requests): **{peak_mb:.0f} MB**.",
        "",
        "## Targets",
        "",
        *checks,
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
        f"- Search words: common `{COMMON_WORD}`, rare `{RARE_WORD}` (one post)",
        f"- Extra gunicorn arguments: {' '.join(args.gunicorn_arg) or 'none'}",
        f"- Wall time: {time.monotonic() - started:.0f}s (not counting seeding done earlier)",
        "",
        f"<!-- bench-data {json.dumps(data)} -->",
        "",
    ])
    print()
    print(text)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{date.today().isoformat()}-{args.posts}posts-{args.engine}.md"
        out.write_text(text)
        say(f"wrote {out.relative_to(ROOT)}")
    return 0


def _forget_cache(env: dict, prefix: str, args) -> None:
    """Remove what this run left in Redis and the instance folder."""
    (ROOT / "instance" / f"{prefix}generation").unlink(missing_ok=True)
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
