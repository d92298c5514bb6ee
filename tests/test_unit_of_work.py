"""The unit-of-work helper: a use case commits once, or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Category
from blog.services import ServiceError, unit_of_work


def _names() -> list[str]:
    """Section names as the database has them, seen from a fresh transaction."""
    db.session.expire_all()
    return sorted(db.session.scalars(select(Category.name)))


def test_a_unit_commits_when_it_ends(app):
    with unit_of_work():
        db.session.add(Category(name="Health", slug="health"))
    db.session.rollback()  # nothing left to roll back: the unit committed
    assert _names() == ["Health"]


def test_a_refused_unit_keeps_nothing(app):
    with pytest.raises(ServiceError), unit_of_work():
        db.session.add(Category(name="Health", slug="health"))
        db.session.flush()
        raise ServiceError("refused")
    assert _names() == []


def test_an_inner_unit_joins_the_outer_one(app):
    with pytest.raises(ServiceError), unit_of_work():
        with unit_of_work():
            db.session.add(Category(name="Health", slug="health"))
        raise ServiceError("the outer use case refuses after the inner one ended")
    assert _names() == []


def test_the_unit_works_as_a_decorator(app):
    @unit_of_work()
    def add_section(name: str) -> None:
        db.session.add(Category(name=name, slug=name.lower()))

    add_section("News")
    add_section("Business")
    db.session.rollback()
    assert _names() == ["Business", "News"]
