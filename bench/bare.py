"""The stack's ceiling: a bare Flask view returning the article page's bytes.

    BENCH_ARTICLE_FILE=bench/data/article.html \
        gunicorn -c gunicorn.conf.py --pythonpath bench bare:app

bench/run.py writes the file from the real app's rendered CAR-T article and
serves this app with the same gunicorn settings, so the difference between the
two is what Circle itself costs per request.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

_FILE = Path(os.environ.get("BENCH_ARTICLE_FILE", Path(__file__).parent / "data" / "article.html"))
ARTICLE = _FILE.read_bytes()

app = Flask(__name__)


@app.get("/")
@app.get("/<path:_anything>")
def article(_anything: str = "") -> Response:
    """The same bytes every time."""
    return Response(ARTICLE, mimetype="text/html")


@app.get("/healthz")
def healthz() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")
