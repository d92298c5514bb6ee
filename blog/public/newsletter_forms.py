"""The subscribe form (the full page's; the shared pages carry the same fields without a token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectMultipleField
from wtforms.validators import DataRequired, Length


class SubscribeForm(FlaskForm):
    """An address and, optionally, the sections wanted (none ticked: the whole magazine)."""

    email = EmailField(
        "Email address",
        validators=[DataRequired(message="Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    sections = SelectMultipleField("Sections", coerce=int, validate_choice=False)
