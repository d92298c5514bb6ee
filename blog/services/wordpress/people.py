"""Importing people: WordPress authors become author accounts, commenters reader accounts.

Authors are found again by their WordPress login (User.wp_login), else matched
by email address, else created without a password (flagged to set one). Each
distinct commenter email address gets one reader account; commenters who left
no address get one account per name at a placeholder address.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ...extensions import db
from ...models import Permission, Role, User
from .. import slugs
from .. import users as user_service
from .markup import plain
from .records import WxrAuthor, WxrComment

if TYPE_CHECKING:
    from .context import ImportContext

# Placeholder addresses for people whose export carries no usable email address.
AUTHOR_EMAIL_DOMAIN = "imported.invalid"
COMMENTER_EMAIL_DOMAIN = "commenters.imported.invalid"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9_.-]+")
_NOT_LOGIN = re.compile(r"[^\w .@-]+")  # what WordPress allows in a login


def _username_base(text: str) -> str:
    """A username-shaped version of a login or name."""
    name = _NOT_USERNAME.sub("-", slugs.slugify(text, 40, ascii_only=True) or text or "")
    name = name.strip("-.")[:40].strip("-.")
    if len(name) < 3:
        name = f"wp-{name or 'user'}"
    return name


def valid_email(email: str) -> str | None:
    """The address normalised, or None when it cannot be an email address."""
    email = user_service.normalise_email(email)
    if email and len(email) <= 254 and _EMAIL.match(email):
        return email
    return None


def _free_username(base: str) -> str:
    """base, or base-2, base-3 … so that nobody has it yet."""
    candidate, n = base, 1
    while db.session.scalar(
        select(User.id).where(func.lower(User.username) == candidate.lower())
    ):
        n += 1
        suffix = f"-{n}"
        candidate = base[: 40 - len(suffix)] + suffix
    return candidate


def _free_email(email: str | None) -> str | None:
    """The address when nobody has it yet, else None."""
    if email is None:
        return None
    if db.session.scalar(select(User.id).where(User.email == email)):
        return None
    return email


def _placeholder_email(name: str, domain: str) -> str:
    """A unique address that can never receive mail, for someone who left none."""
    base = slugs.slugify(name, 60, ascii_only=True) or "anonymous"
    candidate, n = f"{base}@{domain}", 1
    while db.session.scalar(select(User.id).where(User.email == candidate)):
        n += 1
        candidate = f"{base}-{n}@{domain}"
    return candidate


def _declared_login(context: ImportContext, login: str) -> str:
    """The export's own spelling of a login (stray characters in dc:creator happen)."""
    if login in context.scan.authors:
        return login
    tidy = _NOT_LOGIN.sub("", login).strip()
    if tidy in context.scan.authors:
        context.report.notes.append(f"the author {login!r} was read as {tidy!r}")
        return tidy
    return login


def author_for(context: ImportContext, login: str, writer: bool = True) -> User:
    """The account for a WordPress user's login, matched or created: as an author, or as a
    reader for someone who only commented (writer False)."""
    login = (login or "").strip()[:60] or "wordpress"
    if login in context.people:
        return context.people[login]
    declared = _declared_login(context, login)
    if declared != login:
        context.people[login] = author_for(context, declared, writer)
        return context.people[login]
    user = db.session.scalar(select(User).where(User.wp_login == login))
    info = context.scan.authors.get(login) or WxrAuthor(login=login)
    email = valid_email(info.email)
    if user is None and email:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.wp_login is None:
            user.wp_login = login
            context.report.notes.append(
                f"WordPress author {login!r} matched the existing account {user.username} "
                "by email address"
            )
            if not user.role.has(Permission.WRITE):
                context.report.notes.append(
                    f"{user.username} is a {user.role.name}: their imported posts are "
                    "theirs, but they cannot edit them until given the author role"
                )
        elif user is not None:
            user = None  # that address belongs to another WordPress login
    if user is None:
        email = _free_email(email) or _placeholder_email(login, AUTHOR_EMAIL_DOMAIN)
        user = user_service.create_user(
            email,
            _free_username(_username_base(login)),
            None,
            role="author" if writer else "reader",
            display_name=info.display_name or login,
        )
        user.wp_login = login
        db.session.flush()
        context.report.created["author" if writer else "commenter"] += 1
        if email.endswith(AUTHOR_EMAIL_DOMAIN):
            context.report.notes.append(
                f"{'author' if writer else 'commenter'} {user.username} has no usable email "
                "address in the export: "
                f"given {email}; change it before they can set a password"
            )
    context.people[login] = user
    return user


def _registered_login(context: ImportContext, comment: WxrComment, email: str | None) -> str:
    """The WordPress login of a commenter who is one of the export's users, or ''.

    Their wp:comment_user_id names them (WordPress lists only its post authors, so an
    address of one of them serves too); a guest's is 0.
    """
    if comment.user_id and comment.user_id in context.author_logins:
        return context.author_logins[comment.user_id]
    if email and email in context.author_emails:
        return context.author_emails[email]
    return ""


def commenter_for(context: ImportContext, comment: WxrComment) -> User:
    """The account for a comment's author: a user of the export (an author, or a reader
    who commented with an account), else a guest's, by email or name."""
    name = " ".join(plain(comment.author).split())[:80] or "Anonymous"
    email = valid_email(comment.email)
    login = _registered_login(context, comment, email)
    if login:
        return author_for(context, login, writer=login in context.scan.creators)
    key = email or f"name:{name.lower()}"
    if key in context.commenters:
        return context.known.row(User, context.commenters[key])
    if email is None:
        base = slugs.slugify(name, 60, ascii_only=True) or "anonymous"
        email = f"{base}@{COMMENTER_EMAIL_DOMAIN}"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = user_service.create_user(
            email,
            _free_username(_username_base(name)),
            None,
            role="reader",
            display_name=name,
        )
        db.session.flush()
        context.report.created["commenter"] += 1
    context.commenters[key] = user.id
    context.known.held[(User, user.id)] = user
    return user


def uploader_for(context: ImportContext, login: str) -> User | None:
    """Someone who may upload, to own an imported image: its author, else an admin."""
    author = author_for(context, login)
    if author.can(Permission.UPLOAD):
        return author
    return db.session.scalar(
        select(User)
        .join(User.role)
        .where(Role.permissions.op("&")(int(Permission.UPLOAD)) != 0)
        .where(User.suspended_at.is_(None))
        .order_by(Role.rank.desc(), User.id)
        .limit(1)
    )

