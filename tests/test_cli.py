"""The flask commands: create-user and seed-demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageStat
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Category, Media, Post, PostKind, PostStatus, Revision, Tag, User
from blog.services import demo_covers
from blog.services import media as media_service
from blog.services.users import authenticate

SEED = Path(__file__).resolve().parent.parent / "blog" / "demo" / "car-t-article.md"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_user_with_password(runner):
    result = runner.invoke(
        args=["create-user", "--email", "Ed@Example.com", "--username", "eddie", "--role", "editor",
              "--password", "a good long password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created editor eddie" in result.output
    user = db.session.scalar(select(User).where(User.username == "eddie"))
    assert user.email == "ed@example.com" and user.role.name == "editor"
    assert authenticate("eddie", "a good long password") is not None


def test_create_user_prompts_for_the_password(runner):
    result = runner.invoke(
        args=["create-user", "--email", "a@example.com", "--username", "asked"],
        input="prompted password\nprompted password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert authenticate("asked", "prompted password") is not None


@pytest.mark.parametrize(
    "args,message",
    [
        (["--username", "x1x"], "--email is required"),
        (["--email", "a@example.com"], "--username is required"),
        (["--email", "a@example.com", "--username", "abc", "--role", "wizard"], "Unknown role"),
        (["--email", "no-at-sign", "--username", "abc"], "valid email"),
        (["--email", "a@example.com", "--username", "a b"], "username"),
        (["--email", "a@example.com", "--username", "abc", "--password", "short"], "at least"),
    ],
)
def test_create_user_bad_arguments_exit_1_with_one_line(runner, args, message):
    if "--password" not in args:
        args = [*args, "--password", "a good long password"]
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert _count(User) == 0


def test_create_user_refuses_a_taken_username(runner, make):
    make.user("reader", username="taken")
    result = runner.invoke(
        args=["create-user", "--email", "new@example.com", "--username", "TAKEN",
              "--password", "a good long password"]
    )
    assert result.exit_code == 1 and "already taken" in result.output


def test_seed_demo_builds_the_magazine(runner, uploads):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    sections = db.session.scalars(select(Category).order_by(Category.position)).all()
    assert [s.slug for s in sections] == ["fashion", "business", "news", "storybook", "health"]
    assert all(s.description for s in sections)
    for section in sections:
        count = db.session.scalar(
            select(func.count()).select_from(Post).where(
                Post.category_id == section.id, Post.status == PostStatus.PUBLISHED
            )
        )
        assert count >= 3, section.slug
    for role in ("admin", "editor", "author", "reader"):
        user = db.session.scalar(select(User).where(User.username == role))
        assert user.role.name == role
        assert f"{role}@example.com" in result.output
    assert _count(Tag) > 5
    _assert_every_cover_drawn(sections, uploads)


def _assert_every_cover_drawn(sections: list[Category], uploads: Path) -> None:
    """Each section and article has a cover of its own, in its section's colour, described,
    in the media library at every size with WebP beside each."""
    articles = db.session.scalars(select(Post).where(Post.kind == PostKind.POST)).all()
    covered = [*sections, *articles]
    assert len({item.cover_media_id for item in covered}) == len(covered)  # none shared
    colours = {s.id: s.cover_alt.split(" in ", 1)[1].split(" for ")[0] for s in sections}
    for item in covered:
        section = item if isinstance(item, Category) else item.category
        media = db.session.get(Media, item.cover_media_id)
        assert media is not None, item
        assert item.cover_image == media_service.cover_address(media)
        assert item.cover_alt == media.alt
        assert colours[section.id] in item.cover_alt and f"the {section.name} section" in (
            item.cover_alt
        )
        assert (media.width, media.height, media.widths) == (1600, 900, [480, 960, 1600])
        files = media_service.file_names(media)
        assert {name.rsplit(".", 1)[1] for name in files} == {"jpg", "webp"}
        assert all((uploads / name).stat().st_size > 0 for name in files)
    assert {s.slug: colours[s.id] for s in sections} == {
        "fashion": "terracotta", "business": "deep teal", "news": "indigo",
        "storybook": "plum", "health": "sage green",
    }


def test_a_demo_cover_is_the_same_for_a_slug_and_differs_between_slugs():
    colour = demo_covers.Colour("indigo", "#3b4a8f")
    first = demo_covers.draw_cover("harbour-news", colour)
    assert first.size == (demo_covers.COVER_WIDTH, demo_covers.COVER_HEIGHT)
    assert first.tobytes() == demo_covers.draw_cover("harbour-news", colour).tobytes()
    assert first.tobytes() != demo_covers.draw_cover("market-news", colour).tobytes()
    # Drawn in the colour: its average leans to indigo's blue.
    red, green, blue = ImageStat.Stat(first).mean
    assert blue > red and blue > green


def test_a_failed_seed_leaves_no_cover_files_behind(app, uploads, monkeypatch):
    from blog.services import demo

    def fail(*_args):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(demo, "_ensure_posts", fail)  # after the sections' covers are drawn
    with pytest.raises(RuntimeError):
        demo.seed_demo()
    assert _count(Media) == _count(Category) == 0
    assert not [path for path in uploads.rglob("*") if path.is_file()]


def test_seed_demo_has_the_car_t_article_as_written(runner):
    runner.invoke(args=["seed-demo"])
    post = db.session.scalar(select(Post).where(Post.title.like("Revolutionizing Cancer%")))
    assert post.category.slug == "health"
    assert post.title == "Revolutionizing Cancer Treatment: The Promise of CAR-T Cell Therapy"
    assert {t.slug for t in post.tags} == {"cancer", "immunotherapy", "car-t"}
    source = SEED.read_text(encoding="utf-8").split("---", 2)[2].strip()
    paragraphs = [p.strip() for p in source.split("\n\n") if p.strip()]
    assert post.body == "\n".join(f"<p>{p}</p>" for p in paragraphs)


def test_seed_demo_twice_creates_nothing_new(runner):
    first = runner.invoke(args=["seed-demo"])
    models = (User, Category, Post, Tag, Revision, Media)
    counts = {m.__name__: _count(m) for m in models}
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == second.exit_code == 0
    assert {m.__name__: _count(m) for m in models} == counts
    assert "nothing new was created" in second.output
    assert "admin@example.com" in second.output  # logins are printed every time


# -- check-deploy ------------------------------------------------------------------------

SAFE_ENV = {
    "SECRET_KEY": "5b0e7c1d9f2a4e8b6c3d1f0a7e9b2c4d6f8a1e3c5b7d9f0e",
    "SITE_URL": "https://mycirclestory.example",
    "DATABASE_URL": "postgresql://circle@db.internal/circle",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "WEB_CONCURRENCY": "4",
    "MAIL_SERVER": "smtp.internal",
    "MAIL_USE_TLS": "true",
    "MAIL_USERNAME": "circle",
}


def _check_deploy(monkeypatch, tmp_path, env=None, overrides=None, name="production"):
    """Run `flask check-deploy` against an app built from env (+ overrides)."""
    from blog import create_app

    for key, value in {**SAFE_ENV, **(env or {})}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    site = create_app({"CIRCLE_ENV": name, "UPLOAD_DIR": str(tmp_path), **(overrides or {})})
    with site.app_context():  # the tests' own app context would win otherwise
        return site.test_cli_runner().invoke(args=["check-deploy"])


def test_check_deploy_passes_a_safe_production_config(monkeypatch, tmp_path):
    result = _check_deploy(monkeypatch, tmp_path)
    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output


@pytest.mark.parametrize(
    "env,overrides,expected",
    [
        ({}, {"DEBUG": True}, "debug mode is on"),
        ({}, {"SECRET_KEY": "testing-secret-key-not-for-production"}, "published test or demo"),
        ({}, {"SECRET_KEY": "0123456789abcdef"}, "published test or demo"),
        ({}, {"SECRET_KEY": "k3Y9xq2LmP0wRt7vB4nZ"}, "shorter than 32"),
        ({"DATABASE_URL": None}, {}, "the database is SQLite"),
        ({}, {"SESSION_COOKIE_SECURE": False}, "session cookie is not Secure"),
        ({}, {"REMEMBER_COOKIE_SECURE": False}, "remember-me cookie is not Secure"),
        ({}, {"SERVER_NAME_FOR_LINKS": None}, "SITE_URL is not set"),
        ({"SITE_URL": "http://mycirclestory.example"}, {}, "SITE_URL is not an https address"),
        ({}, {"ALLOWED_HOSTS": []}, "ALLOWED_HOSTS is empty"),
        ({}, {"ALLOWED_HOSTS": ["*"]}, "ALLOWED_HOSTS allows any host"),
        ({"REDIS_URL": None}, {}, "4 workers without REDIS_URL"),
        ({}, {"RATELIMIT_ENABLED": False}, "rate limits are off"),
        ({"MAIL_SERVER": None}, {}, "MAIL_SERVER is not set"),
        ({"MAIL_USE_TLS": "false"}, {}, "mail password would be sent in clear"),
    ],
)
def test_check_deploy_lists_each_unsafe_setting(monkeypatch, tmp_path, env, overrides, expected):
    result = _check_deploy(monkeypatch, tmp_path, env, overrides)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    problems = [line for line in lines if line.startswith(("ERROR", "WARNING"))]
    assert len(problems) == 1 and expected in problems[0], result.output


def test_check_deploy_allows_one_worker_without_redis(monkeypatch, tmp_path):
    result = _check_deploy(monkeypatch, tmp_path, {"REDIS_URL": None, "WEB_CONCURRENCY": "1"})
    assert result.exit_code == 0, result.output


def test_check_deploy_fails_outside_production(monkeypatch, tmp_path, runner):
    result = runner.invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert "CIRCLE_ENV is 'testing'" in result.output
    assert "published test or demo key" in result.output
    assert "TESTING is on" in result.output
