"""Forms of the administration pages: people, sections, settings, trash and the audit log."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms import (
    ButtonForm,
    LibraryImageField,
    cover_alt_field,
    cover_image_field,
    optional_id,
)
from ..services.slugs import SLUG_PATTERN, typed_slug
from ..services.webhooks import EVENTS as WEBHOOK_EVENTS

SLUG_MESSAGE = (
    "Use lower-case letters (any script), digits and single hyphens, like health-and-care."
)


def choices(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into the options a select field takes."""
    return [SelectChoice(str(value), label) for value, label in pairs]




class WholeNumberField(IntegerField):
    """A whole number field whose complaint about other input says so plainly."""

    def process_formdata(self, valuelist):
        """Read the number, or note that it is not a whole number."""
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(f"{self.label.text} is a whole number.") from error


class FilterForm(FlaskForm):
    """A GET form that narrows a listing: no CSRF token, since it changes nothing."""

    class Meta:
        """Filters read the query string and carry no token."""

        csrf = False

    def __init__(self, *args, **kwargs):
        """Read the query string."""
        super().__init__(*args, formdata=request.args, **kwargs)


# --- People ---------------------------------------------------------------------


class PeopleFilterForm(FilterForm):
    """Search people by name or address, role and state."""

    q = StringField("Name, username or email address", validators=[Length(max=100)])
    role = SelectField("Role", choices=[], validate_choice=False)
    state = SelectField(
        "State",
        choices=[
            SelectChoice("", "Everyone"),
            SelectChoice("active", "Active"),
            SelectChoice("suspended", "Suspended"),
        ],
        validate_choice=False,
    )


class RoleForm(FlaskForm):
    """Give a person another role."""

    # No "required" flag: a required select must open on an empty choice, and this one
    # opens on the person's role. An empty or unknown value fails the choice check.
    role = SelectField("Role", choices=[])


class SectionsForm(FlaskForm):
    """The sections an editor runs; none chosen means every section."""

    sections = SelectMultipleField(
        "Sections",
        coerce=optional_id,
        choices=[],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )


class SuspendForm(FlaskForm):
    """Suspend a person, saying why."""

    reason = TextAreaField(
        "Reason for the suspension",
        validators=[DataRequired(message="Give the reason for the suspension."), Length(max=500)],
        description="Recorded in the audit log. The person is signed out everywhere at once.",
    )


ActionForm = ButtonForm  # a button that changes something: only the CSRF token


# --- Sections -------------------------------------------------------------------


class NewSectionForm(FlaskForm):
    """Create a section."""

    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    slug = StringField(
        "Slug",
        validators=[Optional(), Length(max=80), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
        filters=[typed_slug],
        description="The address: /category/<slug>. Left empty, it is made from the name.",
    )
    description = TextAreaField("Description", validators=[Length(max=2000)])


class SectionForm(NewSectionForm):
    """Rename, describe or give a cover to a section."""

    slug = StringField(
        "Slug",
        validators=[DataRequired(), Length(max=80), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
        filters=[typed_slug],
        description="Changing it keeps the old addresses working: they answer with a redirect.",
    )
    cover_media_id = cover_image_field()
    cover_alt = cover_alt_field()


class MoveSectionForm(FlaskForm):
    """Move a section up or down the navigation."""

    direction = HiddenField(validators=[InputRequired()])


class DeleteSectionForm(FlaskForm):
    """Delete an empty section, typing its slug to confirm."""

    confirm = StringField(
        "Type the section's slug to confirm",
        validators=[DataRequired(message="Type the slug to confirm."), Length(max=80)],
    )


# --- Site settings, trash and audit log -----------------------------------------


class SettingsForm(FlaskForm):
    """The site's name, words, page size and comment rules."""

    site_name = StringField(
        "Site name",
        validators=[DataRequired(message="The site needs a name."), Length(max=200)],
    )
    site_slogan = StringField("Slogan", validators=[Length(max=200)])
    site_tagline = StringField("Tagline", validators=[Length(max=200)])
    posts_per_page = WholeNumberField(
        "Posts per page",
        validators=[
            InputRequired(message="Posts per page is a whole number."),
            NumberRange(min=1, max=100, message="Show between 1 and 100 posts per page."),
        ],
    )
    comments_moderated = BooleanField("Hold new readers' comments for moderation")
    comment_link_limit = WholeNumberField(
        "Most links allowed in a comment",
        validators=[
            InputRequired(message="The link limit is a whole number."),
            NumberRange(min=0, max=50, message="Allow between 0 and 50 links."),
        ],
        description="A comment with more links is held for moderation.",
    )
    comment_blocklist = TextAreaField(
        "Blocked words",
        validators=[Length(max=20000)],
        description="One word or phrase per line. A comment containing one is held.",
    )
    require_staff_two_factor = BooleanField(
        "Require two-factor authentication for editors and admins",
        description="An editor or admin without it is sent to set it up before any staff page.",
    )
    timezone = SelectField(
        "Time zone",
        choices=[],
        validate_choice=False,  # the settings service refuses an unknown zone, in words
        description="Every time on the staff pages and on the site is shown in this zone, "
        "and times typed in (scheduling, the audit log's days) are read in it.",
    )
    default_share_image = LibraryImageField(
        "Default share image",
        description="Shown in link previews (social media, chat) of pages with no cover of "
        "their own or of their section; without one, the site icon is. Chosen from the media "
        "library, where its description is kept; 1200 × 630 pixels or more looks best.",
    )


class SiteIconForm(FlaskForm):
    """Upload the square image the site's favicon and touch icon are made from."""

    file = FileField(
        "Icon image",
        validators=[FileRequired("Choose a square image to upload.")],
        render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"},
        description="A square JPEG, PNG, GIF or WebP, at least 48 × 48 pixels "
        "(180 × 180 or more looks best). Browsers show it beside the site's name; "
        "phones use it when the site is added to the home screen.",
    )


class EmptyTrashForm(FlaskForm):
    """Empty the trash for good, typing EMPTY to confirm."""

    confirm = StringField(
        "Type EMPTY to delete everything in the trash for good",
        validators=[DataRequired(message="Type EMPTY to confirm."), Length(max=20)],
    )


class AuditFilterForm(FilterForm):
    """Narrow the audit log by action, person, section, kind of thing and days."""

    action = SelectField("Action", choices=[], validate_choice=False)
    person = SelectField("Person", choices=[], validate_choice=False)
    section = SelectField("Section", choices=[], validate_choice=False)
    type = SelectField("Kind of thing", choices=[], validate_choice=False)
    since = DateField("From (day)", validators=[Optional()])
    until = DateField("Until (day)", validators=[Optional()])

    def day(self, name: str):
        """The day typed in since or until, or None when empty or not a date."""
        field = self[name]
        return None if field.process_errors else field.data


# --- Redirects --------------------------------------------------------------------


class RedirectFilterForm(FilterForm):
    """Search redirects by their old address."""

    q = StringField("Old address contains", validators=[Length(max=200)])


class RedirectForm(FlaskForm):
    """An old address and where it leads (a post or a section on this site)."""

    path = StringField(
        "Old address", validators=[DataRequired("Type the old address."), Length(max=500)]
    )
    target = StringField(
        "Leads to",
        validators=[DataRequired("Type the address of a post or a section."), Length(max=1000)],
    )


class DeleteRedirectForm(FlaskForm):
    """Delete a redirect (the button on its confirmation page)."""


# --- Webhooks -------------------------------------------------------------------


class WebhookForm(FlaskForm):
    """An address that receives events, which events, and whether it is on."""

    url = StringField(
        "Address (URL)",
        validators=[DataRequired("Type the address that receives the events."), Length(max=500)],
        description="Where the site POSTs each event as JSON, like https://example.com/hooks.",
    )
    description = StringField(
        "Description", validators=[Length(max=200)], description="What this hook is for."
    )
    events = SelectMultipleField(
        "Events to send",
        choices=[SelectChoice(name, label) for name, label in WEBHOOK_EVENTS.items()],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    active = BooleanField("On (sends events)", default=True)


class DeleteWebhookForm(FlaskForm):
    """Delete a webhook (the button on its confirmation page)."""
