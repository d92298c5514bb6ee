"""The pages of the work behind the page are valid HTML: jobs, the newsletter, subscribers,
webhooks, the account's mail choices and the pages the links in mail open."""

from __future__ import annotations

from blog.extensions import db
from blog.models import Subscriber, SubscriberStatus, utcnow
from blog.services import jobs, newsletter, notifications, publishing, unit_of_work, webhooks

from .conftest import Auth


def test_the_queue_newsletter_webhook_and_mail_link_pages_are_valid_html(
    app, make, tmp_path, run_jobs
):
    from .test_html_valid import html_errors

    admin = make.user("admin", username="boss")
    health = make.section("Health", slug="health")
    post = make.post(section=health, title="Sleep & the night shift")
    reader = make.user("reader", username="rita")
    subscriber = Subscriber(
        email="sub@example.com", status=SubscriberStatus.ACTIVE, all_sections=True,
        confirmed_at=utcnow(), bounce_note="",
    )
    db.session.add(subscriber)
    db.session.commit()
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    try:
        hook = webhooks.create_webhook(admin, "http://127.0.0.1:9/hook", "CRM", ["post.updated"])
        newsletter.send_post(admin, post.id)
        publishing.unpublish(admin, make.post(section=health, title="Gone"))
        with unit_of_work():
            jobs.enqueue("webhooks.deliver", delivery_id="no-such-delivery")
        webhooks.send_test(admin, hook)
        run_jobs()  # the ping fails (nothing listens on port 9): a log with an error
    finally:
        app.config["WEBHOOKS_ALLOW_PRIVATE"] = False

    client = app.test_client()
    assert Auth(client).login("boss").status_code == 302
    pages = {
        url: client.get(url).get_data(as_text=True)
        for url in (
            "/admin/jobs",
            "/admin/jobs?status=done",
            "/admin/newsletter",
            "/admin/subscribers",
            "/admin/webhooks",
            f"/admin/webhooks/{hook.id}",
            f"/admin/webhooks/{hook.id}/edit",
            f"/admin/webhooks/{hook.id}/secret",
            f"/admin/webhooks/{hook.id}/delete",
            "/admin/webhooks/new",
            "/account",
        )
    }
    guest = app.test_client()
    links = {
        "newsletter unsubscribe": newsletter.unsubscribe_url(subscriber),
        "newsletter confirm": newsletter.confirm_url(subscriber, None),
        "reply unsubscribe": notifications.unsubscribe_url(reader, "replies"),
    }
    for name, link in links.items():
        answer = guest.get(link.removeprefix("http://localhost"))
        assert answer.status_code == 200, name
        pages[name] = answer.get_data(as_text=True)
    assert all("<main" in html for html in pages.values())
    errors = html_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
