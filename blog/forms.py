"""What every door's forms share: showing a service's refusal, reading bounded numbers."""

from __future__ import annotations

from flask import abort, flash, request
from wtforms import SelectField
from wtforms.validators import ValidationError

from .services import ServiceError
from .validators import MAX_PAGE, bounded_int, url_problem


def show_service_error(form, error: ServiceError) -> None:
    """Show a service error beside the field it concerns, or at the top of the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


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


def set_library_choices(field: LibraryImageField, images) -> None:
    """Offer these library images (newest first) in field, after a "no cover" choice."""
    field.choices = [("", "No cover image")] + [
        (str(image.id), _image_label(image)) for image in images
    ]


def _image_label(image) -> str:
    """How an image is named in a list: its file name and what it shows."""
    name = image.original_name or f"image {image.id}"
    return f"{name} — {image.alt}" if image.alt else name
