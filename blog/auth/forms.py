"""Forms for accounts."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..forms import ButtonForm  # noqa: F401  (the one button form; the auth views take it from here)


def _password(label: str = "Password", new: bool = False) -> PasswordField:
    """A password field; new=True for one being chosen, so managers offer to make one."""
    return PasswordField(
        label,
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password" if new else "current-password"},
    )


def _repeat(label: str, of: str) -> PasswordField:
    """The password typed again, which must match the field named `of`."""
    return PasswordField(
        label,
        validators=[DataRequired(), EqualTo(of, message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )


def _email() -> EmailField:
    """An email address field."""
    return EmailField(
        "Email address",
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class LoginForm(FlaskForm):
    """Sign in with an email address or username and a password."""

    login = StringField(
        "Email address or username",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = _password()
    remember = BooleanField("Keep me signed in")


class RegisterForm(FlaskForm):
    """Open a reader account."""

    username = StringField(
        "Username",
        validators=[DataRequired(), Length(min=3, max=40)],
        render_kw={"autocomplete": "username"},
    )
    email = _email()
    password = _password(new=True)
    confirm = _repeat("Repeat the password", of="password")


class ProfileForm(FlaskForm):
    """The public profile: display name, bio and links elsewhere."""

    display_name = StringField("Display name", validators=[Length(max=80)])
    bio = TextAreaField(
        "Bio", validators=[Length(max=2000)], description="Leave a blank line between paragraphs."
    )
    links = TextAreaField(
        "Links",
        validators=[Length(max=2000)],
        description="Up to five https:// addresses, one a line: your website, Mastodon and so on.",
    )


class AvatarForm(FlaskForm):
    """Your picture: a JPEG, PNG, GIF or WebP image, cropped to a square."""

    file = FileField("Picture", validators=[FileRequired("Choose an image to upload.")])


class PasswordChangeForm(FlaskForm):
    """Change the password, knowing the current one."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _password("New password", new=True)
    confirm = _repeat("Repeat the new password", of="new_password")


class ResetRequestForm(FlaskForm):
    """Ask for a password reset link."""

    email = _email()


class ResetPasswordForm(FlaskForm):
    """Choose a new password through a reset link."""

    password = _password("New password", new=True)
    confirm = _repeat("Repeat the new password", of="password")


class ReauthenticateForm(FlaskForm):
    """Enter the password again before a sensitive action."""

    password = _password()


class EndSessionForm(FlaskForm):
    """Sign out one session, or many (the CSRF token is all it sends)."""


# --- Two-factor authentication -------------------------------------------------------


def _code_field(
    label: str = "Six-digit code from your app", numeric: bool = True, **kwargs
) -> StringField:
    """A field for an authenticator code, friendly to phones and password managers."""
    render_kw = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}
    if numeric:
        render_kw["inputmode"] = "numeric"
    return StringField(
        label,
        validators=[DataRequired(message="Enter the code."), Length(max=64)],
        render_kw=render_kw,
        **kwargs,
    )


class TwoFactorCodeForm(FlaskForm):
    """The second step of signing in: a code from the authenticator app."""

    code = _code_field()
    remember_browser = BooleanField("Trust this browser for 30 days")


class RecoveryCodeForm(FlaskForm):
    """The second step of signing in with a one-time recovery code instead."""

    recovery_code = StringField(
        "Recovery code",
        validators=[DataRequired(message="Enter one of your recovery codes."), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"},
    )


class TwoFactorConfirmForm(FlaskForm):
    """Confirm a two-factor change with a code from the authenticator app."""

    code = _code_field()


class TwoFactorDisableForm(FlaskForm):
    """Turn two-factor off with a code from the app or a recovery code."""

    code = _code_field(
        "Code from your app, or a recovery code",
        numeric=False,
        description="Turning it off also forgets every trusted browser and recovery code.",
    )


