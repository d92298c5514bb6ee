"""The navigation screen: admins arrange the header and footer menus."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from ..forms import pressed, submitted
from ..models import Permission
from ..permissions import permission_required
from ..services import navigation as menus
from .forms import ActionForm
from .navigation_forms import (
    EditMenuItemForm,
    MenuItemForm,
    MoveMenuItemForm,
    RemoveMenuItemForm,
)
from .views import bp

MENU = "<any(header, footer):menu>"
MOVED = {
    "up": "{} moved up.",
    "down": "{} moved down.",
    "in": "{} is now inside the item above.",
    "out": "{} is back at the top level.",
}


def _add_form(menu: str, posted: bool = True) -> MenuItemForm:
    """The form adding an item to menu (its fields prefixed with the menu's name)."""
    form = MenuItemForm(prefix=menu) if posted else MenuItemForm(formdata=None, prefix=menu)
    return form.offer(menus.section_choices(), menus.tag_choices(), menus.page_choices())


def _screen(forms: dict | None = None, status: int = 200):
    """Render the navigation screen: both menus and a form to add to each."""
    forms = forms or {}
    return (
        render_template(
            "admin/navigation.html",
            kinds=menus.KINDS,
            menus={
                menu: {
                    "title": title,
                    "rows": menus.admin_rows(menu),
                    "form": forms.get(menu) or _add_form(menu, posted=False),
                    "arranged": menus.is_arranged(menu),
                }
                for menu, title in menus.MENUS.items()
            },
        ),
        status,
    )


@bp.route("/navigation")
@permission_required(Permission.ADMINISTER)
def navigation():
    """The header and footer menus, each with its items and a form to add one."""
    return _screen()


@bp.route(f"/navigation/{MENU}/add", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def add_menu_item(menu: str):
    """Add a section, tag, page or link at the end of a menu."""
    form = _add_form(menu)
    if submitted(
        form,
        lambda: menus.add_item(
            current_user, menu, form.kind.data, form.reference(), form.label.data or ""
        ),
        lambda item: f"{_name(menu, item['id'])} is in the {menus.MENUS[menu]}.",
    ):
        return redirect(url_for("admin.navigation", _anchor=menu))
    return _screen({menu: form}, 400)


def _name(menu: str, item_id: str) -> str:
    """An item's name as the admin screen shows it."""
    return next(r["name"] for r in menus.admin_rows(menu) if r["item"]["id"] == item_id)


@bp.route(f"/navigation/{MENU}/<item_id>", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def edit_menu_item(menu: str, item_id: str):
    """Change an item's label, or where a link leads."""
    item, parent = menus.find_item(menu, item_id)
    form = EditMenuItemForm(
        data={"label": item["label"], "address": item["ref"] if item["kind"] == "link" else ""}
    )
    if submitted(
        form,
        lambda: menus.rename_item(
            current_user, menu, item_id, form.label.data or "", form.address.data or ""
        ),
        lambda _: f"{_name(menu, item_id)} is saved.",
    ):
        return redirect(url_for("admin.navigation", _anchor=menu))
    return (
        render_template(
            "admin/navigation_item.html",
            menu=menu,
            title=menus.MENUS[menu],
            item=item,
            name=_name(menu, item_id),
            kind=menus.KINDS.get(item["kind"], ""),
            form=form,
        ),
        400 if form.is_submitted() else 200,
    )


@bp.route(f"/navigation/{MENU}/<item_id>/move", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def move_menu_item(menu: str, item_id: str):
    """Move an item up or down, in under the item above, or back out."""
    menus.find_item(menu, item_id)
    name = _name(menu, item_id)
    form = MoveMenuItemForm()
    return pressed(
        form,
        lambda: menus.move_item(current_user, menu, item_id, form.direction.data),
        lambda _: MOVED.get(form.direction.data, "{}").format(name),
        url_for("admin.navigation", _anchor=menu),
    )


@bp.route(f"/navigation/{MENU}/<item_id>/remove", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def remove_menu_item(menu: str, item_id: str):
    """Remove an item; one that holds others asks first, on a page of its own."""
    item, _ = menus.find_item(menu, item_id)
    name = _name(menu, item_id)
    form = RemoveMenuItemForm()
    if form.is_submitted() and (not item["children"] or form.confirmed.data == "yes"):
        return pressed(
            form,
            lambda: menus.remove_item(current_user, menu, item_id),
            f"{name} is out of the {menus.MENUS[menu]}.",
            url_for("admin.navigation", _anchor=menu),
        )
    return render_template(
        "admin/navigation_remove.html",
        menu=menu,
        title=menus.MENUS[menu],
        item=item,
        name=name,
        inner=[r["name"] for r in menus.admin_rows(menu) if r["item"] in item["children"]],
        form=RemoveMenuItemForm(formdata=None),
    )


@bp.route("/navigation/header/reset", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def reset_header_menu():
    """Make the header list the sections in their order again."""
    return pressed(
        ActionForm(),
        lambda: menus.reset_header(current_user),
        "The header lists the sections again.",
        url_for("admin.navigation", _anchor="header"),
    )
