"""The content generation: cached things are fresh until a change purges their keys.

Cached things (whole pages in blog/pagecache.py, the settings, the navigation menus,
comment threads, listing counts) carry surrogate keys (blog/services/surrogate.py: the
names of what they show). The session hooks below watch every flush, derive from the
changed rows (with their old values: a post's previous section, tags and authors) the
keys that the change affects, and purge exactly those after the commit, here and in
Varnish; no service has to remember to purge. A sign-in, a session row or an audit
entry purges nothing; an approved comment purges its article; site-wide settings, the
navigation and the sections purge ``all``, which every cached thing carries (`bump`).

Key versions live in Redis when there is one, else in small files in the instance
folder that every worker on this machine reads (surrogate.mark/fresh).
"""

from __future__ import annotations

import logging
import time

from flask import current_app, g

from ..extensions import cache
from . import surrogate

log = logging.getLogger(__name__)

# At most this many values are remembered per process (_remember), then it starts again.
MAX_REMEMBERED_VALUES = 5_000


def bump() -> None:
    """Purge everything cached (a restore, an emptied trash, a changed menu)."""
    surrogate.purge({surrogate.ALL})


def cached(name: str, build, keys=(), timeout: int | None = None, still_good=None):
    """Return the value cached for name while none of its keys was purged, building it if needed.

    The value carries ``all``, the given keys and any key its build showed; a page built
    with it carries them too (so a page holding a cached menu goes when the menu does).
    still_good(value), when given, may also say a kept value has run out (its moment passed).
    Values are shared by the requests of a process (_remembered): treat them as read-only.
    """
    version = surrogate.request_purge_version()
    entry = _remembered(name, version) or _fresh_entries({name: name}, version).get(name)
    if entry is not None and (still_good is None or still_good(entry["value"])):
        _remember(name, entry, version, timeout)
        surrogate.show(*entry["keys"])
        return entry["value"]
    entry = _build_and_keep(name, build, keys, surrogate.mark(), timeout)
    _remember(name, entry, version, timeout)
    return entry["value"]


def cached_each(names: dict, load, build, timeout: int | None = None) -> dict:
    """Return {k: value} for each k of names ({k: cache name}), as `cached` does for one.

    The ones missing or purged are read together (``load(missing)``: {k: item}, one query)
    and built one by one (``build(item)``), each value carrying the keys its own build
    showed. A k that load does not return is left out.
    """
    version = surrogate.request_purge_version()
    entries = {k: _remembered(n, version) for k, n in names.items()}
    unsure = {k: names[k] for k, e in entries.items() if e is None}
    entries.update(_fresh_entries(unsure, version) if unsure else {})
    found: dict = {}
    for k, entry in entries.items():
        if entry is not None:
            _remember(names[k], entry, version, timeout)
            surrogate.show(*entry["keys"])
            found[k] = entry["value"]
    missing = [k for k in names if k not in found]
    if missing:
        taken = surrogate.mark()  # before anything is read
        items = load(missing)
        for k in missing:
            if k in items:
                item = items[k]
                entry = _build_and_keep(names[k], lambda i=item: build(i), (), taken, timeout)
                _remember(names[k], entry, version, timeout)
                found[k] = entry["value"]
    return found


def _fresh_entries(names: dict, version) -> dict:
    """{k: entry} for each k of names ({k: cache name}) kept in the cache and not purged."""
    entries = dict(zip(names, cache.get_many(*(f"value:{n}" for n in names.values())), strict=True))
    kept = {k: e for k, e in entries.items() if e is not None}
    checks = surrogate.all_still_fresh(
        [(f"value:{names[k]}", e["keys"], e["mark"]) for k, e in kept.items()], version
    )
    return {k: e for (k, e), ok in zip(kept.items(), checks, strict=True) if ok}


def _remembered(name: str, version) -> dict | None:
    """The entry this process last found fresh for name, while the purge version it was
    found under has not moved (nothing can have been purged since: no cache read, no
    unpickling, no key read)."""
    found = _memory().get(name)
    if found is None or found[0] != version or found[2] < time.monotonic():
        return None
    return found[1]


def _remember(name: str, entry: dict, version, timeout: int | None) -> None:
    """Keep an entry found fresh (or just built) under this purge version, in this process.

    The version was read before the entry's keys were checked or its build read anything,
    so a purge that could make it stale moves the version. Values with a timeout are left
    to the cache, which keeps the time; the others are kept no longer than the cache's
    default timeout (as in the cache), which bounds what a change made without the app
    (no purge) leaves behind.
    """
    if timeout is not None:
        return
    memory = _memory()
    if len(memory) >= MAX_REMEMBERED_VALUES and name not in memory:
        memory.clear()
    until = time.monotonic() + (current_app.config.get("CACHE_DEFAULT_TIMEOUT") or 300)
    memory[name] = (version, entry, until)


def _memory() -> dict:
    """This process's remembered entries: {name: (purge version, entry, until)}."""
    return current_app.extensions.setdefault("circle_values", {})


def _build_and_keep(name: str, build, keys, taken: int, timeout: int | None) -> dict:
    """Build a value, collecting the keys it shows, and keep it with them and the mark."""
    outer = g.get("surrogate_keys")
    g.surrogate_keys = {surrogate.ALL, *keys}
    try:
        value = build()
        shown = g.surrogate_keys
    finally:
        g.surrogate_keys = outer
    entry = {"value": value, "keys": sorted(shown), "mark": taken}
    cache.set(f"value:{name}", entry, timeout)
    surrogate.show(*shown)
    return entry


def note(keys) -> None:
    """Purge these keys after the commit: for statements the session hooks cannot see
    (a bulk INSERT or DELETE); forgotten if the transaction rolls back."""
    from ..extensions import db

    db.session.info.setdefault("circle_purge_keys", set()).update(keys)


def _keys(obj, **how) -> set[str]:
    """The keys a changed row purges; everything if they cannot be told (never stale)."""
    try:
        return surrogate.keys_for_change(obj, **how)
    except Exception:  # noqa: BLE001 - a purge too wide beats a stale page
        log.exception("could not tell what a %s change shows; purging all", type(obj).__name__)
        return {surrogate.ALL}


def _note_changes(session, _flush_context) -> None:
    """Remember, for the commit, the keys this flush's changes affect."""
    found = session.info.setdefault("circle_purge_keys", set())
    with session.no_autoflush:
        for obj in session.new:
            found |= _keys(obj, new=True)
        for obj in session.dirty:
            if session.is_modified(obj):
                found |= _keys(obj)
        for obj in session.deleted:
            found |= _keys(obj, deleted=True)


def _purge_after_commit(session) -> None:
    """After a commit, purge what it changed."""
    keys = session.info.pop("circle_purge_keys", None)
    if keys:
        surrogate.purge(keys)


def _forget_on_rollback(session, _previous_transaction) -> None:
    """A rolled-back transaction changed nothing."""
    session.info.pop("circle_purge_keys", None)


def install_generation_hooks() -> None:
    """Purge the keys of what changed after every commit (installed once)."""
    from sqlalchemy import event

    from ..extensions import db

    for name, handler in (
        ("after_flush", _note_changes),
        ("after_commit", _purge_after_commit),
        ("after_soft_rollback", _forget_on_rollback),
    ):
        if not event.contains(db.session, name, handler):
            event.listen(db.session, name, handler)
