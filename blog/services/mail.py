"""Outgoing mail, the one module that speaks SMTP (Python's smtplib and email packages).

Every message has a plain-text part and an HTML part, both rendered from templates
(templates/mail/<name>.txt and .html). With no MAIL_SERVER the message is written to the
log instead (development); tests keep what was sent in the app's outbox as well.

`Postman` keeps one SMTP connection for many messages (a newsletter batch) and can make
a message's delivery depend on a database write: `deliver(message, decide=...)` sends
the whole message but the final end-of-data line, calls decide(), and only if it
returns True (the row saying "sent" is committed) ends the data, so the server takes
the message. A worker killed before that commit leaves the server with an unfinished
message it throws away, and the row still "pending": sent again later, never twice.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app, has_request_context, render_template

from ..hosts import links_root

_LEADING_DOT = re.compile(rb"(?m)^\.")


# Headers a mail program reads as one address: never folded into RFC 2047 encoded words.
_ONE_LINE = {"list-unsubscribe", "list-unsubscribe-post"}


class OneLineHeader(str):
    """A header value written on one line whatever its length.

    The email package folds a word longer than a line (a long unsubscribe address) into
    RFC 2047 encoded words, which mail programs do not read as an address; RFC 5322
    allows lines of up to 998 characters, so the value is written whole.
    """

    def __new__(cls, name: str, value: str):
        header = super().__new__(cls, " ".join(value.split()))
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        """The header as written in the message (the email package calls this)."""
        return f"{self.name}: {self}{policy.linesep}"


class MailRefused(Exception):
    """The SMTP server refused a recipient or a message for good (a hard bounce)."""

    def __init__(self, address: str, code: int, reply: str):
        super().__init__(f"{address}: {code} {reply}")
        self.address = address
        self.code = code
        self.reply = reply


def compose(
    to: str,
    subject: str,
    template: str,
    headers: dict[str, str] | None = None,
    **context,
) -> EmailMessage:
    """A message to one address, its text and HTML parts from templates/mail/<template>."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = " ".join(subject.split())
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    for name, value in (headers or {}).items():
        message[name] = OneLineHeader(name, value) if name.lower() in _ONE_LINE else value
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    with rendering_context():
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def rendering_context():
    """A request context on the site's address when there is none (a job in a worker):
    the templates' context (the site's name, icons) builds links with url_for. A job
    composing many messages holds one around them all (what it reads is read once)."""
    if has_request_context():
        return contextlib.nullcontext()
    return current_app.test_request_context("/", base_url=links_root())


def send(message: EmailMessage) -> None:
    """Send one message now (open a connection, send, close)."""
    with Postman() as postman:
        postman.deliver(message)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a short plain-text message (the password reset) now, not through the queue."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    message.set_content(body)
    send(message)


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that let a mail program unsubscribe in one click (RFC 2369 and 8058).

    url must work without signing in: a POST to it with the body
    "List-Unsubscribe=One-Click" unsubscribes at once (and must not need a CSRF token).
    """
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def address_of(name: str, email: str) -> str:
    """"Name <address>" for a To header, quoted as needed."""
    return formataddr((name, email))


def _sender_domain() -> str:
    """The domain of the sender's address, for Message-IDs."""
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return address.rpartition("@")[2] or "localhost"


def _envelope_address(address: str) -> str:
    """address with its domain in the DNS's ASCII form (पाठक@उदाहरण.भारत → पाठक@xn--...)."""
    local, at, domain = address.rpartition("@")
    try:
        return f"{local}{at}{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


class Postman:
    """One SMTP connection for many messages (or the log, when there is no server)."""

    def __init__(self):
        self.config = current_app.config
        self.logger = current_app.logger
        self.outbox = (
            current_app.extensions.setdefault("circle_outbox", []) if current_app.testing else None
        )
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Postman:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _drop(self) -> None:
        """Close the connection without finishing (an unfinished message is discarded)."""
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        """The open connection, opened and signed in on first use."""
        if self._smtp is None:
            host, port = self.config["MAIL_SERVER"], self.config["MAIL_PORT"]
            timeout = self.config.get("MAIL_TIMEOUT", 30)
            if self.config.get("MAIL_USE_SSL"):
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if self.config.get("MAIL_USE_TLS"):
                    smtp.ehlo()
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=ssl.create_default_context())
                    elif self.config.get("MAIL_USERNAME"):
                        smtp.close()
                        raise smtplib.SMTPException(
                            "The mail server offers no STARTTLS: the password is not sent in clear."
                        )
            # The end of data goes out as its own small write after the body: without
            # TCP_NODELAY, Nagle's algorithm holds it until the server's delayed ACK of
            # the body (tens of milliseconds per message).
            with contextlib.suppress(OSError, AttributeError):
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            if self.config.get("MAIL_USERNAME"):
                smtp.login(self.config["MAIL_USERNAME"], self.config.get("MAIL_PASSWORD") or "")
            self._smtp = smtp
        return self._smtp

    def deliver(self, message: EmailMessage, decide: Callable[[], bool] | None = None) -> bool:
        """Send message; with decide, only if decide() says so just before the end of data.

        Returns False when decide() said no (nothing was delivered). Raises MailRefused
        when the server refuses the recipient or the message for good, and
        smtplib/OSError errors when it could not be reached (worth trying again).
        """
        if not self.config.get("MAIL_SERVER"):
            return self._log(message, decide)
        recipient = _envelope_address(parseaddr(str(message["To"]))[1])
        sender = self.config.get("MAIL_ENVELOPE_FROM") or parseaddr(str(message["From"]))[1]
        smtp = self._connection()
        # A name in another script before the @ (读者@example.com) needs SMTPUTF8 (RFC 6531).
        utf8 = not (recipient + sender).isascii()
        if utf8 and not smtp.has_extn("smtputf8"):
            raise MailRefused(
                recipient, 553, "The mail server takes no address with letters outside ASCII."
            )
        data = message.as_bytes(policy=SMTP_POLICY.clone(utf8=True) if utf8 else SMTP_POLICY)
        try:
            code, reply = smtp.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"] if utf8 else [])
            if code != 250:
                smtp.rset()
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                if 500 <= code < 600:
                    raise MailRefused(recipient, code, reply.decode(errors="replace"))
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            body = _LEADING_DOT.sub(b"..", data)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body)
            if decide is not None and not decide():
                self._drop()  # the server never sees the end of data: no message
                return False
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            raise
        if 500 <= code < 600:
            raise MailRefused(recipient, code, reply.decode(errors="replace"))
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return True

    def _log(self, message: EmailMessage, decide: Callable[[], bool] | None) -> bool:
        """No mail server: write the message's text to the log (and the test outbox)."""
        if decide is not None and not decide():
            return False
        text = message.get_body(("plain",))
        body = text.get_content() if text is not None else ""
        html = message.get_body(("html",))
        self.logger.warning("Mail to %s: %s\n%s", message["To"], message["Subject"], body)
        if self.outbox is not None:
            self.outbox.append(
                {
                    "to": parseaddr(str(message["To"]))[1],
                    "subject": str(message["Subject"]),
                    "body": body,
                    "html": html.get_content() if html is not None else "",
                    "headers": {key: str(value) for key, value in message.items()},
                }
            )
        return True
