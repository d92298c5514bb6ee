"""Lighthouse on Debian's Chromium, offline: the one place that runs its CLI.

    python bench/lighthouse.py http://127.0.0.1:5000/ http://127.0.0.1:5000/health/an-article

prints each page's Lighthouse performance at phone width (its default mobile form
factor: simulated slow 4G and a 4x slower CPU): the score, Largest Contentful Paint,
Cumulative Layout Shift and Total Blocking Time. `make run` serves the demo there.
bench/run.py --lighthouse measures home and the bench article the same way under
gunicorn and adds the table to its results; tests/browser/test_lighthouse.py uses
run() for accessibility, best practices and SEO. Performance is measured, never
asserted: on a shared machine it moves with the load.

Lighthouse is the npm package (`make node`). It only talks to the pages it is given:
Chromium runs with background networking and component updates off.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
# The browser tests' flags (tests/browser/conftest.py CHROMIUM_ARGS).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
RUN_TIMEOUT_S = 180
MAX_WAIT_FOR_LOAD_MS = 15_000


class LighthouseError(RuntimeError):
    """Lighthouse could not run, or could not audit the page."""


def missing() -> str | None:
    """What is missing to run Lighthouse, and how to get it; None when nothing is."""
    if not LIGHTHOUSE.is_file():
        return f"{LIGHTHOUSE} is missing: run `make node` (npm ci)"
    if not os.access(CHROMIUM, os.X_OK):
        return "Chromium is missing: sudo apt-get install -y chromium"
    return None


def run(url: str, categories: Sequence[str], flags: Sequence[str] = CHROMIUM_FLAGS) -> dict:
    """Run the Lighthouse CLI on one page at phone width; return its JSON report."""
    if missing():
        raise LighthouseError(missing())
    command = [
        str(LIGHTHOUSE),
        url,
        f"--chrome-flags={' '.join(flags)}",
        f"--only-categories={','.join(categories)}",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        "--no-enable-error-reporting",
        "--disable-storage-reset",  # each run has a fresh Chromium profile anyway
        "--disable-full-page-screenshot",  # a picture for the HTML report; no audit reads it
        f"--max-wait-for-load={MAX_WAIT_FOR_LOAD_MS}",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise LighthouseError(f"lighthouse {url} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    if report.get("runtimeError"):
        raise LighthouseError(f"lighthouse {url}: {report['runtimeError']}")
    return report


def performance(url: str) -> dict:
    """The page's performance score (0-100) and its LCP, CLS and TBT."""
    report = run(url, ["performance"])
    audits = report["audits"]
    score = report["categories"]["performance"]["score"]
    return {
        "score": round(score * 100) if score is not None else None,
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
    }


def lines(results: dict[str, dict]) -> list[str]:
    """A Markdown table of performance results, one row per page."""
    rows = [
        "| Page | Score | LCP | CLS | TBT |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['score']} | {r['lcp_ms'] / 1000:.1f} s | {r['cls']:.3f} "
            f"| {r['tbt_ms']:.0f} ms |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure the given addresses one after another and print the table."""
    parser = argparse.ArgumentParser(description="Lighthouse performance at phone width.")
    parser.add_argument("urls", nargs="+", help="pages to measure, e.g. http://127.0.0.1:5000/")
    args = parser.parse_args(argv)
    try:
        results = {url: performance(url) for url in args.urls}
    except LighthouseError as error:
        print(error, file=sys.stderr)
        return 1
    print("\n".join(lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
