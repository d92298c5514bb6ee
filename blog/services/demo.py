"""The demo magazine: sections, people and articles for a first run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import markdown
import yaml
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..models import Category, Media, Post, PostKind, PostStatus, User, utcnow
from . import demo_covers, desk, slugs, unit_of_work
from . import media as media_service
from . import users as user_service

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"

# Demo logins, printed by `flask seed-demo`. For trying the site locally only.
DEMO_PEOPLE = [
    ("admin", "admin@example.com", "Ada Admin", "circle-admin-demo"),
    ("editor", "editor@example.com", "Eden Editor", "circle-editor-demo"),
    ("author", "author@example.com", "Arun Author", "circle-author-demo"),
    ("reader", "reader@example.com", "Riya Reader", "circle-reader-demo"),
]


@dataclass
class SeedReport:
    """What a seed run created, and the logins to print."""

    created: list[str] = field(default_factory=list)
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    cover_files: list[str] = field(default_factory=list)  # the covers this run stored


def read_front_matter(path: Path) -> tuple[dict, str]:
    """Split a Markdown file into its YAML front matter and its body."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}, text
    _, head, body = text.split("---", 2)
    return yaml.safe_load(head) or {}, body.strip()


def markdown_to_html(text: str) -> str:
    """Render Markdown; the writer sanitises the result."""
    return markdown.markdown(text, extensions=["extra", "sane_lists"])


def _section_spec() -> list[dict]:
    """The sections of sections.yaml, in navigation order."""
    return yaml.safe_load((DEMO_DIR / "sections.yaml").read_text(encoding="utf-8"))


def _colour(item: dict) -> demo_covers.Colour:
    """A section's colour, as sections.yaml gives it."""
    return demo_covers.Colour(item["colour"]["name"], item["colour"]["hex"])


def _cover(slug: str, item: dict, uploader: User, report: SeedReport) -> tuple[Media, str]:
    """Draw the cover for slug in its section's colour and put it in the media library
    the way an upload goes (every size, WebP beside it); return it with its alt text."""
    alt = demo_covers.cover_alt(_colour(item), item["name"])
    upload = FileStorage(
        BytesIO(demo_covers.cover_jpeg(slug, _colour(item))),
        filename=f"{slug}.jpg",
        content_type="image/jpeg",
    )
    media = media_service.save_upload(upload, uploader, alt, quota=False)
    report.cover_files += media_service.file_names(media)
    return media, alt


def _ensure_sections(report: SeedReport, uploader: User) -> dict[str, Category]:
    """Create the five sections from sections.yaml, in navigation order, each with a cover."""
    sections = {c.slug: c for c in db.session.scalars(select(Category))}
    for position, item in enumerate(_section_spec(), start=1):
        if item["slug"] in sections:
            continue
        section = Category(
            name=item["name"],
            slug=item["slug"],
            description=item.get("description", ""),
            position=position,
        )
        media_service.set_cover(section, *_cover(f"section-{item['slug']}", item, uploader, report))
        db.session.add(section)
        sections[section.slug] = section
        report.created.append(f"section {section.name}")
    db.session.flush()
    return sections


def _ensure_people(report: SeedReport) -> dict[str, User]:
    """Create one demo person per role."""
    people: dict[str, User] = {}
    for role, email, name, password in DEMO_PEOPLE:
        user = db.session.scalar(select(User).where(User.username == role))
        if user is None:
            user = user_service.create_user(
                email, role, password, role=role, display_name=name
            )
            db.session.flush()
            report.created.append(f"user {role}")
        people[role] = user
        report.logins.append((role, email, role, password))
    return people


def _seed_articles() -> list[tuple[dict, str]]:
    """Return the CAR-T feature and the sample posts, as front matter and body."""
    articles = [read_front_matter(DEMO_DIR / "car-t-article.md")]
    articles += [read_front_matter(p) for p in sorted((DEMO_DIR / "posts").glob("*.md"))]
    return articles


def _ensure_posts(
    sections: dict[str, Category],
    people: dict[str, User],
    report: SeedReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Publish every demo article that is not there yet, with its own cover."""
    articles = _seed_articles()
    spec = {item["slug"]: item for item in _section_spec()}
    now = utcnow()
    for index, (meta, body) in enumerate(articles, start=1):
        slug = slugs.slugify(meta["title"])
        exists = db.session.scalar(select(Post.id).where(Post.slug == slug))
        if exists is None:
            cover, cover_alt = _cover(slug, spec[meta["category"]], people["admin"], report)
            draft = desk.PostDraft(
                title=meta["title"],
                body=markdown_to_html(body),
                excerpt=meta.get("excerpt", ""),
                category_id=sections[meta["category"]].id,
                tags=list(meta.get("tags", [])),
                slug=slug,
                featured=bool(meta.get("featured", False)),
                cover_media_id=cover.id,
                cover_alt=cover_alt,
            )
            # The demo's stories were written when they went out, not today.
            published_at = now - timedelta(days=meta.get("days_ago", 0), hours=index)
            desk.file_post(
                draft,
                people[meta.get("author", "editor")],
                status=PostStatus.PUBLISHED,
                published_at=published_at,
                written_at=published_at,
            )
            report.created.append(f"post {meta['title']}")
        if progress:
            progress(index, len(articles))


def _ensure_pages(people: dict[str, User], report: SeedReport) -> None:
    """Publish the demo's pages (About…) that are not there yet, at their own addresses."""
    for path in sorted((DEMO_DIR / "pages").glob("*.md")):
        meta, body = read_front_matter(path)
        slug = meta.get("slug") or slugs.slugify(meta["title"])
        if db.session.scalar(select(Post.id).where(Post.slug == slug)) is not None:
            continue
        draft = desk.PostDraft(title=meta["title"], body=markdown_to_html(body), slug=slug)
        desk.file_post(draft, people["admin"], status=PostStatus.PUBLISHED, kind=PostKind.PAGE)
        report.created.append(f"page {meta['title']}")


def seed_demo(progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Create the demo magazine in one transaction; running it again creates nothing new.

    The covers' files are written as they are drawn: if the transaction fails, they go too.
    """
    report = SeedReport()
    try:
        _seed(report, progress)
    except BaseException:
        media_service.storage().delete(report.cover_files)
        raise
    return report


@unit_of_work()
def _seed(report: SeedReport, progress: Callable[[int, int], None] | None) -> None:
    """Everything the demo holds, in one unit of work."""
    user_service.ensure_roles()
    people = _ensure_people(report)
    sections = _ensure_sections(report, people["admin"])
    _ensure_posts(sections, people, report, progress)
    _ensure_pages(people, report)
