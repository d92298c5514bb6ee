"""Forms of the newsletter pages: send a post or a digest, mark a subscriber bouncing."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import optional_id


class SendPostForm(FlaskForm):
    """Send one published post to its section's subscribers."""

    post_id = SelectField(
        "Published post", coerce=optional_id, validate_choice=False,
        validators=[DataRequired(message="Choose a published post.")],
    )


class SendDigestForm(FlaskForm):
    """Send a section's posts of the last seven days."""

    section_id = SelectField(
        "Section", coerce=optional_id, validate_choice=False,
        validators=[DataRequired(message="Choose a section.")],
    )


class BouncedForm(FlaskForm):
    """Why an address is taken off the list (the mail server's reply, say)."""

    reason = StringField(
        "Reason", validators=[DataRequired(message="Say why."), Length(max=500)]
    )
