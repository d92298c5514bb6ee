"""Accounts: registration, sign-in, passwords, roles and people."""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import (
    DEFAULT_ROLE,
    ROLE_PERMISSIONS,
    Category,
    Permission,
    Role,
    User,
    UserSession,
    utcnow,
)
from . import Forbidden, NotFound, ServiceError, audit, sessions, unit_of_work

USERNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{1,38}[A-Za-z0-9_]$")
# A fixed hash to check against when no account matches, so both answers take as long.
_DUMMY_HASH_CACHE: dict[str, str] = {}


def ensure_roles() -> dict[str, Role]:
    """Create or update the four roles so their permissions match the code."""
    roles = {role.name: role for role in db.session.scalars(select(Role))}
    for rank, (name, perms) in enumerate(ROLE_PERMISSIONS.items()):
        role = roles.get(name)
        if role is None:
            role = Role(name=name)
            db.session.add(role)
            roles[name] = role
        role.permissions = int(perms)
        role.rank = rank
    db.session.flush()
    return roles


def get_role(name: str) -> Role:
    """Return the role called name, creating the roles if needed."""
    if name not in ROLE_PERMISSIONS:
        raise ServiceError(
            f"Unknown role {name!r}; choose one of {', '.join(ROLE_PERMISSIONS)}.", "role"
        )
    return ensure_roles()[name]


def hash_password(password: str) -> str:
    """Hash a password with the configured modern scheme."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
COMMON_PASSWORD_REFUSED = "That password is on a list of commonly used passwords; choose another."
PASSWORD_IS_NAME_REFUSED = "Your password must not be your username or email address."


@functools.cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords shipped in blog/data, lower-cased, read once per process."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password_rules(password: str, username: str = "", email: str = "") -> None:
    """Refuse passwords that are too short, too long, common, or the person's own name."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise ServiceError(f"Use a password of at least {minimum} characters.", "password")
    if len(password) > 200:
        raise ServiceError("Use a password of at most 200 characters.", "password")
    folded = password.strip().lower()
    if folded in {(username or "").strip().lower(), normalise_email(email)} - {""}:
        raise ServiceError(PASSWORD_IS_NAME_REFUSED, "password")
    if folded in common_passwords():
        raise ServiceError(COMMON_PASSWORD_REFUSED, "password")


def normalise_email(email: str) -> str:
    """Return the email address in the form it is stored."""
    return (email or "").strip().lower()


def find_by_login(identifier: str) -> User | None:
    """Return the user whose email address or username is identifier."""
    ident = (identifier or "").strip()
    if not ident:
        return None
    return db.session.scalar(
        select(User).where(
            or_(User.email == normalise_email(ident), func.lower(User.username) == ident.lower())
        )
    )


def _validate_identity(email: str, username: str) -> None:
    """Check that an email address and username are well formed and free."""
    if not USERNAME_RE.match(username or ""):
        raise ServiceError(
            "A username is 3 to 40 letters, digits, dots, dashes or underscores.", "username"
        )
    if "@" not in email or len(email) > 254:
        raise ServiceError("Enter a valid email address.", "email")
    taken = db.session.scalar(
        select(User).where(or_(User.email == email, func.lower(User.username) == username.lower()))
    )
    if taken is not None:
        field = "email" if taken.email == email else "username"
        raise ServiceError(
            f"That {field.replace('email', 'email address')} is already taken.", field
        )


@unit_of_work()
def create_user(
    email: str,
    username: str,
    password: str | None,
    role: str = DEFAULT_ROLE,
    display_name: str = "",
) -> User:
    """Create an account; a None password leaves it waiting for a reset.

    One unit of work: a caller inside its own unit (the WordPress import, the
    demo seed) commits it with the rest.
    """
    email = normalise_email(email)
    username = (username or "").strip()
    _validate_identity(email, username)
    if password is not None:
        check_password_rules(password, username, email)
    user = User(
        email=email,
        username=username,
        display_name=(display_name or "").strip()[:80],
        role=get_role(role),
        password_hash=hash_password(password) if password is not None else None,
        must_set_password=password is None,
    )
    with unit_of_work():
        db.session.add(user)
    return user


def register_reader(email: str, username: str, password: str) -> User:
    """Open a reader account from the registration form."""
    return create_user(email, username, password, role=DEFAULT_ROLE)


def _dummy_hash() -> str:
    """Return a hash to spend time on when no account matches."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASH_CACHE:
        _DUMMY_HASH_CACHE[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY_HASH_CACHE[method]


class AccountSuspended(ServiceError):
    """The right password for a suspended account: the person is told, nobody else is."""


SUSPENDED_MESSAGE = (
    "Your account is suspended, so you cannot sign in. "
    "If you think this is a mistake, write to the magazine's editors."
)


def authenticate(identifier: str, password: str) -> User | None:
    """Return the user when the login and password match an active account.

    Unknown logins and wrong passwords return None, after the same amount of
    hashing work. The right password for a suspended account raises
    AccountSuspended: only someone who knows the password learns of the suspension.
    """
    user = find_by_login(identifier)
    stored = user.password_hash if user is not None and user.password_hash else None
    ok = check_password_hash(stored or _dummy_hash(), password or "")
    if user is None or stored is None or not ok:
        return None
    if not user.is_active:
        raise AccountSuspended(SUSPENDED_MESSAGE)
    with unit_of_work():
        user.last_login_at = utcnow()
    return user


MAX_LINKS = 5
MAX_LINK_LENGTH = 300


def profile_links(raw: str) -> list[str]:
    """The addresses from a profile's links box (one a line), or ServiceError saying why not.

    Only https addresses of a named host are kept: no javascript:, data: or plain http.
    """
    links = [line.strip() for line in (raw or "").splitlines() if line.strip()]
    if len(links) > MAX_LINKS:
        raise ServiceError(f"Give {MAX_LINKS} links or fewer.", "links")
    for link in links:
        shown = link if len(link) <= 60 else link[:59] + "…"
        if len(link) > MAX_LINK_LENGTH:
            raise ServiceError(
                f"Keep each link to {MAX_LINK_LENGTH} characters or fewer: “{shown}” is longer.",
                "links",
            )
        try:
            parts = urlsplit(link)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if (
            parts is None
            or parts.scheme.lower() != "https"
            or not host
            or "@" in parts.netloc
            or any(ch.isspace() or ord(ch) < 32 for ch in link)
        ):
            raise ServiceError(
                f"A link must be a whole https:// address, like https://example.org/me: "
                f"“{shown}” is not.",
                "links",
            )
    return list(dict.fromkeys(links))


@unit_of_work()
def update_profile(user: User, display_name: str, bio: str, links: str | None = None) -> User:
    """Save the public profile a person shows readers (links None: keep them)."""
    if links is not None:
        user.links = "\n".join(profile_links(links))
    user.display_name = (display_name or "").strip()[:80]
    user.bio = (bio or "").strip()[:2000]
    return user


def _password_matches(user: User, password: str) -> bool:
    """Return True when password is this person's current password."""
    return bool(user.password_hash) and check_password_hash(user.password_hash, password or "")


@unit_of_work()
def change_password(
    user: User, current: str, new: str, keep: UserSession | None = None
) -> None:
    """Change a password after checking the current one; every session but keep ends."""
    if not _password_matches(user, current):
        raise ServiceError("Your current password is not right.", "current_password")
    set_password(user, new, keep)
    if keep is not None:
        sessions.mark_authenticated(keep)


@unit_of_work()
def set_password(user: User, new: str, keep: UserSession | None = None) -> None:
    """Store a new password and end every session but keep."""
    check_password_rules(new, user.username, user.email)
    user.password_hash = hash_password(new)
    user.must_set_password = False
    sessions.revoke_all(user, keep=keep)


def confirm_password(user: User, session: UserSession | None, password: str) -> None:
    """Re-authenticate: check the password and note the time on this session."""
    if session is None or not user.is_active or not _password_matches(user, password):
        raise ServiceError("That password is not right.", "password")
    sessions.mark_authenticated(session)


@unit_of_work()
def assign_sections(user: User, sections: list[Category]) -> None:
    """Give an editor the sections they run (none means all)."""
    user.sections = list(sections)


def list_people() -> list[User]:
    """Return everyone with an account, most powerful roles first."""
    return list(
        db.session.scalars(select(User).join(User.role).order_by(Role.rank.desc(), User.username))
    )


# --- Managing people (the admin's People pages) ---------------------------------

PEOPLE_PER_PAGE = 25
PEOPLE_STATES = ("active", "suspended")
MAX_REASON = 500


def _check_manager(actor: User) -> None:
    """Refuse anyone who may not manage people."""
    if actor is None or not actor.can(Permission.MANAGE_USERS):
        raise Forbidden("You may not manage people.")


def _administers(role: Role) -> bool:
    """Return True when a role runs the whole site."""
    return role.has(Permission.ADMINISTER)


def _other_active_admins(user: User) -> int:
    """Count the active admins other than user, locking their rows until the commit.

    The lock (PostgreSQL; SQLite writes one at a time anyway) stops two admins
    from suspending or demoting each other at the same moment.
    """
    admin_roles = [role.id for role in db.session.scalars(select(Role)) if _administers(role)]
    active_admins = db.session.scalars(
        select(User.id)
        .where(User.role_id.in_(admin_roles), User.suspended_at.is_(None))
        .order_by(User.id)
        .with_for_update()
    ).all()
    return len([admin_id for admin_id in active_admins if admin_id != user.id])


def _refuse_losing_last_admin(user: User) -> None:
    """Refuse a change that would leave the site without an active admin."""
    if _administers(user.role) and user.is_active and _other_active_admins(user) == 0:
        raise ServiceError(
            f"{user.username} is the only active admin, and the site needs one. "
            "Make someone else an admin first."
        )


def get_person(user_id: int) -> User:
    """Return the person with this id, with their sections, or raise NotFound."""
    user = db.session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.sections))
    )
    if user is None:
        raise NotFound("No such person.")
    return user


def search_people(
    query: str = "",
    role: str = "",
    page: int = 1,
    state: str = "",
    per_page: int = PEOPLE_PER_PAGE,
) -> Pagination:
    """Return a page of people matching a name or address, a role and a state.

    An unknown role or state filters nothing; a page past the end raises NotFound.
    """
    stmt = select(User).join(User.role).options(selectinload(User.sections))
    text = " ".join((query or "").split())[:100]
    if text:
        stmt = stmt.where(
            or_(
                User.username.icontains(text, autoescape=True),
                User.display_name.icontains(text, autoescape=True),
                User.email.icontains(text, autoescape=True),
            )
        )
    if role in ROLE_PERMISSIONS:
        stmt = stmt.where(Role.name == role)
    if state in PEOPLE_STATES:
        suspended = User.suspended_at.is_not(None)
        stmt = stmt.where(suspended if state == "suspended" else ~suspended)
    stmt = stmt.order_by(Role.rank.desc(), func.lower(User.username))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if page < 1 or (page > 1 and page > pagination.pages):
        raise NotFound("No such page.")
    return pagination


@unit_of_work()
def change_role(actor: User, user: User, role_name: str) -> User:
    """Give a person another role; nobody demotes themselves or the last admin.

    The person's sessions end, so they sign in again under the new role.
    """
    _check_manager(actor)
    role = get_role(role_name)
    old = user.role
    if role.id == old.id:
        return user
    if not _administers(role):
        _refuse_losing_last_admin(user)
    if user.id == actor.id and role.rank < old.rank:
        raise ServiceError("You cannot demote yourself. Ask another admin.", "role")
    user.role = role
    sessions.revoke_all(user)
    audit.record(actor, "user.role", user, f"{old.name} → {role.name}")
    return user


@unit_of_work()
def set_sections(actor: User, user: User, categories: list[Category]) -> User:
    """Choose the sections an editor runs (none means every section)."""
    _check_manager(actor)
    if not user.role.has(Permission.REVIEW) or _administers(user.role):
        raise ServiceError("Only editors have sections; admins run every section.", "sections")
    wanted = sorted({c.id: c for c in categories}.values(), key=lambda c: (c.position, c.name))
    before = [s.name for s in user.sections]
    after = [c.name for c in wanted]
    if before == after:
        return user
    user.sections = wanted
    audit.record(
        actor,
        "user.sections",
        user,
        f"{', '.join(before) or 'all sections'} → {', '.join(after) or 'all sections'}",
    )
    return user


@unit_of_work()
def suspend(actor: User, user: User, reason: str) -> User:
    """Suspend a person: they cannot sign in, their sessions end, their comments leave the site."""
    _check_manager(actor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("Give the reason for the suspension.", "reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"Keep the reason to {MAX_REASON} characters or fewer.", "reason")
    if not user.is_active:
        raise ServiceError(f"{user.username} is already suspended.")
    _refuse_losing_last_admin(user)
    if user.id == actor.id:
        raise ServiceError("You cannot suspend yourself.", "reason")
    user.suspended_at = utcnow()
    user.suspended_reason = reason
    sessions.revoke_all(user)
    audit.record(actor, "user.suspend", user, reason)
    return user


@unit_of_work()
def restore(actor: User, user: User) -> User:
    """Lift a suspension: the person may sign in again and their comments return."""
    _check_manager(actor)
    if user.is_active:
        raise ServiceError(f"{user.username} is not suspended.")
    reason = user.suspended_reason
    user.suspended_at = None
    user.suspended_reason = ""
    audit.record(actor, "user.restore", user, f"was suspended: {reason}" if reason else "")
    return user
