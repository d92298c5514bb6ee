"""Forms for readers' comments and reports.

The article template writes their markup by hand, so that the many forms on one
page keep unique ids; these classes parse and check what comes back.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import id_from
from ..services.comments import EMPTY_MESSAGE, MAX_CHARS, TOO_LONG_MESSAGE
from ..services.reports import REASON_MAX, REASON_MIN

REASON_MESSAGE = f"Tell the moderators what is wrong, in {REASON_MIN} to {REASON_MAX:,} characters."



def _comment_body() -> TextAreaField:
    """The text of a comment: not empty, not over MAX_CHARS."""
    return TextAreaField(
        "Your comment",
        validators=[
            DataRequired(message=EMPTY_MESSAGE),
            Length(max=MAX_CHARS, message=TOO_LONG_MESSAGE),
        ],
    )

class CommentForm(FlaskForm):
    """A new comment or a reply; `website` is a honeypot that people never see."""

    body = _comment_body()
    parent_id = HiddenField()
    website = StringField("Website")

    def parent(self) -> int | None:
        """The comment replied to, when the form says one that could be an id."""
        return id_from(self.parent_id.data)


class EditCommentForm(FlaskForm):
    """The new text of one's own comment."""

    body = _comment_body()


class DeleteCommentForm(FlaskForm):
    """Delete one's own comment (the CSRF token is all it carries)."""


class ReportForm(FlaskForm):
    """Why a post or comment needs a moderator's look."""

    reason = TextAreaField(
        "Why should a moderator look at this?",
        validators=[
            DataRequired(message=REASON_MESSAGE),
            Length(min=REASON_MIN, max=REASON_MAX, message=REASON_MESSAGE),
        ],
    )
