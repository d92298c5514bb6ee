"""Forms of the writing desk."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from ..forms import cover_alt_field, cover_image_field, optional_id
from ..services.slugs import SLUG_PATTERN, typed_slug


class CustomFieldForm(Form):
    """One custom field's row: its name, its value, and a box to remove it.

    Its rules (length, no leading underscore, how many) are the service's
    (services/custom_fields.py), checked when the post is saved.
    """

    key = StringField("Name")
    value = TextAreaField("Value")
    remove = BooleanField("Remove this field")


class PostForm(FlaskForm):
    """Everything a writer controls about a post."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Story")
    excerpt = TextAreaField(
        "Excerpt",
        validators=[Length(max=1000)],
        description="Left empty, the opening words are used.",
    )
    category = SelectField(
        "Section", coerce=optional_id, validators=[InputRequired()], validate_choice=False
    )
    # Room for every tag a post may carry (WordPress's "Many Categories" has 62 of them).
    tags = StringField(
        "Tags", validators=[Length(max=5000)], description="Separate tags with commas."
    )
    slug = StringField(
        "Slug",
        validators=[
            Optional(),
            Length(max=200),
            Regexp(
                SLUG_PATTERN,
                message=(
                    "Use lower-case letters (any script), digits and single hyphens, "
                    "like my-first-story."
                ),
            ),
        ],
        filters=[typed_slug],
        description="The last part of the address. Left empty, it is made from the title.",
    )
    cover_media_id = cover_image_field()
    cover_alt = cover_alt_field()
    seo_title = StringField("Search engine title", validators=[Length(max=200)])
    seo_description = TextAreaField("Search engine description", validators=[Length(max=300)])
    featured = BooleanField("Feature this story on the front page")
    # Saved by Save only: an autosave keeps the post's as they are (see desk.autosave).
    custom_fields = FieldList(FormField(CustomFieldForm))
    # Shown to editors (the author) and to the post's author or editors (co-authors);
    # the desk checks who may change them whatever the form sends.
    author = SelectField("Author", coerce=optional_id, validate_choice=False)
    coauthors = StringField(
        "Co-authors",
        validators=[Length(max=500)],
        description="Usernames in byline order, separated by commas, like ana, ben.",
    )
    version = HiddenField()


def custom_fields_from(form: PostForm) -> list[tuple[str, str]] | None:
    """The custom fields the form sends, in order, bar the rows marked for removal; None
    when the page did not show them (the post keeps its own)."""
    if not any(name.startswith("custom_fields-") for name in request.form):
        return None
    return [
        (row.key.data or "", row.value.data or "")
        for row in form.custom_fields
        if not row.remove.data
    ]


def offer_empty_custom_fields(form: PostForm, rows: int = 2) -> None:
    """Add empty rows to fill in, so that a field can be added without a script."""
    for _ in range(rows):
        form.custom_fields.append_entry()


class PageForm(PostForm):
    """Everything an editor controls about a page: a post's fields but the section, tags and
    featuring, with a parent page instead."""

    category = None
    tags = None
    featured = None
    parent = SelectField(
        "Parent page",
        coerce=optional_id,
        validate_choice=False,
        description="Shown in the page's breadcrumb; the address stays /<slug>.",
    )


class ActionForm(FlaskForm):
    """A status change: only the CSRF token and the version the page showed."""

    version = HiddenField()


class ScheduleForm(FlaskForm):
    """Publish at a chosen time."""

    publish_at = DateTimeLocalField(
        "Publish at", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[DataRequired()]
    )
    version = HiddenField()


class SendBackForm(FlaskForm):
    """Return a post in review to its author, with a note."""

    note = TextAreaField("Note for the author", validators=[DataRequired(), Length(max=2000)])
    version = HiddenField()


class BulkForm(FlaskForm):
    """An action on the checked rows of All posts; sent twice, the second time confirmed."""

    action = SelectField("Action", validators=[InputRequired()], validate_choice=False)
    section = SelectField("Section", coerce=optional_id, validate_choice=False)
    tag = StringField("Tag", validators=[Length(max=80)])
    confirmed = HiddenField()
    back = HiddenField()
