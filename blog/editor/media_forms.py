"""Forms for the media library."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

ALT_HINT = "What the image shows, for people who cannot see it."


class MediaUploadForm(FlaskForm):
    """Upload one image with its alt text."""

    file = FileField(
        "Image",
        validators=[FileRequired("Choose an image to upload.")],
        render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"},
    )
    alt = StringField(
        "Alt text",
        validators=[
            DataRequired("Describe the image for people who cannot see it."),
            Length(max=300),
        ],
    )


class MediaAltForm(FlaskForm):
    """Change an image's alt text."""

    alt = StringField(
        "Alt text",
        validators=[
            DataRequired("Describe the image for people who cannot see it."),
            Length(max=300),
        ],
    )


class MediaDeleteForm(FlaskForm):
    """Delete an image (the form carries only the CSRF token)."""
