"""The writer: the one code that creates or changes a post's content.

People write through the desk's form and the API (`create_draft`, `save_post`, `autosave`,
`restore_revision`): each takes the person acting and checks what they may do. The magazine
itself writes through `file_post` (the demo seed, the WordPress importer, test data): it acts
as the system, checks no person's permission, and may set status, publication and written
dates. Doors never call `file_post`. Statuses move in `publishing`; slugs and the old
addresses a moved post leaves behind are in `slugs`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..hosts import site_host
from ..models import (
    Category,
    Media,
    Permission,
    Post,
    PostKind,
    PostStatus,
    Revision,
    Tag,
    User,
    utcnow,
)
from ..models.content import LIVE_STATUSES
from ..permissions import can_edit, can_publish, can_view_post, may_manage_pages
from ..sanitize import clean_post_html, plain_text, word_count
from . import (
    Forbidden,
    NotFound,
    ServiceError,
    audit,
    bylines,
    custom_fields,
    events,
    pages,
    publishing,
    slugs,
    unit_of_work,
)
from . import media as media_service

MAX_TITLE = 200
MAX_SLUG = slugs.MAX_POST_SLUG
AUTOSAVE_MERGE = timedelta(minutes=10)
# Overtaken autosaves are deleted after this long (the worker's hourly clean-up).
AUTOSAVE_KEEP = timedelta(days=30)
T = TypeVar("T")
WORDS_PER_MINUTE = 200
EXCERPT_WORDS = 40
EXCERPT_CHARS = 300
MAX_TAG = 80  # characters in a tag's name and slug (tags.name, tags.slug)
MAX_TAGS = 100  # WordPress sets none; its own test data gives a post 60-odd


@dataclass
class PostDraft:
    """What the desk's form sends: the fields a writer controls."""

    title: str
    body: str = ""
    excerpt: str = ""
    category_id: int | None = None
    tags: list[str] = field(default_factory=list)
    slug: str = ""
    cover_media_id: int | None = None  # a media library item
    cover_alt: str = ""
    seo_title: str = ""
    seo_description: str = ""
    featured: bool | None = None
    parent_id: int | None = None  # pages only: the page this one sits under
    # Who the post is by; None keeps what it has (see services.bylines.set_people).
    author_id: int | None = None
    coauthors: list[str] | None = None  # usernames, in byline order
    # (key, value) pairs in order; None keeps what the post has (autosaves send none).
    custom_fields: list[tuple[str, str]] | None = None


class Conflict(ServiceError):
    """Someone else saved the post after this writer opened it."""

    def __init__(self, post: Post, draft: PostDraft):
        super().__init__(
            "Someone else saved this post while you were editing. Nothing was overwritten: "
            "compare the two versions below and save again."
        )
        self.post = post
        self.draft = draft


def split_tags(raw: str) -> list[str]:
    """Turn 'a, b, c' into ['a', 'b', 'c'] (the Arabic comma ، and 、，separate too)."""
    return [part.strip() for part in re.split(r"[,،、，]", raw or "") if part.strip()]


def draft_of(post: Post) -> PostDraft:
    """The post as it stands, as a draft: change a field or two and save it."""
    return PostDraft(
        title=post.title,
        body=post.body,
        excerpt=post.excerpt if post.excerpt_written else "",
        category_id=post.category_id,
        tags=[tag.name for tag in post.tags],
        slug=post.slug,
        cover_media_id=post.cover_media_id,
        cover_alt=post.cover_alt,
        seo_title=post.seo_title,
        seo_description=post.seo_description,
        parent_id=post.parent_id,
    )


def get_post_for(actor: User, post_id: int, edit: bool = False) -> Post:
    """Return a post the actor may see (404 otherwise), and may change when edit (403)."""
    post = db.session.scalar(
        select(Post).where(Post.id == post_id).options(selectinload(Post.tags))
    )
    if post is None or not can_view_post(actor, post):
        raise NotFound("No such post.")
    if edit and not can_edit(actor, post):
        raise Forbidden(why_not_editable(actor, post))
    return post


# How a status reads in "This post is … now".
STATUS_WORDS = {
    PostStatus.PUBLISHED: "published",
    PostStatus.SCHEDULED: "scheduled",
    PostStatus.PENDING: "waiting for an editor's review",
    PostStatus.TRASH: "in the trash",
}


def why_not_editable(actor: User, post: Post) -> str:
    """Say why the actor may not change the post, in words (their own post moved on)."""
    if post.author_id == actor.id and post.status in STATUS_WORDS:
        return (
            f"This post is {STATUS_WORDS[post.status]} now, so you can no longer change it. "
            "Your text is kept: save it as a new draft."
        )
    return "You may not change this post."


# -- What a body becomes ---------------------------------------------------------------------


class PreparedBody(str):
    """A body `prepare_body` made: writing it again does not sanitise it twice."""


def prepare_body(raw: str) -> PreparedBody:
    """Sanitise a body and give its uploaded images responsive sizes (once)."""
    if isinstance(raw, PreparedBody):
        return raw
    return sized_body(clean_post_html(raw, site_host()))


def sized_body(cleaned: str) -> PreparedBody:
    """A body clean_post_html already sanitised (for this site's host), its images sized.

    An import sanitises its bodies ahead, in another process (wordpress/pipeline.py).
    """
    return PreparedBody(media_service.enrich_images(cleaned))


def reading_minutes(body_html: str) -> int:
    """Estimate the minutes a reader needs, at least one."""
    return max(1, math.ceil(word_count(body_html) / WORDS_PER_MINUTE))


def derive_excerpt(body_html: str, words: int = EXCERPT_WORDS) -> str:
    """Return the opening words of the body, for a post with no excerpt.

    At most EXCERPT_CHARS characters too: Chinese or Japanese text has no spaces to count
    words by, and a whole article must not become its excerpt.
    """
    parts = plain_text(body_html).split()
    text = " ".join(parts[:words])
    cut = len(parts) > words
    if len(text) > EXCERPT_CHARS:
        text, cut = text[:EXCERPT_CHARS], True
        space = text.rfind(" ")
        if space > EXCERPT_CHARS // 2:  # end on a whole word when the text has words
            text = text[:space]
    return text + ("…" if cut else "")


def written_excerpt(sent: str, body_html: str, post: Post | None = None) -> str:
    """The excerpt a person wrote, or "" when what was sent is the derived one.

    A derived excerpt sent back unchanged (by a page that showed it, or an API client that
    echoes what it read) stays derived, so it follows the body; only new words make it written.
    """
    excerpt = (sent or "").strip()[:1000]
    if not excerpt or excerpt == derive_excerpt(body_html):
        return ""
    if post is not None and not post.excerpt_written and excerpt == post.excerpt:
        return ""
    return excerpt


def opening_words(excerpt: str, body_html: str) -> bool:
    """Whether an excerpt is only the body's opening words, however it was spaced.

    A revision does not record whether its excerpt was written; one that merely repeats the
    start of the body (as every derived one, spaced by older rules too) is taken as derived.
    """
    squeezed = "".join((excerpt or "").removesuffix("…").split())
    return bool(squeezed) and "".join(plain_text(body_html).split()).startswith(squeezed)


def tag_name_and_slug(raw: str) -> tuple[str, str]:
    """A tag's name (spaces collapsed) and slug, or ServiceError when it cannot be kept."""
    name = " ".join((raw or "").split())
    if len(name) > MAX_TAG:
        raise ServiceError(
            f"Keep each tag to {MAX_TAG} characters or fewer: “{name[:30]}…” is longer.", "tags"
        )
    slug = slugs.slugify(name, MAX_TAG)
    if not slug:
        raise ServiceError(
            f"A tag needs at least one letter or digit: “{name}” has none.", "tags"
        )
    return name, slug


def get_or_create_tags(names: list[str]) -> list[Tag]:
    """Return tags for the given names, creating the new ones; refuse any that cannot be kept."""
    if len(names) > MAX_TAGS:
        raise ServiceError(f"Give a post {MAX_TAGS} tags or fewer.", "tags")
    tags: dict[str, Tag] = {}
    for raw in names:
        name, slug = tag_name_and_slug(raw)
        if slug in tags:
            continue
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(name=name, slug=slug)
            db.session.add(tag)
        tags[slug] = tag
    return list(tags.values())


# -- Writing ---------------------------------------------------------------------------------


def _section(actor: User | None, category_id: int | None, post: Post | None) -> Category | None:
    """Return the chosen section, checking it exists and the actor (None: the system) may use it.

    A page has none (None).
    """
    if post is not None and post.is_page:
        return None
    section = db.session.get(Category, category_id) if category_id else None
    if section is None:
        raise ServiceError("Choose a section that exists.", "category")
    moving = post is not None and post.category_id != section.id
    writes_own = actor is None or post is None or post.author_id == actor.id
    if moving and not writes_own and not actor.can(Permission.EDIT_ANY, section):
        raise Forbidden("You may not move posts into that section.")
    return section


def _validate(draft: PostDraft) -> tuple[str, str]:
    """Check the title and slug; return them cleaned."""
    title = " ".join((draft.title or "").split())
    if not title:
        raise ServiceError("A post needs a title.", "title")
    if len(title) > MAX_TITLE:
        raise ServiceError(f"Keep the title to {MAX_TITLE} characters or fewer.", "title")
    slug = slugs.typed_slug(draft.slug)
    if slug and not slugs.is_slug(slug):
        raise ServiceError(
            "A slug is lower-case letters (any script), digits and single hyphens, like "
            "my-first-story.",
            "slug",
        )
    if len(slug) > MAX_SLUG:
        raise ServiceError(f"Keep the slug to {MAX_SLUG} characters or fewer.", "slug")
    if draft.custom_fields is not None:
        custom_fields.checked(draft.custom_fields)
    return title, slug


def _cover(draft: PostDraft, system: bool) -> tuple[Media | None, str]:
    """The chosen library image and its alt text (the library's when none is written).

    A person must describe the cover; the system files what it was given (an import).
    """
    media = media_service.cover_media(draft.cover_media_id)
    if media is None:
        return None, ""
    alt = (draft.cover_alt or "").strip() or media.alt
    if not alt and not system:
        raise ServiceError("Describe the cover image for readers who cannot see it.", "cover_alt")
    return media, alt


def _choose_slug(post: Post, title: str, slug: str, system: bool) -> None:
    """Give the post the slug asked for, or one made from the title when it has none.

    A person who asks for a taken slug is told. The system takes the nearest free one,
    and keeps a numbered form it gave the post before (welcome-2 when welcome is asked).
    """
    if post.slug and (not slug or (system and slugs.is_form_of(post.slug, slug))):
        return
    if post.is_page:
        wanted = slug or slugs.slugify(title) or "page"
        refusal = slugs.top_level_refusal(wanted, page_id=post.id)
        if refusal and slug and not system:
            raise ServiceError(refusal, "slug")
        free = slugs.unique_page_slug(wanted, exclude_id=post.id)
    else:
        wanted = slug or slugs.slugify(title) or "post"
        free = slugs.unique_post_slug(wanted, exclude_id=post.id)
    if free != wanted and slug and not system:
        raise ServiceError("Another post already has that slug.", "slug")
    post.slug = free


def _apply(
    post: Post,
    draft: PostDraft,
    section: Category | None,
    may_feature: bool,
    system: bool = False,
    tags: list[Tag] | None = None,
) -> None:
    """Copy a draft onto a post, sanitising and deriving what is derived.

    system: the magazine itself writes (see `file_post`); tags: the draft's tags as rows,
    when the caller has them already. When a published post's slug or section changes,
    its old address keeps leading to it. A page (section None) takes no tags and is never
    featured; it takes its checked parent instead.
    """
    title, slug = _validate(draft)
    cover, cover_alt = _cover(draft, system)
    old_address = slugs.public_address(post)
    body = prepare_body(draft.body)
    excerpt = written_excerpt(draft.excerpt, body, post)
    post.title = title
    post.body = str(body)
    post.excerpt = excerpt or derive_excerpt(body)
    post.excerpt_written = bool(excerpt)
    post.reading_time = reading_minutes(body)
    media_service.set_cover(post, cover, cover_alt)
    post.seo_title = (draft.seo_title or "").strip()[:200]
    post.seo_description = (draft.seo_description or "").strip()[:300]
    if draft.custom_fields is not None:
        custom_fields.set_fields(post, draft.custom_fields)
    if post.is_page:
        post.tags = []
        post.parent = pages.parent_for(post, draft.parent_id)
        _choose_slug(post, title, slug, system)
        slugs.post_moved(post, old_address)
        return
    post.tags = tags if tags is not None else get_or_create_tags(draft.tags)
    if draft.featured is not None and may_feature:
        post.featured = bool(draft.featured)
    _choose_slug(post, title, slug, system)
    if post.category_id != section.id:
        post.category_id = section.id
        if post.id:
            db.session.expire(post, ["category"])
        else:
            post.category = section
    slugs.post_moved(post, old_address)


def _keep_revision(post: Post, editor: User, note: str) -> Revision:
    """Record the post's current text as a revision."""
    revision = Revision(
        post=post, editor=editor, title=post.title, excerpt=post.excerpt, body=post.body, note=note
    )
    db.session.add(revision)
    return revision


def _new_post(author: User, draft: PostDraft, section: Category, may_feature: bool) -> Post:
    """Build a new post from a person's draft (not yet committed)."""
    post = Post(author=author, status=PostStatus.DRAFT, slug="", category=section)
    with db.session.no_autoflush:  # the post is complete only after _apply
        _apply(post, draft, section, may_feature)
    db.session.add(post)
    return post


@unit_of_work()
def create_draft(actor: User, draft: PostDraft, note: str = "First draft") -> Post:
    """Start a new post as a draft owned by the actor."""
    if not actor.can(Permission.WRITE):
        raise Forbidden("You may not write posts.")
    _validate(draft)
    section = _section(actor, draft.category_id, None)
    post = _new_post(actor, draft, section, actor.can(Permission.PUBLISH, section))
    bylines.set_people(actor, post, draft.author_id, draft.coauthors, new=True)
    _keep_revision(post, actor, note)
    return post


@unit_of_work()
def create_page(actor: User, draft: PostDraft, note: str = "First draft") -> Post:
    """Start a new page (About, Contact…) as a draft: for those who may manage pages."""
    if not may_manage_pages(actor):
        raise Forbidden("You may not write pages.")
    _validate(draft)
    page = Post(author=actor, status=PostStatus.DRAFT, slug="", kind=PostKind.PAGE)
    with db.session.no_autoflush:  # the page is complete only after _apply
        _apply(page, draft, None, False)
    db.session.add(page)
    _keep_revision(page, actor, note)
    return page


def save_as_new_draft(actor: User, draft: PostDraft, source_id: int) -> Post:
    """Keep text that could not be saved over its post as a new draft of the actor's own.

    The new draft takes a slug of its own (the source keeps its address) and is not
    featured; the revision note says where the text came from.
    """
    copy = replace(draft, slug="", featured=None, author_id=None)
    note = f"Saved as a new draft from post {source_id}"
    source = db.session.get(Post, source_id)
    if source is not None and source.is_page:
        return create_page(actor, copy, note=note)
    return create_draft(actor, copy, note=note)


def _commit_or_conflict(post: Post, draft: PostDraft, work: Callable[[], T]) -> T:
    """Run work as one unit and return what it returns; a save that raced it is a Conflict.

    The race is lost at the UPDATE (the version no longer matches): a Conflict showing the
    post as it now stands, or NotFound when it was deleted meanwhile, never a crash.
    """
    try:
        with unit_of_work():
            result = work()
            db.session.flush()
        return result
    except StaleDataError as exc:
        current = db.session.get(Post, post.id, populate_existing=True)
        if current is None:
            raise NotFound("This post was deleted meanwhile.") from exc
        raise Conflict(current, draft) from exc


def save_post(actor: User, post: Post, draft: PostDraft, version: int, note: str = "") -> Post:
    """Save the desk's form over a post, unless someone else saved first.

    A changed section or slug moves the post; a published one keeps its old address (301).
    """
    if not can_edit(actor, post):
        raise Forbidden("You may not change this post.")
    if version != post.version:
        raise Conflict(post, draft)

    def work() -> None:
        """Validate, apply and keep a revision."""
        _validate(draft)
        section = _section(actor, draft.category_id, post)
        _apply(post, draft, section, actor.can(Permission.PUBLISH, section))
        bylines.set_people(actor, post, draft.author_id, draft.coauthors)
        _keep_revision(post, actor, note or "Saved")
        if post.status == PostStatus.PUBLISHED:
            events.emit("post.updated", post=post, actor=actor)

    _commit_or_conflict(post, draft, work)
    return post


def autosave(actor: User, post: Post, draft: PostDraft, version: int) -> tuple[Post, Revision]:
    """Keep unsaved work: live posts get an autosave revision only, drafts are saved.

    Repeated autosaves by one person fold into one revision, so the list stays readable.
    Custom fields are saved by Save only: an autosave keeps the post's as they are.
    """
    if not can_edit(actor, post):
        raise Forbidden("You may not change this post.")
    if version != post.version:
        raise Conflict(post, draft)
    draft = replace(draft, custom_fields=None)

    def work() -> Revision:
        """Keep the text aside (live posts) or save the draft, folding recent autosaves."""
        if post.status in LIVE_STATUSES:
            title, _ = _validate(draft)
            body = prepare_body(draft.body)
            revision = _recent_autosave(post, actor) or _keep_revision(post, actor, "Autosave")
            revision.title, revision.body = title, str(body)
            revision.excerpt = written_excerpt(draft.excerpt, body, post) or derive_excerpt(body)
        else:
            _validate(draft)
            section = _section(actor, draft.category_id, post)
            _apply(post, draft, section, actor.can(Permission.PUBLISH, section))
            bylines.set_people(actor, post, draft.author_id, draft.coauthors)
            revision = _recent_autosave(post, actor) or _keep_revision(post, actor, "Autosave")
            revision.title, revision.excerpt, revision.body = post.title, post.excerpt, post.body
        revision.created_at = utcnow()
        return revision

    return post, _commit_or_conflict(post, draft, work)


@unit_of_work()
def file_post(
    draft: PostDraft,
    author: User,
    status: PostStatus = PostStatus.DRAFT,
    published_at: datetime | None = None,
    written_at: datetime | None = None,
    post: Post | None = None,
    note: str = "First draft",
    *,
    created_at: datetime | None = None,
    tags: list[Tag] | None = None,
    wp_post_id: int | None = None,
    kind: PostKind = PostKind.POST,
) -> Post:
    """The system writes a post for author: the demo seed, an import, test data.

    No person's permission is checked (doors never call this). A new post is made unless
    post is given. A taken slug becomes the nearest free one, and a post that has a
    numbered form of the slug asked for keeps it. A published or scheduled post gets
    published_at, else keeps its own, else (published only) now: a scheduled one brings its
    own. Any other post has none. written_at dates the change and its revision, created_at a new
    post's creation (written_at when not given). tags are the draft's tags as rows, when
    the caller has them; wp_post_id is the WordPress post a new one was imported from.
    kind PAGE files a new page (no section; draft.parent_id its parent page).
    """
    new = post is None
    if new and kind == PostKind.PAGE:
        post = Post(author=author, status=PostStatus.DRAFT, slug="", kind=PostKind.PAGE)
        post.wp_post_id = wp_post_id
    section = _section(None, draft.category_id, post)
    if post is None:
        post = Post(author=author, status=PostStatus.DRAFT, slug="", category=section)
        post.wp_post_id = wp_post_id
    with db.session.no_autoflush:  # the post is complete only after _apply
        _apply(post, draft, section, True, system=True, tags=tags)
        post.author = author
        post.status = status
        if status in LIVE_STATUSES:
            post.published_at = published_at or post.published_at
            if status == PostStatus.PUBLISHED and post.published_at is None:
                post.published_at = utcnow()
        else:
            post.published_at = published_at
    if new:
        db.session.add(post)
    if draft.coauthors is not None:
        bylines.set_people(None, post, None, draft.coauthors, new=new)
    revision = _keep_revision(post, author, note)
    if written_at is not None:
        post.updated_at = revision.created_at = written_at
    if new and (created_at or written_at) is not None:
        post.created_at = created_at or written_at
    return post


@unit_of_work()
def file_page_parent(page: Post, parent_id: int | None) -> Post:
    """The system puts a page under another (an import's second pass); a loop is refused."""
    page.parent = pages.parent_for(page, parent_id)
    return page


def _own_autosave(post: Post, actor: User) -> Revision | None:
    """Return the post's latest revision when it is an autosave by this person."""
    latest = db.session.scalar(
        select(Revision).where(Revision.post_id == post.id).order_by(Revision.id.desc()).limit(1)
    )
    if latest is not None and latest.note == "Autosave" and latest.editor_id == actor.id:
        return latest
    return None


def _recent_autosave(post: Post, actor: User) -> Revision | None:
    """Return the latest revision when it is this person's recent autosave."""
    latest = _own_autosave(post, actor)
    if latest is not None and utcnow() - latest.created_at < AUTOSAVE_MERGE:
        return latest
    return None


@unit_of_work()
def forget_old_autosaves(now: datetime | None = None) -> int:
    """Delete autosaves older than AUTOSAVE_KEEP that a later save has overtaken.

    A post's newest revision is kept whatever it is: it may be the only copy of what
    someone typed. Returns how many went (the worker's hourly clean-up).
    """
    newest = select(func.max(Revision.id)).group_by(Revision.post_id)
    result = db.session.execute(
        delete(Revision).where(
            Revision.note == "Autosave",
            Revision.created_at < (now or utcnow()) - AUTOSAVE_KEEP,
            Revision.id.not_in(newest),
        )
    )
    return result.rowcount or 0


def pending_autosave(post: Post, actor: User) -> Revision | None:
    """Return an autosave of a live post newer than its last save, to offer back."""
    latest = _own_autosave(post, actor)
    if latest is not None and (latest.body != post.body or latest.title != post.title):
        return latest
    return None


def revisions_of(post: Post) -> list[Revision]:
    """Every revision of a post, newest first, with who saved it."""
    return list(
        db.session.scalars(
            select(Revision)
            .where(Revision.post_id == post.id)
            .options(selectinload(Revision.editor))
            .order_by(Revision.id.desc())
        )
    )


def get_revision(post: Post, revision_id: int) -> Revision:
    """Return one revision of this post or raise NotFound."""
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.post_id != post.id:
        raise NotFound("No such revision.")
    return revision


def restore_revision(actor: User, post: Post, revision: Revision, version: int) -> Post:
    """Bring back a revision's text; the restore is itself a new revision."""
    excerpt = "" if opening_words(revision.excerpt, revision.body) else revision.excerpt
    draft = replace(
        draft_of(post), title=revision.title, body=revision.body, excerpt=excerpt, slug=""
    )
    return save_post(actor, post, draft, version, note=f"Restored revision {revision.id}")


@dataclass
class DiffPiece:
    """A run of words that are the same, added or removed between two texts."""

    kind: str  # "same", "added" or "removed"
    text: str


def word_diff(old: str, new: str) -> list[DiffPiece]:
    """Compare two texts word by word."""
    a, b = old.split(), new.split()
    pieces: list[DiffPiece] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(DiffPiece("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(DiffPiece("added", " ".join(b[j1:j2])))
    return pieces


def _paragraphs(markup: str) -> str:
    """The body's text with one line per paragraph or heading."""
    spaced = re.sub(r"</(p|h[1-6]|li|blockquote|pre|figcaption|div)>", "\n", markup or "")
    return "\n".join(line for line in (plain_text(x) for x in spaced.split("\n")) if line)


def compare(old: Revision | Post, new: Revision | Post) -> dict[str, list[DiffPiece]]:
    """Readable differences in title, excerpt and body between two versions."""
    return {
        "Title": word_diff(old.title, new.title),
        "Excerpt": word_diff(old.excerpt, new.excerpt),
        "Body": word_diff(_paragraphs(old.body), _paragraphs(new.body)),
    }


def draft_body_preview(draft: PostDraft) -> str:
    """The sanitised body of an unsaved draft, for the conflict page."""
    return clean_post_html(draft.body)


def can_see_publish_controls(actor: User, post: Post) -> bool:
    """Whether the desk shows publish, schedule and unpublish for this post."""
    return can_publish(actor, post)


# -- Acting on many posts at once (All posts) ------------------------------------------------

BULK_ACTIONS = {
    "submit": "Submit for review",
    "publish": "Publish",
    "unpublish": "Unpublish",
    "trash": "Move to trash",
    "move": "Move to another section",
    "tag": "Add a tag",
}
# What a refused person may not do, said after "you may not … in <section>".
_REFUSED = {
    "submit": "submit others' posts",
    "publish": "publish",
    "unpublish": "unpublish",
    "trash": "trash posts",
    "move": "move posts",
    "tag": "change posts",
}


@dataclass
class BulkOutcome:
    """What a bulk action did: the posts changed, and per refused post why not."""

    done: list[Post] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def posts_for(actor: User, post_ids: list[int]) -> list[Post]:
    """The articles with these ids that the actor may see, in the order given (no pages:
    All posts acts on articles only)."""
    if not post_ids:
        return []
    found = {
        post.id: post
        for post in db.session.scalars(
            select(Post)
            .where(Post.id.in_(post_ids), Post.articles())
            .options(joinedload(Post.category), joinedload(Post.author), selectinload(Post.tags))
        ).unique()
        if can_view_post(actor, post)
    }
    return [found[i] for i in dict.fromkeys(post_ids) if i in found]


def bulk_section(section_id: int | None) -> Category:
    """The section a bulk move files posts under."""
    section = db.session.get(Category, section_id) if section_id else None
    if section is None:
        raise ServiceError("Choose a section that exists.", "section")
    return section


def _move(actor: User, post: Post, section: Category) -> None:
    """File one post under another section; a public address it had answers 301."""
    if not can_edit(actor, post):
        raise Forbidden("You may not change this post.")
    _section(actor, section.id, post)
    if post.category_id == section.id:
        return
    old_address = slugs.public_address(post)
    post.category_id = section.id
    db.session.expire(post, ["category"])
    slugs.post_moved(post, old_address)
    audit.record(actor, "post.move", post, details=f"to {section.name}")


def _add_tag(post: Post, tag: Tag) -> None:
    """Give one post a tag it may not have yet (the caller checked it may be changed)."""
    if tag not in post.tags:
        post.tags = [*post.tags, tag]


def _refusal(actor: User, post: Post, action: str, error: ServiceError, section) -> str:
    """Why one post was left alone, as a line naming it."""
    if not isinstance(error, Forbidden):
        reason = error.message
    elif action == "move" and can_edit(actor, post):
        reason = f"you may not move posts into {section.name}"
    else:
        reason = f"you may not {_REFUSED[action]} in {post.category.name}"
    return f"“{post.title}”: {reason}"


@unit_of_work()
def bulk_action(
    actor: User, posts: list[Post], action: str, section_id: int | None = None, tag: str = ""
) -> BulkOutcome:
    """Run one action on each post the actor may act on; say per post what was refused.

    Each post goes through the same rule as the one-post action (publishing's checks for
    status changes, the writer's for a section or a tag); all commit together, once.
    """
    if action not in BULK_ACTIONS:
        raise ServiceError("Choose an action.", "action")
    section = bulk_section(section_id) if action == "move" else None
    tag_row: Tag | None = None
    if action == "tag":
        names = split_tags(tag)
        if len(names) != 1 or not slugs.slugify(names[0]):
            raise ServiceError("Name one tag to add.", "tag")
    outcome = BulkOutcome()
    for post in posts:
        try:
            if action == "move":
                _move(actor, post, section)
            elif action == "tag":
                if not can_edit(actor, post):
                    raise Forbidden("You may not change this post.")
                tag_row = tag_row or get_or_create_tags(names)[0]
                _add_tag(post, tag_row)
            else:
                _STATUS_ACTIONS[action](actor, post)
        except ServiceError as error:
            outcome.refused.append(_refusal(actor, post, action, error, section))
        else:
            outcome.done.append(post)
    return outcome


_STATUS_ACTIONS = {
    "submit": publishing.submit_for_review,
    "publish": publishing.publish_now,
    "unpublish": publishing.unpublish,
    "trash": publishing.move_to_trash,
}
