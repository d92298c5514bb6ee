"""The flask commands: create-user and seed-demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Category, Post, PostStatus, Revision, Tag, User
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


def test_seed_demo_builds_the_magazine(runner):
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
    counts = {m.__name__: _count(m) for m in (User, Category, Post, Tag, Revision)}
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == second.exit_code == 0
    assert {m.__name__: _count(m) for m in (User, Category, Post, Tag, Revision)} == counts
    assert "nothing new was created" in second.output
    assert "admin@example.com" in second.output  # logins are printed every time
