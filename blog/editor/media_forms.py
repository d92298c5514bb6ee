"""Forms for the media library."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

ALT_HINT = "What the image shows, for people who cannot see it."



def _alt_text_field() -> StringField:
    """The alt text an image must have: what someone who cannot see it should hear."""
    return StringField(
        "Alt text",
        validators=[
            DataRequired("Describe the image for people who cannot see it."),
            Length(max=300),
        ],
    )

class MediaUploadForm(FlaskForm):
    """Upload one image with its alt text."""

    file = FileField(
        "Image",
        validators=[FileRequired("Choose an image to upload.")],
        render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"},
    )
    alt = _alt_text_field()


class MediaAltForm(FlaskForm):
    """Change an image's alt text."""

    alt = _alt_text_field()


class MediaDeleteForm(FlaskForm):
    """Delete an image (the form carries only the CSRF token)."""
