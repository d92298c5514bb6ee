"""Surrogate keys: the names of what a cached page shows, and what a change purges.

Every name used by the page cache, by the cached values of content_generation and by
Varnish (the `xkey` header) is made here, so a reader page and a change agree on them:

- ``all``: every page carries it; bumping it is the global purge (settings, navigation,
  sections, tags renamed or deleted, a person deleted, a restore).
- ``post-<id>`` / ``page-<id>``: the page shows that article or page (the article itself,
  a card in a listing, a previous/next link, a related story, a breadcrumb).
- ``user-<id>``: the page shows that person's public profile (a byline, an author page,
  a comment's name).
- ``section-<id>``, ``tag-<id>``, ``author-<id>``: the listing of that section, tag or
  author (its pages, its feed, its cached count).
- ``nearby-section-<id>``, ``nearby-tag-<id>``: an article whose previous/next links or
  related stories were chosen among that section's or tag's live posts.
- ``comments-<post id>``: the shown comments of an article.
- ``home``, ``feed``, ``sitemap``, ``search``, ``api``, ``pages`` (the pages API),
  ``redirects`` (a 301 answered for an old address), ``settings``, ``navigation``.

A request that may be cached collects its keys in ``g`` (`collect`, then `show` and
`show_posts` from the reading services); the content generation's session hooks derive
the keys a commit affects (`keys_for_changes`) and call `purge` after the commit.

Each key has a version: the moment it was last purged. A cached thing remembers the
mark taken when it began to be built and is fresh while none of its keys was purged
since (one Redis MGET, or a few `stat` calls on the generation folder without Redis,
so every worker on the machine agrees). Every purge also moves one site-wide purge
version after its keys; `still_fresh` reads only that version for a thing asked for
again and again, and checks its keys once more only when the version has moved since
this process last found the thing fresh. Varnish, when configured (CIRCLE_PURGE_URLS),
is told the same keys in an `xkey-purge` request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from flask import current_app, g, has_request_context
from sqlalchemy import inspect

from ..models.content import LIVE_STATUSES

log = logging.getLogger(__name__)

ALL = "all"
HOME = "home"
FEED = "feed"
SITEMAP = "sitemap"
SEARCH = "search"
API = "api"
PAGES = "pages"
REDIRECTS = "redirects"
SETTINGS = "settings"
NAVIGATION = "navigation"

PURGE_TIMEOUT_SECONDS = 2.0
# A change touching more keys than this (an import, a bulk edit) purges everything instead:
# the same effect, one version to move rather than thousands.
MAX_TARGETED_KEYS = 500
# The file (without Redis) or Redis key of the site-wide purge version; no key starts with ".".
PURGED = ".purged"
# still_fresh remembers at most this many things per process, then starts again.
MAX_REMEMBERED = 2_000
# Where a request keeps the purge version its cached values are checked against.
REQUEST_VERSION = "circle_purge_version"


def post(item) -> str:
    """The key of an article or a page (an object with id and is_page)."""
    return f"{'page' if item.is_page else 'post'}-{item.id}"


def post_id(number: int) -> str:
    """The key of an article by id."""
    return f"post-{number}"


def page_id(number: int) -> str:
    """The key of a page by id."""
    return f"page-{number}"


def person(user_id: int) -> str:
    """The key of a person's public profile."""
    return f"user-{user_id}"


def section(section_id: int) -> str:
    """The key of a section's listing."""
    return f"section-{section_id}"


def tag(tag_id: int) -> str:
    """The key of a tag's listing."""
    return f"tag-{tag_id}"


def author(user_id: int) -> str:
    """The key of an author's listing."""
    return f"author-{user_id}"


def nearby_section(section_id: int) -> str:
    """The key of articles whose neighbours or related stories come from a section."""
    return f"nearby-section-{section_id}"


def nearby_tag(tag_id: int) -> str:
    """The key of articles whose related stories come from a tag."""
    return f"nearby-tag-{tag_id}"


def comments(post_id_: int) -> str:
    """The key of an article's shown comments."""
    return f"comments-{post_id_}"


# -- What a request shows --------------------------------------------------------------


def collect() -> None:
    """Start collecting the keys of this request (the page cache calls it on a miss)."""
    g.surrogate_keys = {ALL}


def collected() -> set[str]:
    """The keys collected so far in this request (empty when not collecting)."""
    return set(g.get("surrogate_keys") or ())


def show(*keys: str) -> None:
    """Record that the page being built shows these keys (no-op when not collecting)."""
    found = g.get("surrogate_keys")
    if found is not None:
        found.update(keys)


def show_posts(posts: Iterable) -> None:
    """Record cards, links or articles: each post and the people in its byline."""
    found = g.get("surrogate_keys")
    if found is None:
        return
    for item in posts:
        if item is None:
            continue
        found.add(post(item))
        found.add(person(item.author_id))
        if "coauthors" not in inspect(item).unloaded:
            found.update(person(u.id) for u in item.coauthors)


# -- Versions --------------------------------------------------------------------------


def _redis():
    """The Redis client behind the cache, when the cache is Redis."""
    if current_app.config.get("CACHE_TYPE") != "RedisCache":
        return None
    from ..extensions import cache

    return cache.cache._write_client  # Flask-Caching's RedisCache keeps its client here


def _prefix() -> str:
    """The cache key prefix of this site."""
    return current_app.config["CACHE_KEY_PREFIX"]


def _folder_name() -> str:
    """Where key versions live without Redis: one empty file per key, its mtime the version."""
    config = current_app.config
    base = config.get("CACHE_GENERATION_DIR") or current_app.instance_path
    return os.path.join(base, f"{_prefix()}keys")


def _folder() -> Path:
    """_folder_name as a Path."""
    return Path(_folder_name())


def mark() -> int:
    """A mark taken before reading: anything purged after it has a greater version."""
    client = _redis()
    if client is not None:
        value = client.get(_prefix() + "key-seq")
        return int(value) if value else 0
    return time.time_ns() - 1


def fresh(keys: Iterable[str], taken: int) -> bool:
    """Whether nothing with these keys was purged since the mark was taken."""
    return all_fresh([(keys, taken)])[0]


def all_fresh(entries: list[tuple[Iterable[str], int]]) -> list[bool]:
    """For each (keys, mark), whether nothing with those keys was purged since the mark.

    Each key's version is read once for them all (one Redis MGET, or one `stat` per key):
    a listing's cards share ``all`` and their authors' keys.
    """
    entries = [(list(keys), taken) for keys, taken in entries]
    wanted = list({key: None for keys, _taken in entries for key in keys})
    version = dict(zip(wanted, _versions(wanted), strict=True))
    return [all(version[k] <= taken for k in keys) for keys, taken in entries]


def _versions(keys: list[str]) -> list[int]:
    """The version of each key: when it was last purged (0: never)."""
    client = _redis()
    if client is not None:
        values = client.mget([f"{_prefix()}key:{k}" for k in keys]) if keys else []
        return [int(v) if v is not None else 0 for v in values]
    folder = _folder_name()
    found = []
    for key in keys:
        try:
            found.append(os.stat(f"{folder}/{key}").st_mtime_ns)
        except FileNotFoundError:
            found.append(0)
    return found


def purge_version() -> object:
    """The site-wide purge version: it changes after the keys of every purge have moved.

    One Redis GET (each purge's own number from INCR with a random part: a Redis emptied
    or restarted without its data counts from 0 again, and a worker must not take a new
    purge for one it remembers), or one `stat` of the version file (its inode and mtime in
    nanoseconds; each purge writes a new file whose mtime is past the last one's). None
    before any purge.
    """
    client = _redis()
    if client is not None:
        return client.get(_prefix() + PURGED)
    try:
        found = os.stat(os.path.join(_folder_name(), PURGED))  # a hit's one system call
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_mtime_ns)


def still_fresh(name: str, keys: Iterable[str], taken: int) -> bool:
    """fresh(), remembered per process for a thing read again and again (a cached page).

    While the purge version has not moved since this process last found the thing
    fresh, nothing it shows can have been purged: one read instead of one per key.
    The version is read before the keys, so a purge finished before this call always
    moves it or shows in the keys.
    """
    return all_still_fresh([(name, keys, taken)])[0]


def request_purge_version() -> object:
    """purge_version, read once per request: the cached values one page reads are checked
    against the same moment (the page cache's mark is taken before too). A purge this
    request makes forgets it (purge), and so does the start of every request
    (forget_request_version, a hook of the page cache): an app context and its g can
    outlive a request (tests, commands). Read each time outside a request."""
    if not has_request_context():
        return purge_version()
    found = g.get(REQUEST_VERSION, _UNREAD)
    if found is _UNREAD:
        found = purge_version()
        setattr(g, REQUEST_VERSION, found)
    return found


def forget_request_version() -> None:
    """Read the purge version again on the next request_purge_version."""
    g.pop(REQUEST_VERSION, None)


_UNREAD = object()


def all_still_fresh(
    entries: list[tuple[str, Iterable[str], int]], version: object = _UNREAD
) -> list[bool]:
    """still_fresh for each (name, keys, mark): one read of the purge version for them all
    (or the one given), and the keys of those not found fresh under it read together."""
    if version is _UNREAD:
        version = purge_version()
    remembered = current_app.extensions.setdefault("circle_fresh_checks", {})
    checked = [(name, (taken, tuple(keys), version)) for name, keys, taken in entries]
    known = [remembered.get(name) == check for name, check in checked]
    unsure = [i for i, ok in enumerate(known) if not ok]
    if not unsure:
        return known
    answers = all_fresh([(checked[i][1][1], checked[i][1][0]) for i in unsure])
    if len(remembered) + len(unsure) > MAX_REMEMBERED:
        remembered.clear()
    for i, ok in zip(unsure, answers, strict=True):
        name, check = checked[i]
        known[i] = ok
        if ok:
            remembered[name] = check
        else:
            remembered.pop(name, None)
    return known


def _bump(keys: set[str]) -> None:
    """Give each key a new version, greater than every mark taken before; then move the
    purge version (after the keys, so whoever sees the new version sees the keys too)."""
    client = _redis()
    if client is not None:
        version = client.incr(_prefix() + "key-seq")
        # One MSET: the keys and the purge version move together.
        purged = f"{version}:{os.urandom(8).hex()}"
        client.mset({**{f"{_prefix()}key:{k}": version for k in keys}, _prefix() + PURGED: purged})
        return
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()
    for key in keys:
        path = folder / key
        path.touch()
        # Two purges within the clock's tick must still move the version.
        os.utime(path, ns=(now, max(now, path.stat().st_mtime_ns + 1)))
    _new_purge_version(folder)


def _new_purge_version(folder: Path) -> None:
    """Replace the purge version file with a new one (a new inode; its mtime now, or
    just after the last one's when the clock has not moved on or went back: an inode
    number freed by the last replace may come back, the mtime still differs)."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=PURGED + "-")
    os.close(handle)
    now = time.time_ns()
    with contextlib.suppress(FileNotFoundError):
        now = max(now, os.stat(folder / PURGED).st_mtime_ns + 1)
    os.utime(name, ns=(now, now))
    os.replace(name, folder / PURGED)


def purge(keys: Iterable[str]) -> None:
    """Purge every cached page and value that carries one of these keys, here and in Varnish.

    Called after a commit. Plain strings in, so a job queue can run it later unchanged.
    """
    keys = set(keys)
    if not keys:
        return
    if len(keys) > MAX_TARGETED_KEYS or ALL in keys:
        keys = {ALL}
    _bump(keys)
    if has_request_context():
        forget_request_version()
    urls = current_app.config.get("PURGE_URLS") or ()
    if urls:
        purge_varnish(urls, keys)


def purge_varnish(urls: Iterable[str], keys: Iterable[str]) -> None:
    """Ask each Varnish to drop the objects tagged with these keys (xkey); failures are logged."""
    header = " ".join(sorted(keys))
    for base in urls:
        request = urllib.request.Request(
            base.rstrip("/") + "/", method="PURGE", headers={"xkey-purge": header}
        )
        try:
            with urllib.request.urlopen(request, timeout=PURGE_TIMEOUT_SECONDS) as answer:
                answer.read()
        except Exception as error:  # noqa: BLE001 - the change is committed; say, and go on
            log.warning("varnish purge at %s failed for %s: %s", base, header, error)


# -- What a change purges --------------------------------------------------------------

# Columns of a person that readers see; others (last_login_at, password…) purge nothing.
PUBLIC_PERSON_COLUMNS = (
    "username",
    "display_name",
    "bio",
    "avatar_image",
    "links",
    "role_id",
)
# Columns that move a post among listings, neighbours and related stories.
MEMBERSHIP_COLUMNS = ("status", "published_at", "category_id", "slug", "kind", "parent_id")


def _values(obj, name: str, deleted: bool, new: bool = False) -> set:
    """The old and new values of a column or a collection (ids) of a changed object.

    A collection a new row never had is not loaded (an import of many posts runs no query
    per post); bulk-written rows (co-authors) say what they change (content_generation.note).
    """
    state = inspect(obj)
    history = state.attrs[name].history
    found = set()
    for value in (*history.added, *history.deleted, *history.unchanged):
        found.add(getattr(value, "id", value))
    unknown = not history.added and not history.deleted and not history.unchanged
    if new and name in state.mapper.relationships:
        unknown = False
    if unknown and not deleted:
        value = getattr(obj, name)  # not loaded: read it (no SQL for a plain column)
        if isinstance(value, list):
            found.update(v.id for v in value)
        else:
            found.add(value)
    found.discard(None)
    return found


def _changed(obj, names: Iterable[str]) -> bool:
    """Whether any of these attributes changed in this flush."""
    attrs = inspect(obj).attrs
    return any(attrs[n].history.has_changes() for n in names)


def _post_keys(obj, new: bool, deleted: bool) -> set[str]:
    """The keys a changed article or page purges."""
    if not new and not deleted and not _changed(obj, _shown_attributes(obj)):
        return set()  # only its revisions (a collection readers never see) moved
    statuses = _values(obj, "status", deleted, new)
    if deleted and not statuses:
        return {ALL}  # gone without a trace of what it was: never guess
    live = bool(statuses & set(LIVE_STATUSES))
    kinds = _values(obj, "kind", deleted, new)
    own = {post_id(obj.id), page_id(obj.id)} if len(kinds) > 1 else {post(obj)}
    if not live:
        return own  # a draft or a trashed draft: nobody reads it
    keys = own | {SITEMAP, SEARCH, REDIRECTS}
    if "page" in kinds:
        keys |= {PAGES}
    if kinds == {"page"}:
        return keys
    sections = _values(obj, "category_id", deleted, new)
    tags = _values(obj, "tags", deleted, new)
    people = _values(obj, "author_id", deleted, new) | _values(obj, "coauthors", deleted, new)
    keys |= {HOME, FEED, API}
    keys |= {section(s) for s in sections} | {tag(t) for t in tags}
    keys |= {author(p) for p in people}
    if new or deleted or _changed(obj, (*MEMBERSHIP_COLUMNS, "tags")):
        keys |= {nearby_section(s) for s in sections} | {nearby_tag(t) for t in tags}
    return keys


# Relationships of a post that readers never see through the post itself.
UNSHOWN_POST_ATTRIBUTES = frozenset({"revisions", "custom_fields"})


def _shown_attributes(obj) -> list[str]:
    """The attributes of a post whose change a reader could notice."""
    return [a.key for a in inspect(obj).attrs if a.key not in UNSHOWN_POST_ATTRIBUTES]


def keys_for_change(obj, new: bool = False, deleted: bool = False) -> set[str]:
    """The keys one changed row purges (an empty set: readers see no difference)."""
    kind = type(obj).__name__
    if kind == "Post":
        return _post_keys(obj, new, deleted)
    if kind == "Comment":
        return {comments(p) for p in _values(obj, "post_id", deleted)}
    if kind == "User":
        if new:
            return set()
        if deleted or _changed(obj, ("suspended_at",)):
            return {ALL}  # their comments and posts appear or go everywhere
        if _changed(obj, PUBLIC_PERSON_COLUMNS):
            return {person(obj.id), author(obj.id), SITEMAP, API, SEARCH}
        return set()
    if kind == "Tag":
        return set() if new else {ALL}  # a new tag shows through its posts' change
    if kind == "Redirect":
        return {REDIRECTS}
    if kind in ("Category", "SiteSetting"):
        return {ALL}  # the navigation shows the sections; settings are site-wide
    return set()
