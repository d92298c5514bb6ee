"""Webhooks: a real HTTP receiver gets signed JSON for the events its hook chose, retries
end in exactly one delivery, and private addresses are refused when saved and when sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from blog import queue
from blog.extensions import db
from blog.models import (
    AuditEntry,
    DeliveryStatus,
    Job,
    PostStatus,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from blog.services import ServiceError, audit, events, jobs, publishing, unit_of_work
from blog.services import comments as comment_service
from blog.services import webhooks as webhook_service

from .conftest import Auth, csrf_from
from .workers import start_worker, stop_worker, wait_until

EVERY_EVENT = list(webhook_service.EVENTS)


class Receiver:
    """An HTTP server on 127.0.0.1 that notes each request and answers as told."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.requests: list[SimpleNamespace] = []
        self.answers: list[int] = []  # the next answers' statuses; 200 when none is left
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    SimpleNamespace(path=self.path, headers=dict(self.headers), body=body)
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url("/moved"))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        """The receiver's address for path."""
        return f"{scheme}://{host}:{self.server.server_port}{path}"

    def at(self, path: str) -> list[SimpleNamespace]:
        """The requests sent to path."""
        return [r for r in self.requests if r.path == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def allow_private(app):
    """WEBHOOKS_ALLOW_PRIVATE on, so the receiver on 127.0.0.1 may be used."""
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False


@pytest.fixture
def names(monkeypatch):
    """Host names the tests make up, resolved as the test says (others as usual)."""
    table: dict[str, str | list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        answer = table.get(host)
        if isinstance(answer, list):  # one answer per look-up, the last one kept
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        return real(answer or host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def admin(make):
    return make.user("admin", username="ada", display_name="Ada Admin")


def _as(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _deliveries(hook_id=None) -> list[WebhookDelivery]:
    db.session.expire_all()
    query = select(WebhookDelivery).order_by(WebhookDelivery.created_at)
    if hook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == hook_id)
    return list(db.session.scalars(query))


def _delivery_job_tries() -> list[int]:
    """How many times each delivery job ran (other jobs, e.g. the author's mail, aside)."""
    rows = db.session.scalars(select(Job).where(Job.name == "webhooks.deliver"))
    return [row.attempts for row in rows]


def _draft(make, **kwargs):
    return make.post(status=PostStatus.DRAFT, **kwargs)


def test_a_delivery_is_signed_json_whose_signature_verifies(
    app, make, admin, receiver, allow_private, run_jobs
):
    hook = webhook_service.create_webhook(admin, receiver.url(), "CRM", ["post.published"])
    author = make.user("author", username="wren", display_name="Wren Writer")
    section = make.section("Health", slug="health")
    post = _draft(make, author=author, section=section, title="Night shifts")
    before = int(time.time())
    publishing.publish_now(admin, post)
    run_jobs()
    assert _delivery_job_tries() == [1]

    (request,) = receiver.requests
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Circle-Webhooks/1"
    assert headers["X-Circle-Event"] == "post.published"
    timestamp = headers["X-Circle-Timestamp"]
    assert before - 1 <= int(timestamp) <= int(time.time()) + 1
    # The receiver's check: HMAC-SHA256 of "{timestamp}.{raw body}" with the hook's secret.
    secret = webhook_service.secret_of(hook).encode()
    expected = hmac.new(secret, f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Circle-Signature"], f"sha256={expected}")
    wrong = hmac.new(b"another secret", f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert headers["X-Circle-Signature"] != f"sha256={wrong.hexdigest()}"

    payload = json.loads(request.body)
    assert payload["event"] == "post.published"
    assert payload["id"] == headers["X-Circle-Delivery"]
    assert payload["created_at"].endswith("+00:00")
    data = payload["data"]
    assert data["id"] == post.id and data["title"] == "Night shifts"
    assert data["url"] == f"http://localhost/health/{post.slug}"
    assert data["section"] == {"id": section.id, "slug": "health", "name": "Health"}
    assert data["status"] == "published" and data["published_at"]
    assert data["authors"] == [{"username": "wren", "name": "Wren Writer"}]
    assert "@" not in request.body.decode() and "body" not in data  # no addresses, no text

    (delivery,) = _deliveries()
    assert delivery.id == payload["id"]
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1 and delivery.last_http_status == 200
    assert delivery.response_ms is not None


def test_a_receiver_failing_three_times_gets_the_event_once(
    app, make, admin, receiver, allow_private, run_jobs
):
    hook = webhook_service.create_webhook(admin, receiver.url(), "", ["post.published"])
    receiver.answers = [500, 500, 500]
    publishing.publish_now(admin, _draft(make))
    run_jobs()

    assert len(receiver.requests) == 4
    assert len({r.headers["X-Circle-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    (delivery,) = _deliveries()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 4
    assert [t["http_status"] for t in delivery.tries] == [500, 500, 500, 200]
    assert delivery.tries[0]["error"] == "The receiver answered HTTP 500."
    assert delivery.last_error == ""

    page = _as(app, "ada").get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "Delivered" in page and "<summary>4</summary>" in page
    assert page.count("The receiver answered HTTP 500.") == 3

    # The same delivery's job running again sends nothing more.
    with unit_of_work():
        jobs.enqueue("webhooks.deliver", delivery_id=delivery.id)
    run_jobs()
    assert len(receiver.requests) == 4
    assert _deliveries()[0].attempts == 4


def test_a_receiver_that_never_accepts_ends_failed_after_the_last_try(
    app, make, admin, receiver, allow_private, run_jobs
):
    hook = webhook_service.create_webhook(admin, receiver.url(), "", ["post.published"])
    receiver.answers = [503] * 20
    publishing.publish_now(admin, _draft(make))
    run_jobs()
    assert len(receiver.requests) == webhook_service.MAX_ATTEMPTS
    (delivery,) = _deliveries()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_http_status == 503
    page = _as(app, "ada").get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "Failed" in page and "The receiver answered HTTP 503." in page and " ms" in page


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://192.168.1.1",
        "http://172.16.4.2/hook",
        "http://127.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a00:5]/",
        "http://[2002:c0a8:101::1]/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
    ],
)
def test_a_private_address_is_refused_when_registered(app, admin, url):
    with pytest.raises(ServiceError) as refused:
        webhook_service.create_webhook(admin, url, "", ["post.published"])
    assert refused.value.field == "url"
    assert "private, loopback or other internal address" in refused.value.message
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_a_name_resolving_to_loopback_is_refused_on_the_form(app, admin, names):
    names["hooks.example.test"] = "127.0.0.1"
    client = _as(app, "ada")
    token = csrf_from(client.get("/admin/webhooks/new").get_data(as_text=True))
    response = client.post(
        "/admin/webhooks/new",
        data={
            "url": "https://hooks.example.test/in",
            "events": ["post.published"],
            "active": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (
        "hooks.example.test leads to 127.0.0.1, a private, loopback or other internal address"
        in page
    )
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/in", "javascript:alert(1)", "/hooks", "https://u:p@93.184.216.34/"]
)
def test_only_full_http_addresses_are_taken(app, admin, url):
    with pytest.raises(ServiceError) as refused:
        webhook_service.create_webhook(admin, url, "", ["post.published"])
    assert refused.value.field == "url"


def test_a_public_address_is_taken_and_private_ones_when_allowed(app, admin, allow_private):
    public = webhook_service.create_webhook(admin, "https://93.184.216.34/in", "", EVERY_EVENT)
    assert public.url == "https://93.184.216.34/in" and len(webhook_service.secret_of(public)) == 64
    assert webhook_service.secret_of(public) not in public.secret  # sealed at rest
    local = webhook_service.create_webhook(admin, "http://127.0.0.1:9/in", "", ["post.updated"])
    assert local.events == ["post.updated"]


def test_a_hook_stored_with_a_private_address_is_refused_at_delivery(
    app, make, admin, receiver, allow_private, run_jobs
):
    hook = webhook_service.create_webhook(admin, receiver.url(), "", ["post.published"])
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    publishing.publish_now(admin, _draft(make))
    run_jobs()
    assert _delivery_job_tries() == [1]  # no retry: the address will not change by waiting
    assert receiver.requests == []
    (delivery,) = _deliveries()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("Not sent: 127.0.0.1 leads to 127.0.0.1, a private")
    page = _as(app, "ada").get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "Failed" in page and "Not sent: 127.0.0.1 leads to 127.0.0.1" in page


def test_a_hook_stored_with_a_private_address_can_be_turned_off_but_not_on(
    app, admin, allow_private
):
    hook = webhook_service.create_webhook(admin, "http://10.0.0.5/hook", "", ["post.published"])
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    webhook_service.update_webhook(admin, hook, hook.url, "old", ["post.published"], False)
    assert hook.active is False
    with pytest.raises(ServiceError, match="private, loopback"):
        webhook_service.update_webhook(admin, hook, hook.url, "old", ["post.published"], True)


def test_a_redirect_is_not_followed(app, make, admin, receiver, allow_private, run_jobs):
    webhook_service.create_webhook(admin, receiver.url(), "", ["post.published"])
    receiver.answers = [302]
    publishing.publish_now(admin, _draft(make))
    run_jobs()
    # Tried again later at its own address, never at the one the answer pointed to.
    assert [r.path for r in receiver.requests] == ["/hook", "/hook"]
    (delivery,) = _deliveries()
    assert [t["http_status"] for t in delivery.tries] == [302, 200]


def test_a_name_that_points_inside_later_is_refused_at_delivery(
    app, make, admin, receiver, names, run_jobs
):
    port = receiver.server.server_port
    names["rebind.example.test"] = "93.184.216.34"
    webhook_service.create_webhook(
        admin, f"http://rebind.example.test:{port}/hook", "", ["post.published"]
    )
    names["rebind.example.test"] = "127.0.0.1"  # the name now points at this machine
    publishing.publish_now(admin, _draft(make))
    run_jobs()
    assert receiver.requests == []
    (delivery,) = _deliveries()
    assert delivery.status == DeliveryStatus.FAILED
    assert "rebind.example.test leads to 127.0.0.1" in delivery.last_error


def test_the_request_goes_to_the_address_that_was_checked(
    app, make, admin, receiver, allow_private, names, run_jobs
):
    # Saving and the delivery's check each look the name up; a third look-up (which a
    # connection by name would make) gets an address where nothing listens.
    names["shop.example.test"] = ["127.0.0.1", "127.0.0.1", "127.0.0.2"]
    port = receiver.server.server_port
    webhook_service.create_webhook(
        admin, f"http://shop.example.test:{port}/in", "", ["post.published"]
    )
    publishing.publish_now(admin, _draft(make))
    run_jobs()
    (request,) = receiver.requests
    assert request.headers["Host"] == f"shop.example.test:{port}"


def test_each_hook_gets_only_the_events_it_chose(
    app, make, admin, receiver, allow_private, run_jobs
):
    posts = webhook_service.create_webhook(admin, receiver.url("/posts"), "", ["post.published"])
    talk = webhook_service.create_webhook(admin, receiver.url("/talk"), "", ["comment.approved"])
    off = webhook_service.create_webhook(admin, receiver.url("/off"), "", EVERY_EVENT, False)
    reader = make.user("reader", username="rita", display_name="Rita Reader")
    post = _draft(make, title="Tides")
    publishing.publish_now(admin, post)
    comment = comment_service.add_comment(reader, post, "Lovely tides.", ip="203.0.113.9")
    assert comment.status == "pending"  # a new reader's first comment is held…
    comment_service.moderate(admin, comment, "approve")  # …and approved by a moderator
    publishing.unpublish(admin, post)
    run_jobs()

    assert [r.headers["X-Circle-Event"] for r in receiver.at("/posts")] == ["post.published"]
    (said,) = receiver.at("/talk")
    assert said.headers["X-Circle-Event"] == "comment.approved"
    data = json.loads(said.body)["data"]
    assert data["id"] == comment.id and data["author"] == "Rita Reader"
    assert data["post"]["id"] == post.id
    assert data["url"].endswith(f"#comment-{comment.id}")
    assert "203.0.113.9" not in said.body.decode() and "rita@example.com" not in said.body.decode()
    assert receiver.at("/off") == []
    assert {d.webhook_id for d in _deliveries()} == {posts.id, talk.id}
    assert off.active is False


def test_publishing_at_the_desk_updates_and_unpublishing_are_delivered(
    app, make, admin, receiver, allow_private, run_jobs
):
    webhook_service.create_webhook(admin, receiver.url(), "", EVERY_EVENT)
    section = make.section("Health", slug="health")
    make.user("editor", username="hedda")
    post = _draft(make, section=section, title="Sleep")
    client = _as(app, "hedda")

    def edit_page():
        page = client.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
        return csrf_from(page), page.split('name="version" type="hidden" value="')[1].split('"')[0]

    token, version = edit_page()
    response = client.post(
        f"/editor/posts/{post.id}/publish", data={"csrf_token": token, "version": version}
    )
    assert response.status_code == 302
    token, version = edit_page()
    client.post(
        f"/editor/posts/{post.id}/unpublish",
        data={"csrf_token": token, "version": version, "confirmed": "1"},
    )
    run_jobs()
    sent = [json.loads(r.body) for r in receiver.requests]
    assert [s["event"] for s in sent] == ["post.published", "post.unpublished"]
    assert sent[0]["data"]["title"] == "Sleep" and sent[0]["data"]["status"] == "published"
    assert sent[1]["data"]["status"] == "draft"


def test_a_newsletter_sent_tells_its_id_and_subject(
    app, admin, receiver, allow_private, run_jobs
):
    webhook_service.create_webhook(admin, receiver.url(), "", ["newsletter.sent"])
    issue = SimpleNamespace(id=7, subject="The week in Health", recipients=["x@example.com"])
    with unit_of_work():
        events.emit("newsletter.sent", issue=issue)
    run_jobs()
    (request,) = receiver.requests
    assert json.loads(request.body)["data"] == {"id": 7, "subject": "The week in Health"}


def test_send_test_button_needs_an_admin_and_a_csrf_token(
    app, make, admin, receiver, allow_private, run_jobs
):
    hook = webhook_service.create_webhook(admin, receiver.url(), "", ["post.published"])
    make.user("editor", username="eddie")
    editor = _as(app, "eddie")
    assert editor.get("/admin/webhooks").status_code == 403
    assert editor.get(f"/admin/webhooks/{hook.id}").status_code == 403
    editor_token = csrf_from(editor.get("/account").get_data(as_text=True))
    response = editor.post(f"/admin/webhooks/{hook.id}/test", data={"csrf_token": editor_token})
    assert response.status_code == 403

    client = _as(app, "ada")
    assert client.post(f"/admin/webhooks/{hook.id}/test").status_code == 400  # no token
    assert _deliveries() == []
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "Send test" in page
    response = client.post(
        f"/admin/webhooks/{hook.id}/test", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    run_jobs()
    (request,) = receiver.requests
    assert request.headers["X-Circle-Event"] == "ping"
    assert json.loads(request.body)["data"]["webhook"] == hook.id
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "<code>ping</code>" in page and "Delivered" in page and ">200<" in page


def test_admin_adds_changes_shows_the_secret_and_deletes_after_asking(app, admin):
    client = _as(app, "ada")
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "No webhooks yet." in listing and 'aria-current="page">Webhooks<' in listing
    form = client.get("/admin/webhooks/new").get_data(as_text=True)
    assert 'type="checkbox"' in form and "post.published" in form and "newsletter.sent" in form
    response = client.post(
        "/admin/webhooks/new",
        data={
            "url": "https://93.184.216.34/circle",
            "description": "Search index",
            "events": ["post.published", "post.unpublished"],
            "active": "y",
            "csrf_token": csrf_from(form),
        },
    )
    assert response.status_code == 302
    hook = db.session.scalar(select(Webhook))
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "https://93.184.216.34/circle" in listing and "Search index" in listing

    shown = client.get(f"/admin/webhooks/{hook.id}/secret")
    assert webhook_service.secret_of(hook) in shown.get_data(as_text=True)
    assert "no-store" in shown.headers["Cache-Control"]
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert webhook_service.secret_of(hook) not in page

    edit = client.get(f"/admin/webhooks/{hook.id}/edit").get_data(as_text=True)
    response = client.post(
        f"/admin/webhooks/{hook.id}/edit",
        data={
            "url": "https://93.184.216.34/circle",
            "description": "Search index",
            "events": ["comment.approved"],
            "csrf_token": csrf_from(edit),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert hook.events == ["comment.approved"] and hook.active is False

    question = client.get(f"/admin/webhooks/{hook.id}/delete")
    assert question.status_code == 200
    assert "Delete the webhook to https://93.184.216.34/circle?" in question.get_data(as_text=True)
    assert db.session.get(Webhook, hook.id) is not None  # asking deleted nothing
    response = client.post(
        f"/admin/webhooks/{hook.id}/delete",
        data={"csrf_token": csrf_from(question.get_data(as_text=True))},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0

    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    said = audit.sentences_for(entries)
    assert [said[e.id] for e in entries] == [
        "Ada Admin added the webhook “https://93.184.216.34/circle” for "
        "post.published, post.unpublished.",
        "Ada Admin changed the webhook “https://93.184.216.34/circle”: "
        "events: comment.approved; turned off.",
        "Ada Admin deleted the webhook “https://93.184.216.34/circle”.",
    ]


def test_a_form_without_events_says_so(app, admin):
    client = _as(app, "ada")
    form = client.get("/admin/webhooks/new").get_data(as_text=True)
    response = client.post(
        "/admin/webhooks/new",
        data={"url": "https://93.184.216.34/x", "active": "y", "csrf_token": csrf_from(form)},
    )
    assert response.status_code == 400
    assert "Choose at least one event to send." in response.get_data(as_text=True)


def test_the_delivery_log_keeps_each_hooks_newest_hundred_for_thirty_days(app, admin):
    hook = webhook_service.create_webhook(admin, "https://93.184.216.34/x", "", EVERY_EVENT)
    now = utcnow()
    for n in range(110):
        db.session.add(
            WebhookDelivery(
                webhook_id=hook.id, event="ping", body="{}", status=DeliveryStatus.DELIVERED,
                attempts=1, tries=[], last_error="", created_at=now - timedelta(minutes=n),
            )
        )
    db.session.add(
        WebhookDelivery(
            webhook_id=hook.id, event="ping", body="{}", status=DeliveryStatus.DELIVERED,
            attempts=1, tries=[], last_error="", created_at=now - timedelta(days=31),
        )
    )
    db.session.commit()
    queue.run_periodic(app, "webhooks.prune")
    kept = _deliveries(hook.id)
    assert len(kept) == 100
    assert min(d.created_at for d in kept) > now - timedelta(minutes=100)


def _certificate(name: str, key, issuer_name, issuer_key, ca: bool):
    """A certificate for name, signed by issuer_key."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = utcnow()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS receiver whose certificate names hooks.example.test, from a CA the
    site's TLS checks trust for this test (SSL_CERT_FILE)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Circle test CA", ca_key, None, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate("hooks.example.test", key, ca.subject, ca_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    server = Receiver(tls=context)
    yield server
    server.stop()


def test_https_is_sent_to_the_checked_address_with_the_certificate_checked_by_name(
    app, make, admin, tls_receiver, allow_private, names, run_jobs
):
    names["hooks.example.test"] = "127.0.0.1"
    names["other.example.test"] = "127.0.0.1"  # the same server, a name its certificate lacks
    good = webhook_service.create_webhook(
        admin, tls_receiver.url("/good", "hooks.example.test", "https"), "", ["post.published"]
    )
    bad = webhook_service.create_webhook(
        admin, tls_receiver.url("/bad", "other.example.test", "https"), "", ["post.published"]
    )
    publishing.publish_now(admin, _draft(make))
    run_jobs()
    assert [r.path for r in tls_receiver.requests] == ["/good"]
    assert _deliveries(good.id)[0].status == DeliveryStatus.DELIVERED
    refused = _deliveries(bad.id)[0]
    assert refused.status == DeliveryStatus.FAILED and refused.last_http_status is None
    assert "certificate" in refused.last_error.lower()


def test_a_worker_process_delivers_a_published_post(app, make, admin, receiver, allow_private):
    webhook_service.create_webhook(admin, receiver.url(), "", ["post.published"])
    publishing.publish_now(admin, _draft(make, title="From the worker"))
    worker = start_worker(app, WEBHOOKS_ALLOW_PRIVATE=True)
    try:
        assert wait_until(lambda: len(receiver.requests) == 1, timeout=30)
    finally:
        log = stop_worker(worker)
    assert "Traceback" not in log, log
    assert json.loads(receiver.requests[0].body)["data"]["title"] == "From the worker"
    assert _deliveries()[0].status == DeliveryStatus.DELIVERED
