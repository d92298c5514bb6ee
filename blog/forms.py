"""What every door's forms share: showing a service's refusal, reading bounded numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, redirect, request
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import Length, ValidationError

from .services import Forbidden, NotFound, ServiceError
from .services.media import ALT_MAX_LENGTH
from .validators import MAX_PAGE, bounded_int, url_problem

T = TypeVar("T")


def show_service_error(form, error: ServiceError) -> None:
    """Show a service error beside the field it concerns, or at the top of the page.

    A refusal (`NotFound`, `Forbidden`) is no form's error: it is raised again, for the
    app's 404 and 403 pages (blog/errors.py). Without a form the message is flashed.
    """
    refuse(error)
    field = getattr(form, error.field, None) if error.field and form is not None else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def refuse(error: ServiceError) -> None:
    """Raise a refusal (`NotFound`, `Forbidden`) again: it is no form's error, but a 404/403."""
    if isinstance(error, (NotFound, Forbidden)):
        raise error


def submitted(
    form,
    action: Callable[[], T],
    success: str | Callable[[T], str] | None = None,
    errors_on_form: bool = True,
) -> bool:
    """The POST handlers' one shape: validate form, run the use case, say what happened.

    Returns True when the form was valid and action() succeeded (flashing success, a
    message or a function of action's result). A `ServiceError` is shown on the form
    (or flashed, with errors_on_form=False, for forms that redirect) and gives False;
    refusals go on to the app's 404 and 403 pages.
    """
    if not form.validate_on_submit():
        return False
    try:
        result = action()
    except ServiceError as error:
        show_service_error(form if errors_on_form else None, error)
        return False
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    return True


def pressed(
    form, action: Callable[[], T], success: str | Callable[[T], str], back: str
) -> Response:
    """A button's POST, which has no page of its own: run it, flash what happened, go back.

    A refusal is flashed too, and the person lands on the page at `back` either way.
    """
    submitted(form, action, success, errors_on_form=False)
    return redirect(back)


def page_number() -> int:
    """Return ?page=N as a page number; anything else (or past MAX_PAGE) is a 404."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    page = bounded_int(raw, 1, MAX_PAGE)
    if page is None:
        abort(404)
    return page


def id_from(raw: object) -> int | None:
    """Return raw (a form or query value) as an id a row could have, or None."""
    return bounded_int(raw)


def safe_address(form, field) -> None:
    """A WTForms validator: only http(s) or site-relative addresses."""
    problem = url_problem(field.data)
    if problem:
        raise ValidationError(problem)


class LibraryImageField(SelectField):
    """A choice of one media library image, by id; the empty choice means none."""

    NOT_IN_LIBRARY = "Choose a cover image from the media library."

    def __init__(self, label=None, validators=None, **kwargs):
        """A select whose options the view fills with set_library_choices."""
        super().__init__(label, validators, coerce=optional_id, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        """Read the chosen id; anything that cannot be an id says so plainly."""
        if not valuelist:
            return
        raw = (valuelist[0] or "").strip()
        self.data = bounded_int(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(self.NOT_IN_LIBRARY)


def optional_id(value) -> int | None:
    """An id from a select's value, or None for "no choice"."""
    if value in (None, ""):
        return None
    number = bounded_int(value)
    if number is None:
        raise ValueError(LibraryImageField.NOT_IN_LIBRARY)
    return number


def cover_image_field() -> LibraryImageField:
    """The cover field of a post's or a section's form: an image of the library."""
    return LibraryImageField(
        "Cover image",
        description="Chosen from the media library; upload new images there first.",
    )


def cover_alt_field() -> StringField:
    """The field beside cover_image_field(): what the cover shows."""
    return StringField(
        "Cover image description (alt text)",
        validators=[Length(max=ALT_MAX_LENGTH)],
        description="What the picture shows; left empty, the library's description is used.",
    )


def set_library_choices(field: LibraryImageField, images, none: str = "No cover image") -> None:
    """Offer these library images (newest first) in field, after the choice of none."""
    field.choices = [("", none)] + [
        (str(image.id), _image_label(image)) for image in images
    ]


def _image_label(image) -> str:
    """How an image is named in a list: its file name and what it shows."""
    name = image.original_name or f"image {image.id}"
    return f"{name} — {image.alt}" if image.alt else name


class ButtonForm(FlaskForm):
    """A form that is only a button: it carries the CSRF token and nothing else."""
