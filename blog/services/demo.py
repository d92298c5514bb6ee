"""The demo magazine: sections, people and articles for a first run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import markdown
import yaml
from sqlalchemy import select

from ..extensions import db
from ..models import Category, Post, PostKind, PostStatus, User, utcnow
from . import desk, slugs, unit_of_work
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


def _ensure_sections(report: SeedReport) -> dict[str, Category]:
    """Create the five sections from sections.yaml, in navigation order."""
    spec = yaml.safe_load((DEMO_DIR / "sections.yaml").read_text(encoding="utf-8"))
    sections = {c.slug: c for c in db.session.scalars(select(Category))}
    for position, item in enumerate(spec, start=1):
        if item["slug"] in sections:
            continue
        section = Category(
            name=item["name"],
            slug=item["slug"],
            description=item.get("description", ""),
            position=position,
        )
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
    """Publish every demo article that is not there yet."""
    articles = _seed_articles()
    now = utcnow()
    for index, (meta, body) in enumerate(articles, start=1):
        slug = slugs.slugify(meta["title"])
        exists = db.session.scalar(select(Post.id).where(Post.slug == slug))
        if exists is None:
            draft = desk.PostDraft(
                title=meta["title"],
                body=markdown_to_html(body),
                excerpt=meta.get("excerpt", ""),
                category_id=sections[meta["category"]].id,
                tags=list(meta.get("tags", [])),
                slug=slug,
                featured=bool(meta.get("featured", False)),
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


@unit_of_work()
def seed_demo(progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Create the demo magazine in one transaction; running it again creates nothing new."""
    report = SeedReport()
    user_service.ensure_roles()
    sections = _ensure_sections(report)
    people = _ensure_people(report)
    _ensure_posts(sections, people, report, progress)
    _ensure_pages(people, report)
    return report
