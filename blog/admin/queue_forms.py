"""Forms of the moderation queue."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

COMMENT_ACTIONS = [
    SelectChoice("approve", "Approve"),
    SelectChoice("spam", "Mark as spam"),
    SelectChoice("trash", "Move to trash"),
]
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
