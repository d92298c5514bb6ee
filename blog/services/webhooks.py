"""Webhooks: other systems told what happens in the magazine, signed, retried and logged.

Admins register an address for the events it wants. When one happens, a listener writes
a delivery (the exact JSON body) for each hook that chose the event and enqueues the
`webhooks.deliver` job in the same transaction, so nothing leaves for a change that rolled
back. The job POSTs the body, signed with the hook's secret:

  X-Circle-Signature: sha256=<hex HMAC-SHA256 of "{X-Circle-Timestamp}.{body}">

A 2xx answer is a delivery; any other answer or a network error is recorded on the
delivery (committed) and raised, so the queue tries again later (RETRIES times, DELAY
seconds first, BACKOFF times longer each time). A delivered one is never sent again.

Addresses on private, loopback, link-local and other internal networks are refused when a
hook is saved and again before every try (a name may point elsewhere by then), unless
WEBHOOKS_ALLOW_PRIVATE is on. The request goes to the very address that was checked, so a
second DNS answer cannot swap it; HTTPS certificates are still checked against the name.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..hosts import post_url
from ..models import DeliveryStatus, Permission, User, Webhook, WebhookDelivery, utcnow
from ..validators import url_problem
from . import Forbidden, NotFound, ServiceError, audit, events, sealed, unit_of_work
from .clock import iso
from .jobs import enqueue, job, periodic

# The events a hook may choose, as the form names them.
EVENTS: dict[str, str] = {
    "post.published": "A post is published",
    "post.updated": "A published post is changed",
    "post.unpublished": "A post is taken off the site (unpublished or trashed)",
    "comment.approved": "A comment appears under a post",
    "newsletter.sent": "A newsletter is sent",
}
PING = "ping"  # the "Send test" button's event; every hook gets it

RETRIES = 5  # tries after the first, 10 s, 20 s, 40 s, 80 s and 160 s later
DELAY = 10
BACKOFF = 2.0
MAX_ATTEMPTS = RETRIES + 1
KEEP_PER_HOOK = 100  # the delivery log keeps each hook's newest this many…
KEEP_FOR = timedelta(days=30)  # …and none older than this
KEEP_TRIES = 20  # tries noted on one delivery (an admin's retries may add more)
READ_AT_MOST = 64 * 1024  # of a receiver's answer; the rest is not read
USER_AGENT = "Circle-Webhooks/1"
REFUSED_ADDRESS = (
    "{host} leads to {address}, a private, loopback or other internal address. "
    "Webhooks are sent to public addresses only."
)


class AddressRefused(ServiceError):
    """The hook's address is not one the site will send to (kept on the form's URL field)."""

    def __init__(self, message: str):
        super().__init__(message, "url")


class AddressUnknown(ServiceError):
    """The hook's host name has no address (now: the name server may answer later)."""

    def __init__(self, message: str):
        super().__init__(message, "url")


class DeliveryFailed(Exception):
    """A try did not reach the receiver or was not accepted: the queue tries again."""


# --- Addresses ------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """Where a delivery goes: the URL's parts and the checked addresses of its host."""

    scheme: str
    host: str
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]


def _resolve(host: str, port: int) -> list[str]:
    """Every address host has (an IP literal is its own), in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in found))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_internal(address: str) -> bool:
    """Whether an IP address is private, loopback, link-local, multicast, reserved or
    unspecified (anything but a public, globally routed address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        # An IPv4 address carried inside an IPv6 one is judged as itself.
        if ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        else:
            ip = ip.ipv4_mapped or ip.sixtofour or ip
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def destination(url: str, allow_private: bool | None = None) -> Destination:
    """Check url and resolve its host once; raise AddressRefused or AddressUnknown."""
    if allow_private is None:
        allow_private = bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"))
    url = (url or "").strip()
    if not url:
        raise AddressRefused("Type the address that receives the events.")
    problem = url_problem(url)
    if problem or url.startswith("/"):
        raise AddressRefused("Give a full address starting with https:// or http://.")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("Leave the user name and password out of the address.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as error:
        raise AddressRefused("The port in the address is not a number from 1 to 65535.") from error
    host = parts.hostname or ""
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise AddressUnknown(f"No address was found for {host}.") from error
    if not addresses:
        raise AddressUnknown(f"No address was found for {host}.")
    if not allow_private:
        for address in addresses:
            if is_internal(address):
                raise AddressRefused(REFUSED_ADDRESS.format(host=host, address=address))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme.lower(), host, port, target, tuple(addresses))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the checked addresses of its host, never a fresh look-up."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._addresses = destination.addresses

    def _open(self) -> socket.socket:
        """A socket to the first of the checked addresses that answers."""
        error: OSError | None = None
        for address in self._addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as refused:
                error = refused
        raise error or OSError("no address to connect to")

    def connect(self) -> None:
        """Connect to a checked address (the Host header still names the host)."""
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS, the certificate checked against the host name."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        """Connect to a checked address, then speak TLS to the host name."""
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


def _post(where: Destination, headers: dict[str, str], body: bytes, timeout: float) -> int:
    """POST body to where (no redirect followed); return the HTTP status."""
    kind = _PinnedHTTPSConnection if where.scheme == "https" else _PinnedHTTPConnection
    connection = kind(where, timeout)
    try:
        connection.request("POST", where.target, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(READ_AT_MOST)
        return answer.status
    finally:
        connection.close()


# The hook's secret is sealed at rest (blog/services/sealed.py): a backup alone does not hold it.
_SEAL = (b"circle-webhooks", b"signing secret")


def secret_of(hook: Webhook) -> str:
    """The hook's signing secret, unsealed ("" when SECRET_KEY changed since it was made)."""
    return sealed.unseal(hook.secret, *_SEAL) or ""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Circle-Signature value: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


# --- Deliveries -----------------------------------------------------------------------


def _queue_for(hook: Webhook, event: str, data: dict) -> WebhookDelivery:
    """Write a delivery of event to hook and hand it to the queue (the caller commits)."""
    delivery_id = uuid.uuid4().hex
    payload = {"event": event, "id": delivery_id, "created_at": iso(utcnow()), "data": data}
    delivery = WebhookDelivery(
        id=delivery_id,
        webhook=hook,
        event=event,
        body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=DeliveryStatus.PENDING,
        attempts=0,
        tries=[],
        last_error="",
    )
    db.session.add(delivery)
    db.session.flush()
    enqueue("webhooks.deliver", delivery_id=delivery_id)
    return delivery


def _announce(event: str, data: dict) -> int:
    """Queue event for every hook that is on and chose it; return how many."""
    hooks = [
        hook
        for hook in db.session.scalars(select(Webhook).where(Webhook.active.is_(True)))
        if hook.wants(event)
    ]
    for hook in hooks:
        _queue_for(hook, event, data)
    return len(hooks)


def post_data(post) -> dict:
    """What a hook is told of a post: its public facts, never a draft's text."""
    if post.id is None:
        db.session.flush()
    section = post.category
    return {
        "id": post.id,
        "title": post.title,
        "slug": post.slug,
        "url": post_url(post) if post.is_page or section is not None else None,
        "section": (
            {"id": section.id, "slug": section.slug, "name": section.name} if section else None
        ),
        "status": str(post.status),
        "published_at": iso(post.published_at),
        "authors": [{"username": person.username, "name": person.name} for person in post.authors],
    }


def comment_data(comment) -> dict:
    """What a hook is told of a comment: where it is and whose name it shows (no address)."""
    if comment.id is None:
        db.session.flush()
    post = comment.post
    address = post_url(post)
    return {
        "id": comment.id,
        "post": {"id": post.id, "title": post.title, "url": address},
        "url": f"{address}#comment-{comment.id}",
        "author": comment.author.name,
        "created_at": iso(comment.created_at),
    }


@events.on("post.published")
def _post_published(post, **_details) -> None:
    """Tell the hooks a post went live."""
    _announce("post.published", post_data(post))


@events.on("post.updated")
def _post_updated(post, **_details) -> None:
    """Tell the hooks a live post changed."""
    _announce("post.updated", post_data(post))


@events.on("post.unpublished")
def _post_unpublished(post, **_details) -> None:
    """Tell the hooks a post left the site."""
    _announce("post.unpublished", post_data(post))


@events.on("comment.approved")
def _comment_approved(comment, **_details) -> None:
    """Tell the hooks a comment appeared."""
    _announce("comment.approved", comment_data(comment))


@events.on("newsletter.sent")
def _newsletter_sent(issue=None, **_details) -> None:
    """Tell the hooks a newsletter went out (its id and subject only)."""
    subject = getattr(issue, "subject", None)
    _announce(
        "newsletter.sent",
        {"id": getattr(issue, "id", None), "subject": None if subject is None else str(subject)},
    )


def _note_try(delivery: WebhookDelivery, http_status: int | None, ms: int | None, error: str):
    """Write one try's outcome on the delivery."""
    delivery.attempts += 1
    delivery.tries = [
        *(delivery.tries or []),
        {"at": iso(utcnow()), "http_status": http_status, "ms": ms, "error": error[:500]},
    ][-KEEP_TRIES:]
    delivery.last_http_status = http_status
    delivery.response_ms = ms
    delivery.last_error = error[:2000]
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.PENDING


def _give_up(delivery: WebhookDelivery, reason: str) -> None:
    """Mark a delivery failed without sending anything (trying again would not help)."""
    _note_try(delivery, None, None, reason)
    delivery.status = DeliveryStatus.FAILED
    db.session.commit()


@job("webhooks.deliver", retries=RETRIES, delay=DELAY, backoff=BACKOFF)
def deliver(delivery_id: str) -> None:
    """Send one delivery (a worker runs this); raise to have the queue try again later."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status == DeliveryStatus.DELIVERED:
        return  # pruned or its hook deleted; or received on an earlier run of this job
    hook = delivery.webhook
    if not hook.active:
        _give_up(delivery, "The webhook is turned off: nothing was sent.")
        return
    try:
        where = destination(hook.url)
    except AddressRefused as refused:
        _give_up(delivery, f"Not sent: {refused.message}")
        return
    except AddressUnknown as unknown:
        _note_try(delivery, None, None, unknown.message)
        db.session.commit()
        raise DeliveryFailed(unknown.message) from None
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Circle-Event": delivery.event,
        "X-Circle-Delivery": delivery.id,
        "X-Circle-Timestamp": timestamp,
        "X-Circle-Signature": signature(secret_of(hook), timestamp, body),
    }
    started = time.monotonic()
    try:
        status: int | None = _post(where, headers, body, current_app.config["WEBHOOK_TIMEOUT"])
        error = "" if 200 <= status < 300 else f"The receiver answered HTTP {status}."
    except (OSError, http.client.HTTPException) as failure:
        status = None
        error = f"Could not reach the receiver: {type(failure).__name__}: {failure}"
    _note_try(delivery, status, round((time.monotonic() - started) * 1000), error)
    db.session.commit()
    if error:
        raise DeliveryFailed(error)


@periodic("webhooks.prune", minute="43")
def prune() -> int:
    """Keep the delivery log bounded: each hook's newest KEEP_PER_HOOK, none older than
    KEEP_FOR (hourly); return how many went."""
    removed = 0
    with unit_of_work():
        removed += db.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.created_at < utcnow() - KEEP_FOR)
        ).rowcount
        for hook_id in list(db.session.scalars(select(Webhook.id))):
            oldest_kept = db.session.scalar(
                select(WebhookDelivery.created_at)
                .where(WebhookDelivery.webhook_id == hook_id)
                .order_by(WebhookDelivery.created_at.desc())
                .offset(KEEP_PER_HOOK - 1)
                .limit(1)
            )
            if oldest_kept is not None:
                removed += db.session.execute(
                    delete(WebhookDelivery).where(
                        WebhookDelivery.webhook_id == hook_id,
                        WebhookDelivery.created_at < oldest_kept,
                    )
                ).rowcount
    return removed


# --- The admins' pages ----------------------------------------------------------------


def _require_admin(actor: User) -> None:
    """Only admins see and change the webhooks (their secrets included)."""
    if not actor.can(Permission.ADMINISTER):
        raise Forbidden("Only admins may manage webhooks.")


def listing(actor: User) -> list[Webhook]:
    """Every hook, newest first."""
    _require_admin(actor)
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id.desc())))


def get_webhook(actor: User, hook_id: int) -> Webhook:
    """The hook with this id, or NotFound."""
    _require_admin(actor)
    hook = db.session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound("No such webhook.")
    return hook


def deliveries(actor: User, hook: Webhook, limit: int = KEEP_PER_HOOK) -> list[WebhookDelivery]:
    """A hook's delivery log, newest first."""
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(limit)
        )
    )


def _checked(
    url: str, description: str, chosen: list[str], address_too: bool = True
) -> tuple[str, str, list[str]]:
    """The form's values as stored, or the refusal to show on the form."""
    url = (url or "").strip()
    if address_too:
        destination(url)  # refuses an internal or unknown address, on the URL field
    wanted = [event for event in EVENTS if event in set(chosen or [])]
    if not wanted:
        raise ServiceError("Choose at least one event to send.", "events")
    return url, " ".join((description or "").split())[:200], wanted


@unit_of_work()
def create_webhook(
    actor: User, url: str, description: str, chosen: list[str], active: bool = True
) -> Webhook:
    """Register an address for the chosen events, with a new secret."""
    _require_admin(actor)
    url, description, wanted = _checked(url, description, chosen)
    hook = Webhook(
        url=url,
        description=description,
        events=wanted,
        secret=sealed.seal(secrets.token_hex(32), *_SEAL),
        active=bool(active),
        created_by_id=actor.id,
    )
    db.session.add(hook)
    db.session.flush()
    audit.record(actor, "webhook.create", hook, details=", ".join(wanted))
    return hook


@unit_of_work()
def update_webhook(
    actor: User, hook: Webhook, url: str, description: str, chosen: list[str], active: bool
) -> Webhook:
    """Change a hook's address, description, events or whether it is on."""
    _require_admin(actor)
    # A hook turned off at its old address is not checked again: it sends nothing.
    address_too = bool(active) or (url or "").strip() != hook.url
    url, description, wanted = _checked(url, description, chosen, address_too)
    changes = []
    if url != hook.url:
        changes.append(f"address was {hook.url}")
    if wanted != list(hook.events or []):
        changes.append(f"events: {', '.join(wanted)}")
    if bool(active) != hook.active:
        changes.append("turned on" if active else "turned off")
    if description != hook.description:
        changes.append("description")
    hook.url, hook.description, hook.events, hook.active = url, description, wanted, bool(active)
    audit.record(actor, "webhook.update", hook, details="; ".join(changes) or "nothing changed")
    return hook


@unit_of_work()
def delete_webhook(actor: User, hook: Webhook) -> None:
    """Delete a hook and its delivery log (deliveries waiting in the queue are dropped)."""
    _require_admin(actor)
    audit.record(actor, "webhook.delete", hook, details=", ".join(hook.events or []))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    db.session.delete(hook)


@unit_of_work()
def send_test(actor: User, hook: Webhook) -> WebhookDelivery:
    """Queue a `ping` delivery to hook (the "Send test" button)."""
    _require_admin(actor)
    if not hook.active:
        raise ServiceError("Turn the webhook on before sending a test.")
    return _queue_for(
        hook,
        PING,
        {"webhook": hook.id, "message": "A test from the site's webhook page."},
    )
