"""Security headers on every response, and style nonces for the pages that need one."""

from __future__ import annotations

import secrets

from flask import Flask, g

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in POLICY.items())


def csp_nonce() -> str:
    """Return this response's style nonce, creating it on first use.

    The rich-text editor adds one <style> element of its own; only pages that
    load it ask for a nonce, and only those responses allow it.
    """
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _policy() -> str:
    """The policy for this response, with the style nonce if one was handed out."""
    nonce = g.get("csp_nonce")
    if not nonce:
        return CONTENT_SECURITY_POLICY
    # The editor page: Trix adds one <style> and previews uploads from blob: URLs.
    policy = dict(
        POLICY,
        **{"style-src": f"'self' 'nonce-{nonce}'", "img-src": POLICY["img-src"] + " blob:"},
    )
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def register_response_headers(app: Flask) -> None:
    """Add the security headers to every response."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _policy())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
