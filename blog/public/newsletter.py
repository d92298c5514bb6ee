"""The newsletter's reader pages: subscribe, confirm by the mailed link, unsubscribe.

The box on the home page and under every article is on pages everyone shares (the
page cache), so it carries no CSRF token: its POST is taken when the browser shows it
came from this site (signin.sent_from_this_site); otherwise the person gets this page's
own form, with a token, filled in, and presses Subscribe there. Links in mail only show
a page on GET (mail scanners open links); the button's POST does the change. A mail
program's one-click unsubscribe (RFC 8058) is a POST without a token or a session: the
signed link is the proof.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address

from ..extensions import csrf, limiter
from ..forms import ButtonForm, submitted
from ..headers import personal
from ..services import ServiceError, reading
from ..services import newsletter as newsletter_service
from ..signin import sent_from_this_site
from .newsletter_forms import SubscribeForm
from .views import bp


def _subscribe_form(with_token: bool = True) -> SubscribeForm:
    """The subscribe form with the sections to choose from."""
    form = SubscribeForm() if with_token else SubscribeForm(meta={"csrf": False})
    form.sections.choices = [(s.id, s.name) for s in reading.reader_sections()]
    return form


def _subscribe_page(form: SubscribeForm, status: int = 200, note: str | None = None):
    """The full subscribe page."""
    return render_template(
        "public/subscribe.html", form=form, sections=reading.reader_sections(), note=note
    ), status


@bp.route("/subscribe", methods=["GET", "POST"])
@csrf.exempt  # the shared pages' box has no token: see the module's docstring
@limiter.limit(
    lambda: current_app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
)
@personal
def subscribe():
    """The subscribe form; its POST mails a confirmation link (the same answer for all)."""
    with_token = request.method == "GET" or "csrf_token" in request.form
    form = _subscribe_form(with_token)
    if request.method == "POST" and not with_token and not sent_from_this_site():
        form = _subscribe_form()  # the same fields, filled in, now with a token
        return _subscribe_page(form, note="Check your address and press Subscribe to go on.")
    if request.method == "POST":
        chosen = form.sections.data
        if submitted(form, lambda: newsletter_service.subscribe(form.email.data, chosen)):
            return redirect(url_for("public.subscribe_sent"))
        return _subscribe_page(form, 400)
    return _subscribe_page(form)


@bp.route("/subscribe/sent")
@personal
def subscribe_sent():
    """The answer to every subscribe form: check your inbox."""
    return render_template("public/subscribe_sent.html")


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
@personal
def confirm_subscription(token: str):
    """GET: the button that confirms (scanners may open the link); POST: confirm."""
    form = ButtonForm()
    try:
        found = newsletter_service.confirmation_for(token[:1000])
    except ServiceError as error:
        return render_template("public/newsletter_link.html", problem=error.message), 400
    if form.validate_on_submit():
        subscriber = newsletter_service.confirm(token)
        return render_template("public/newsletter_confirm.html", done=subscriber, form=form)
    return render_template(
        "public/newsletter_confirm.html", form=form, sections=found.sections, done=None
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # one-click unsubscribe (RFC 8058) has no token; the page's button is checked below
@personal
def unsubscribe(token: str):
    """GET: a page with the button; POST: unsubscribe (the button, or a mail program's click)."""
    form = ButtonForm()
    try:
        subscriber = newsletter_service.subscriber_for_unsubscribe(token[:1000])
    except ServiceError as error:
        return render_template("public/newsletter_link.html", problem=error.message), 400
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    if one_click or form.validate_on_submit():
        newsletter_service.unsubscribe(token)
        return render_template("public/unsubscribe.html", form=form, done=True)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "public/unsubscribe.html", form=form, done=False, email=subscriber.email
    ), status
