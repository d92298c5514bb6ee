"""Lighthouse at phone width: accessibility, best practices and SEO at 100 on the reader pages.

Lighthouse is the npm package (`make node` installs it from the lock file); its CLI,
run by bench/lighthouse.py, drives Debian's Chromium (CHROME_PATH) with the flags the
other browser tests use, in its default mobile form factor, one page after another.
The site has covers on: the section, and the articles that fill the home page and the
section's cards. Performance is measured by the bench (bench/lighthouse.py, and
bench/run.py --lighthouse), not here: on a shared machine it is too noisy to assert.

Nothing is fetched from the network: Chromium runs with background networking off
and Lighthouse only talks to the live server on 127.0.0.1 (the test passes with no
network at all, e.g. under `unshare -n`).

No audit is dropped. The ones about the test's setup rather than the site: the live
server is plain HTTP on 127.0.0.1, which Chromium counts as a secure context, so
Lighthouse passes is-on-https and finds redirects-http not applicable; HTTPS and its
redirect belong to the proxy in front of production (deploy/nginx.conf). An
audit that errors (could not run) fails the test: it is no pass.
"""

from __future__ import annotations

import importlib.util
import re
import urllib.request
from pathlib import Path

import pytest

from .conftest import CHROMIUM_ARGS

LIGHTHOUSE_PY = Path(__file__).resolve().parents[2] / "bench" / "lighthouse.py"
CATEGORIES = ("accessibility", "best-practices", "seo")
COVER = re.compile(r'<img [^>]*src="/uploads/')  # an uploaded image, shown as a cover


def _lighthouse_module():
    """bench/lighthouse.py, the one place that runs the Lighthouse CLI (bench is no package)."""
    spec = importlib.util.spec_from_file_location("bench_lighthouse", LIGHTHOUSE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _item_text(item: dict) -> str:
    """One offending item of an audit, as a developer would look for it."""
    node = item.get("node") if isinstance(item.get("node"), dict) else None
    if node is None and isinstance(item.get("source"), dict):
        node = item["source"]
    if node and node.get("type") == "node":
        text = f"{node.get('selector', '')}: {node.get('snippet', '')}"
        if node.get("explanation"):
            text += f" ({' '.join(node['explanation'].split())})"
        return text
    parts = []
    for key, value in item.items():
        if isinstance(value, dict):
            value = value.get("url") or value.get("value") or value.get("snippet") or ""
        if value not in ("", None) and not isinstance(value, list):
            parts.append(f"{key}={value}")
    return ", ".join(parts)[:400]


def failures(report: dict) -> list[str]:
    """The failing or errored audits of each category: id, title and the offending items."""
    lines = []
    audits = report["audits"]
    for name in CATEGORIES:
        category = report["categories"][name]
        refs = [audits[ref["id"]] for ref in category["auditRefs"] if ref["weight"] > 0]
        broken = [a for a in refs if a["scoreDisplayMode"] == "error"]
        if category["score"] == 1 and not broken:
            continue
        lines.append(f"  {category['title']}: {round((category['score'] or 0) * 100)}")
        for audit in refs:
            if audit["scoreDisplayMode"] == "error":
                lines.append(f"    {audit['id']}: could not run: {audit.get('errorMessage')}")
                continue
            if audit["score"] in (1, None):
                continue
            lines.append(f"    {audit['id']}: {audit['title']}")
            details = audit.get("details") or {}
            for item in (details.get("items") or [])[:8]:
                lines.append(f"      - {_item_text(item)}")
            if audit.get("explanation"):
                lines.append(f"      ({audit['explanation']})")
    return lines


def test_reader_pages_score_100_in_lighthouse_at_phone_width(live_server, covered_site):
    lighthouse = _lighthouse_module()
    problems = []
    for page, path in covered_site.items():
        url = live_server + path
        with urllib.request.urlopen(url) as response:  # the page audited has its covers
            assert COVER.search(response.read().decode()), f"{page}: no cover on {url}"
        try:
            report = lighthouse.run(url, CATEGORIES, flags=CHROMIUM_ARGS)
        except lighthouse.LighthouseError as error:
            pytest.fail(str(error), pytrace=False)
        assert report["finalDisplayedUrl"] == url, f"{page}: Lighthouse ended on another page"
        assert report["configSettings"]["formFactor"] == "mobile"
        lines = failures(report)
        if lines:
            problems.append(f"{page} ({url}):")
            problems.extend(lines)

    assert not problems, "Lighthouse below 100 at phone width:\n" + "\n".join(problems)
