"""Forms of the navigation screen: add an item, edit one, move it, remove it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length

from ..services.navigation import KINDS, MAX_ADDRESS, MAX_LABEL

LABEL_HINT = "Left empty, a section, tag or page item shows its own name."
ADDRESS_HINT = "A path on this site, like /about, or another site's address starting with https://."


class MenuItemForm(FlaskForm):
    """Add an item to a menu: what it leads to and, if wanted, its own label.

    One form per menu on the page, told apart by its prefix (the menu's name).
    """

    kind = SelectField("Leads to", choices=[])
    section = SelectField("Section", choices=[], validate_choice=False)
    tag = SelectField("Tag", choices=[], validate_choice=False)
    page = SelectField("Page", choices=[], validate_choice=False)
    address = StringField(
        "Link address", validators=[Length(max=MAX_ADDRESS)], description=ADDRESS_HINT
    )
    label = StringField("Label", validators=[Length(max=MAX_LABEL)], description=LABEL_HINT)

    def offer(self, sections, tags, pages) -> MenuItemForm:
        """Fill the choices: the kinds there is something of, and the things themselves."""
        found = {"section": sections, "tag": tags, "page": pages, "link": [None]}
        self.kind.choices = [SelectChoice(k, name) for k, name in KINDS.items() if found[k]]
        for field, things, none in (
            (self.section, sections, "Choose a section"),
            (self.tag, tags, "Choose a tag"),
            (self.page, pages, "Choose a page"),
        ):
            field.choices = [SelectChoice("", none)] + [
                SelectChoice(str(value), name) for value, name in things
            ]
        return self

    def reference(self) -> str:
        """The value of the field that goes with the chosen kind."""
        field = {"section": self.section, "tag": self.tag, "page": self.page}.get(
            self.kind.data, self.address
        )
        return field.data or ""


class EditMenuItemForm(FlaskForm):
    """Change an item's label (and a link's address)."""

    label = StringField("Label", validators=[Length(max=MAX_LABEL)], description=LABEL_HINT)
    address = StringField(
        "Link address", validators=[Length(max=MAX_ADDRESS)], description=ADDRESS_HINT
    )


class MoveMenuItemForm(FlaskForm):
    """Move an item up, down, in under the one above, or out."""

    direction = HiddenField(validators=[InputRequired()])


class RemoveMenuItemForm(FlaskForm):
    """Remove an item; one holding others is removed only once confirmed."""

    confirmed = HiddenField()
