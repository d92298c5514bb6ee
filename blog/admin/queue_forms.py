"""Forms of the moderation queue."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..services.comments import MAX_CHARS

COMMENT_ACTIONS = [
    SelectChoice("approve", "Approve"),
    SelectChoice("spam", "Mark as spam"),
    SelectChoice("trash", "Move to trash"),
    SelectChoice("hold", "Unapprove (hold for moderation)"),
    SelectChoice("restore", "Restore (from spam or trash)"),
]
QUEUE_ACTIONS = COMMENT_ACTIONS[:3]  # what a held comment may become
REPORT_ACTIONS = [
    SelectChoice("dismiss", "Dismiss: nothing wrong"),
    SelectChoice("trash_comment", "Trash the reported comment"),
    SelectChoice("unpublish_post", "Unpublish the reported post"),
]


class BulkCommentsForm(FlaskForm):
    """One action for the chosen held comments (the ids come as checkboxes)."""

    action = SelectField(
        "With the chosen comments", choices=COMMENT_ACTIONS, validators=[DataRequired()]
    )


class ResolveReportForm(FlaskForm):
    """Close a report with the action taken."""

    action = SelectField("Action", choices=REPORT_ACTIONS, validators=[DataRequired()])
    note = TextAreaField("Note", validators=[Length(max=450)])


class StaffCommentForm(FlaskForm):
    """A moderator's correction of a comment's text."""

    body = TextAreaField(
        "Comment text",
        validators=[DataRequired(message="A comment cannot be empty."), Length(max=MAX_CHARS)],
        description="The text before your change is kept in the comment's history.",
    )


class StaffReplyForm(FlaskForm):
    """A moderator's reply, published at once."""

    body = TextAreaField(
        "Reply as staff",
        validators=[DataRequired(message="Write your reply first."), Length(max=MAX_CHARS)],
        description="Published under your name at once.",
    )
