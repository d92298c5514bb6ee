"""Time `flask import-wxr` of a generated WordPress export: first import, re-import, memory.

    python bench/import_speed.py                    # 10,000 posts on SQLite (and PostgreSQL
                                                    # when TEST_DATABASE_URL is set)
    python bench/import_speed.py --posts 1000 --postgres postgresql+psycopg://postgres@127.0.0.1/x
    make bench-import BENCH_ARGS="--posts 1000"

The export is bench/wxr.py's (cached in bench/data/ beside bench/run.py's). Each engine
gets a fresh database (PostgreSQL: a database of its own, `circle_import_bench`, on the
server the URL names; the URL's own database is never touched), `flask db upgrade`, then
`flask import-wxr` twice. Each run's wall time and the peak RSS of its process are
measured; the second run must change nothing and take less time. The table goes to
stdout and to bench/results/<date>-<n>posts-import.md (the issue 16 targets under it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
sys.path.insert(0, str(BENCH))

import wxr  # noqa: E402

PG_DB = "circle_import_bench"
SECRET = "bench-throwaway-secret-key-not-for-production"
# Issue 16's targets.
TARGET_SECONDS = 60
TARGET_RSS_MB = 200


@dataclass
class Run:
    """One `flask import-wxr`: its wall and CPU time, peak RSS, what it printed.

    peak_mb: the largest of the process and its workers (wait4); tree_mb: the largest
    sum of them all at one moment (sampled), which is what the machine must hold.
    """

    seconds: float
    cpu_seconds: float
    peak_mb: float
    output: list[str]
    tree_mb: float = 0.0

    @property
    def changed_nothing(self) -> bool:
        """Whether the report says nothing was created or updated."""
        return "Created:   nothing" in self.output and "Updated:   nothing" in self.output


@dataclass
class Result:
    """An engine's first import and re-import of the export."""

    engine: str
    items: int
    first: Run
    again: Run

    @property
    def peak_mb(self) -> float:
        """The most the import held at once: its process and its workers together."""
        return max(self.first.peak_mb, self.again.peak_mb, self.first.tree_mb,
                   self.again.tree_mb)

    def met(self) -> dict[str, bool]:
        """Each target, met or not."""
        return {
            f"first import under {TARGET_SECONDS} s": self.first.seconds < TARGET_SECONDS,
            f"peak memory under {TARGET_RSS_MB} MB": self.peak_mb < TARGET_RSS_MB,
            "re-import changes nothing": self.again.changed_nothing,
            "re-import takes less time": self.again.seconds < self.first.seconds,
        }


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def export_file(folder: Path, posts: int) -> tuple[Path, wxr.Manifest]:
    """The generated export of this many posts and its manifest, written when missing."""
    path = folder / f"magazine-{posts}.wxr"
    note = path.with_name(path.name + ".json")
    if path.exists() and note.exists():
        manifest = wxr.Manifest(**json.loads(note.read_text()))
        if manifest.version == wxr.VERSION and manifest.seed == wxr.SEED:
            say(f"using {path} ({manifest.bytes / 1e6:,.0f} MB)")
            return path, manifest
    say(f"writing a WordPress export of {posts:,} posts (bench/wxr.py)")
    folder.mkdir(parents=True, exist_ok=True)
    manifest = wxr.generate(path, posts)
    note.write_text(json.dumps(asdict(manifest), indent=2))
    say(f"{path}: {manifest.bytes / 1e6:,.0f} MB in {manifest.seconds:.0f}s")
    return path, manifest


def remove_sqlite(database: Path) -> None:
    """Delete a SQLite database and its journal files."""
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)


def fresh_postgres(url: str) -> str:
    """Create (again) the bench's own database on the server url names; return its URL."""
    server = make_url(url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {PG_DB}"))
    admin.dispose()
    return server.set(database=PG_DB).render_as_string(hide_password=False)


def tree_rss_mb(pid: int) -> float:
    """The resident memory of a process and all its descendants now, in MB (Linux /proc)."""
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        current = stack.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(int(child) for child in children)
    return total / 2**20


def sample_tree(pid: int, peak: list[float], done: threading.Event) -> None:
    """Keep the largest tree_rss_mb of pid in peak[0] until done."""
    while not done.wait(0.2):
        peak[0] = max(peak[0], tree_rss_mb(pid))


def flask(env: dict, *command: str, echo: bool = False) -> Run:
    """Run a flask command; its wall and CPU time, peak RSS and output lines."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [PYTHON, "-m", "flask", *command], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    tree_peak, done = [0.0], threading.Event()
    sampler = threading.Thread(target=sample_tree, args=(proc.pid, tree_peak, done), daemon=True)
    sampler.start()
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if echo and (line.startswith(("Importing", "Created", "Updated", "Failed"))):
            print(f"    {line}", end="", flush=True)
    done.set()
    sampler.join()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print("\n".join(lines[-30:]))
        raise SystemExit(f"flask {' '.join(command)} failed ({proc.returncode})")
    return Run(seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime,
               peak_mb=usage.ru_maxrss / 1024, output=lines, tree_mb=tree_peak[0])


def bench_engine(engine: str, database_url: str, path: Path, items: int, uploads: Path) -> Result:
    """Upgrade a fresh database, import the export into it, then import it again."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "CIRCLE_ENV": "production",
        "SECRET_KEY": SECRET,
        "SITE_URL": "https://bench.circle.example",
        "DATABASE_URL": database_url,
        "UPLOAD_DIR": str(uploads),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("REDIS_URL", None)
    say(f"{engine}: flask db upgrade")
    flask(env, "db", "upgrade")
    say(f"{engine}: flask import-wxr {path.name}")
    first = flask(env, "import-wxr", str(path), echo=True)
    say(f"{engine}: {first.seconds:.1f}s, peak {first.peak_mb:.0f} MB; the same file again")
    again = flask(env, "import-wxr", str(path), echo=True)
    say(f"{engine}: {again.seconds:.1f}s, peak {again.peak_mb:.0f} MB")
    return Result(engine=engine, items=items, first=first, again=again)


def table(results: list[Result]) -> str:
    """The Markdown table of the runs."""
    rows = [
        "| Engine | First import s | CPU s | Posts/s | Re-import s | CPU s "
        "| Re-import changed nothing | Peak RSS MB | Targets met |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        met = r.met()
        rows.append(
            f"| {r.engine} | {r.first.seconds:,.1f} | {r.first.cpu_seconds:,.1f} "
            f"| {r.items / r.first.seconds:,.0f} | {r.again.seconds:,.1f} "
            f"| {r.again.cpu_seconds:,.1f} | {'yes' if r.again.changed_nothing else 'no'} "
            f"| {r.peak_mb:,.0f} | {sum(met.values())} of {len(met)} |"
        )
    return "\n".join(rows)


def targets(results: list[Result]) -> list[str]:
    """One line per engine and target: met or missed."""
    return [
        f"- {r.engine}: {what}: {'met' if ok else '**missed**'}"
        for r in results
        for what, ok in r.met().items()
    ]


def report(results: list[Result], manifest: wxr.Manifest, path: Path) -> str:
    """The whole Markdown page."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([
        f"# Circle import benchmark: {manifest.posts:,} posts, {date.today().isoformat()}",
        "",
        table(results),
        "",
        "## Targets (issue 16)",
        "",
        *targets(results),
        "",
        "## What ran",
        "",
        f"- Export: bench/wxr.py, {manifest.posts:,} posts, {manifest.pages} pages, "
        f"{manifest.comments:,} comments, {manifest.bytes / 1e6:,.0f} MB ({path.name})",
        "- Each engine: a fresh database, `flask db upgrade`, then `flask import-wxr` twice "
        "(CIRCLE_ENV=production); time is the command's wall time, CPU s its process's "
        "user + system time (its worker's included) and memory its peak RSS: the larger "
        "of the most any one process held (wait4) and the most the process and its "
        "conversion worker held together (sampled every 0.2 s); on a shared machine the "
        "CPU time is the steadier figure",
        f"- Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load} when the table was written (other work on the machine "
        "slows the runs)",
        "",
        "",
    ])


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(description="Time flask import-wxr of a generated export.")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"),
                        metavar="URL",
                        help=f"a PostgreSQL server to import into too (database {PG_DB} is "
                             "created there afresh); default TEST_DATABASE_URL")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--data", type=Path, default=BENCH / "data",
                        help="folder for the export (cached) and the SQLite database")
    parser.add_argument("--no-save", action="store_true", help="print only; write no result file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path, manifest = export_file(args.data, args.posts)
    items = manifest.posts + manifest.pages
    results = []
    with tempfile.TemporaryDirectory(prefix="circle-import-bench-") as scratch:
        database = args.data / f"import-{args.posts}.sqlite"
        remove_sqlite(database)
        results.append(bench_engine("SQLite", f"sqlite:///{database.resolve()}", path, items,
                                    Path(scratch) / "sqlite"))
        if args.postgres and not args.no_postgres:
            url = fresh_postgres(args.postgres)
            results.append(bench_engine("PostgreSQL", url, path, items,
                                        Path(scratch) / "postgres"))
        remove_sqlite(database)
    page = report(results, manifest, path)
    print()
    print(page)
    if not args.no_save:
        out = BENCH / "results" / f"{date.today().isoformat()}-{args.posts}posts-import.md"
        out.write_text(page)
        say(f"saved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
