"""The API answers as its OpenAPI document says: schemathesis against the app, in process.

Every operation of /api/v1/openapi.json is called with generated valid and invalid
requests over the demo magazine: with a token of the demo author, of the demo editor
(who may publish, so status changes succeed too), and with none. Every answer goes
through all of schemathesis' checks: no server error, documented status codes, content
types, headers and response bodies, invalid data refused, valid data accepted, and
authentication enforced where the document asks for it.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask.globals import _cv_app
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from blog.api.openapi import build_document
from blog.extensions import db
from blog.models import User
from blog.services import tokens as token_service
from blog.services.demo import seed_demo

# Valid-looking data the magazine's rules still refuse (a section that does not exist,
# a time in the past) is a 422, a change that does not say its version is a 428, and
# If-None-Match: * is a 304: all documented answers to well-formed requests.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "428", "429"]
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        "operations": [
            {
                "include-path": "/media",
                "checks": {
                    # A generated "file" is mostly random bytes, which the media library
                    # rightly refuses as not an image (400): no schema can say "a real picture".
                    "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]},
                    # A multipart form carries every value as text, so an "integer" alt text
                    # arrives as the digits, a fine alt text: it cannot be told apart.
                    "negative_data_rejection": {"enabled": False},
                },
            }
        ],
    }
)

BASE_URL = "http://localhost/api/v1"
# The document is built without an app; test_the_served_document_is_the_one_tested
# checks that /api/v1/openapi.json serves exactly this one.
schema = schemathesis.openapi.from_dict(build_document(), config=CONFIG)


class AppUnderTest:
    """A WSGI callable for the app of the running test, each request in its own app context.

    The tests hold an app context open; without this, requests would share its
    database session (see IsolatedClient in conftest.py). Schemathesis sends every
    request here, its probes too, so nothing goes over the network.
    """

    app = None

    def __call__(self, environ, start_response):
        """Run one request through the test's app."""
        assert self.app is not None, "the demo fixture sets the app"
        token = _cv_app.set(None)
        try:
            return list(self.app(environ, start_response))
        finally:
            _cv_app.reset(token)


APP_UNDER_TEST = AppUnderTest()
schema.app = APP_UNDER_TEST


@pytest.fixture
def demo(app):
    """The demo magazine, served to schemathesis."""
    seed_demo()
    APP_UNDER_TEST.app = app
    yield
    APP_UNDER_TEST.app = None


@pytest.fixture(params=["author", "editor"])
def token_headers(request, demo):
    """Headers for every call: a token of a demo writer, and plain bodies."""
    writer = db.session.scalar(select(User).where(User.username == request.param))
    _token, secret = token_service.create_token(writer, "schemathesis")
    # The in-process transport hands back bodies as sent; ask for them uncompressed.
    return {"Authorization": f"Bearer {secret}", "Accept-Encoding": "identity"}


@pytest.fixture
def generous_limits(app):
    """Rate limits high enough for generated traffic, restored afterwards."""
    saved = {key: app.config.get(key) for key in ("API_READ_LIMIT", "API_WRITE_LIMIT")}
    app.config.update(API_READ_LIMIT="100000 per minute", API_WRITE_LIMIT="100000 per minute")
    yield
    for key, value in saved.items():
        if value is None:
            app.config.pop(key, None)
        else:
            app.config[key] = value


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_document(case, demo, token_headers, generous_limits):
    """Generated requests with a writer's token get the answers the document promises."""
    case.call_and_validate(base_url=BASE_URL, headers=token_headers)


def test_the_served_document_is_the_one_tested(client):
    """/api/v1/openapi.json serves the very document schemathesis checks."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == build_document()
    assert response.get_json()["openapi"].startswith("3.")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_document_without_a_token(case, demo, generous_limits):
    """Generated requests without a token get the answers the document promises."""
    case.call_and_validate(base_url=BASE_URL, headers={"Accept-Encoding": "identity"})
