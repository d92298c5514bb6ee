"""The navigation: the header and footer menus that admins arrange.

Each menu is one JSON value among the site settings (key "navigation.<menu>"), a list of
items `{"id", "kind", "ref", "label", "children"}` checked on every write; children nest
one level only. Readers get each menu resolved once and cached with the content (under the
`navigation` key and the keys of the pages it names): every item becomes (label, address,
children), and an item whose section, tag or page is gone (or not live) is left out. A
header never saved lists the sections in their order, as it always did; a saved menu is a
site setting, so saving it purges everything (content_generation's hooks) and every cached
page shows the new menu at once.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable

from sqlalchemy import select

from ..extensions import db
from ..models import Category, Permission, SiteSetting, Tag, User
from ..validators import bounded_int, url_problem
from . import (
    Forbidden,
    NotFound,
    ServiceError,
    audit,
    content_generation,
    pages,
    surrogate,
    unit_of_work,
)

MENUS = {"header": "header menu", "footer": "footer menu"}
KINDS = {"section": "Section", "tag": "Tag", "page": "Page", "link": "Link"}
MAX_ITEMS = 60  # in one menu, children included
MAX_LABEL = 80
MAX_ADDRESS = 500
ITEM_ID = re.compile(r"[a-z0-9-]{1,20}")
LINK_MESSAGE = (
    "Type an address on this site starting with / (like /about), "
    "or another site's address starting with https://."
)
NESTING_MESSAGE = "Menus nest one level: an item inside another cannot hold items of its own."

Item = dict  # {"id": str, "kind": str, "ref": int | str, "label": str, "children": [Item]}


# --- Pages ----------------------------------------------------------------------------


def page_choices() -> list[tuple[int, str]]:
    """The live pages an admin may put in a menu, as (post id, title), by title."""
    return [(page.id, page.title) for page in pages.live_pages()]


def _live_pages(ids: set[int]) -> dict[int, tuple[str, tuple[str, dict]]]:
    """The live pages among ids, as {post id: (title, (endpoint, url_for arguments))}."""
    return {
        page.id: (page.title, ("public.page", {"slug": page.slug}))
        for page in pages.live_pages(ids)
    }


# --- Reading the stored menus ----------------------------------------------------------


def _setting_key(menu: str) -> str:
    """The site-settings key a menu is stored under."""
    return f"navigation.{menu}"


def _check_menu(menu: str) -> str:
    """Return menu when it is one of the menus, else NotFound."""
    if menu not in MENUS:
        raise NotFound("No such menu.")
    return menu


def _stored(menu: str) -> list[Item] | None:
    """The items saved for menu, or None when it was never saved."""
    row = db.session.get(SiteSetting, _setting_key(menu))
    if row is None:
        return None
    try:
        items = json.loads(row.value)
    except ValueError:
        return None
    return items if isinstance(items, list) else None


def _default(menu: str) -> list[Item]:
    """A menu as it is before anyone arranged it: the header lists the sections."""
    if menu != "header":
        return []
    sections = db.session.scalars(select(Category).order_by(Category.position, Category.name))
    return [_item(f"s{s.id}", "section", s.id, "") for s in sections]


def _item(item_id: str, kind: str, ref, label: str, children: list | None = None) -> Item:
    """One menu item as stored."""
    return {"id": item_id, "kind": kind, "ref": ref, "label": label, "children": children or []}


def is_arranged(menu: str) -> bool:
    """Whether an admin has saved menu (a header never saved follows the sections)."""
    return _stored(_check_menu(menu)) is not None


def menu_items(menu: str) -> list[Item]:
    """A menu's items as the admin arranges them (the default when never saved)."""
    stored = _stored(_check_menu(menu))
    return stored if stored is not None else _default(menu)


# --- What an admin may put in a menu ---------------------------------------------------


def section_choices() -> list[tuple[int, str]]:
    """The sections an admin may put in a menu, as (id, name), in navigation order."""
    rows = db.session.execute(
        select(Category.id, Category.name).order_by(Category.position, Category.name)
    )
    return [(row.id, row.name) for row in rows]


def tag_choices() -> list[tuple[str, str]]:
    """The tags an admin may put in a menu, as (slug, name), by name."""
    rows = db.session.execute(select(Tag.slug, Tag.name).order_by(Tag.name, Tag.slug))
    return [(row.slug, row.name) for row in rows]


def link_problem(address: str) -> str | None:
    """Say why address may not be a menu link, or None when it may.

    A link is a path on this site ("/about", not "//elsewhere") or an https:// address;
    javascript:, data:, plain http:// and anything else are refused.
    """
    address = (address or "").strip()
    if not address:
        return "Type the address the link leads to."
    if len(address) > MAX_ADDRESS:
        return f"Keep the address to {MAX_ADDRESS} characters or fewer."
    # The one rule for safe addresses first, then the menu's own: other sites by https only.
    if url_problem(address) is not None:
        return LINK_MESSAGE
    if not address.startswith("/") and not address.lower().startswith("https://"):
        return LINK_MESSAGE
    return None


def _clean_label(label: str | None, required: bool) -> str:
    """A label tidied: single spaces, short enough, present when required."""
    label = " ".join((label or "").split())
    if required and not label:
        raise ServiceError("Give the link a label readers will see.", "label")
    if len(label) > MAX_LABEL:
        raise ServiceError(f"Keep the label to {MAX_LABEL} characters or fewer.", "label")
    return label


def _clean_ref(kind: str, ref) -> int | str:
    """The reference of a new item, checked: the thing exists (and is live) or a safe link."""
    if kind == "section":
        section_id = bounded_int(ref)
        if section_id is None or db.session.get(Category, section_id) is None:
            raise ServiceError("Choose a section.", "section")
        return section_id
    if kind == "tag":
        slug = (str(ref) if ref is not None else "").strip()
        if not slug or db.session.scalar(select(Tag.id).where(Tag.slug == slug)) is None:
            raise ServiceError("Choose a tag.", "tag")
        return slug
    if kind == "page":
        page_id = bounded_int(ref)
        if page_id is None or page_id not in _live_pages({page_id}):
            raise ServiceError("Choose a published page.", "page")
        return page_id
    if kind == "link":
        problem = link_problem(ref)
        if problem:
            raise ServiceError(problem, "address")
        return str(ref).strip()
    raise ServiceError("Choose what the item leads to: a section, a tag, a page or a link.", "kind")


def _check_tree(items: list[Item]) -> None:
    """Refuse a menu that nests deeper than one level or grows past MAX_ITEMS."""
    count = 0
    for item in items:
        count += 1 + len(item["children"])
        for child in item["children"]:
            if child["children"]:
                raise ServiceError(NESTING_MESSAGE)
    if count > MAX_ITEMS:
        raise ServiceError(f"A menu holds at most {MAX_ITEMS} items.")


# --- Changing a menu --------------------------------------------------------------------


def _check_admin(actor: User | None) -> None:
    """Refuse anyone who may not arrange the menus."""
    if actor is None or not actor.can(Permission.ADMINISTER):
        raise Forbidden("You may not change the menus.")


def _find(items: list[Item], item_id: str) -> tuple[list[Item], int, Item | None]:
    """Where item_id sits: (its list, its index, its parent or None), else NotFound."""
    for index, item in enumerate(items):
        if item["id"] == item_id:
            return items, index, None
        for child_index, child in enumerate(item["children"]):
            if child["id"] == item_id:
                return item["children"], child_index, item
    raise NotFound("No such menu item.")


def find_item(menu: str, item_id: str) -> tuple[Item, Item | None]:
    """The item item_id of menu and its parent (None at the top), or NotFound."""
    if not ITEM_ID.fullmatch(item_id or ""):
        raise NotFound("No such menu item.")
    siblings, index, parent = _find(menu_items(menu), item_id)
    return siblings[index], parent


def _new_id(items: list[Item]) -> str:
    """An item id not yet used in the menu."""
    taken = {i["id"] for i in items} | {c["id"] for i in items for c in i["children"]}
    while True:
        item_id = secrets.token_hex(4)
        if item_id not in taken:
            return item_id


def _change(actor: User, menu: str, change: Callable[[list[Item]], str]) -> list[Item]:
    """Load a menu, apply change (which says what it did), check it, save it, log it."""
    _check_admin(actor)
    _check_menu(menu)
    with unit_of_work():
        items = menu_items(menu)
        did = change(items)
        _check_tree(items)
        row = db.session.get(SiteSetting, _setting_key(menu)) or SiteSetting(key=_setting_key(menu))
        row.value = json.dumps(items, ensure_ascii=False)
        db.session.add(row)  # a site setting: the commit bumps the content generation
        audit.record(actor, f"navigation.{menu}", details=did)
    return items


def _lookups(items: list[Item]) -> dict[str, dict]:
    """What a menu's items name, by kind: {kind: {ref: thing}}, one query per kind."""
    every = [*items, *(c for i in items for c in i["children"])]
    wanted = {kind: {i["ref"] for i in every if i["kind"] == kind} for kind in KINDS}
    found: dict[str, dict] = {"section": {}, "tag": {}, "page": {}}
    if wanted["section"]:
        rows = db.session.scalars(select(Category).where(Category.id.in_(wanted["section"])))
        found["section"] = {
            s.id: (s.name, ("public.category", {"slug": s.slug}), s.slug) for s in rows
        }
    if wanted["tag"]:
        rows = db.session.scalars(select(Tag).where(Tag.slug.in_(wanted["tag"])))
        found["tag"] = {t.slug: (t.name, ("public.tag", {"slug": t.slug}), "") for t in rows}
    if wanted["page"]:
        found["page"] = {k: (*v, "") for k, v in _live_pages(wanted["page"]).items()}
    return found


def _shown(item: Item, found: dict[str, dict]) -> dict | None:
    """An item as readers get it, or None when what it names is gone.

    {label, href, endpoint, args, section, children}: a link has its href, anything else
    the endpoint and arguments the door builds its address from (url_for needs a request);
    section is the slug of the section it leads to, if any.
    """
    shown = {"href": "", "endpoint": "", "args": {}, "section": "", "children": []}
    if item["kind"] == "link":
        if link_problem(item["ref"]) is not None:
            return None
        return {**shown, "label": item["label"], "href": item["ref"]}
    thing = found.get(item["kind"], {}).get(item["ref"])
    if thing is None:
        return None
    name, (endpoint, args), section = thing
    return {
        **shown,
        "label": item["label"] or name,
        "endpoint": endpoint,
        "args": args,
        "section": section,
    }


def _quoted(item: Item, found: dict[str, dict] | None = None) -> str:
    """An item as the audit log names it."""
    shown = _shown(item, found if found is not None else _lookups([item]))
    return f"“{shown['label'] if shown else item['label'] or item['ref']}”"


def admin_rows(menu: str) -> list[dict]:
    """A menu for the admin screen: each item with its name, address and whether it shows.

    Rows are {item, name, shown, depth, first, last, can_nest}, top items followed by
    their children; shown is the item as readers get it (see _shown), or None.
    """
    items = menu_items(menu)
    found = _lookups(items)
    rows = []

    def row(item: Item, depth: int, siblings: list[Item], index: int) -> dict:
        shown = _shown(item, found)
        return {
            "item": item,
            "name": shown["label"] if shown else item["label"] or _gone(item),
            "shown": shown,
            "depth": depth,
            "first": index == 0,
            "last": index == len(siblings) - 1,
            "can_nest": depth == 0 and index > 0 and not item["children"],
        }

    for index, item in enumerate(items):
        rows.append(row(item, 0, items, index))
        for child_index, child in enumerate(item["children"]):
            rows.append(row(child, 1, item["children"], child_index))
    return rows


def _gone(item: Item) -> str:
    """What an item whose section, tag or page is gone is called on the admin screen."""
    kind = KINDS.get(item["kind"], "item").lower()
    return f"A {kind} that is no longer there ({item['ref']})"


def add_item(actor: User, menu: str, kind: str, ref, label: str = "") -> Item:
    """Add an item at the end of a menu: a section, a tag, a page or a link."""
    _check_admin(actor)
    _check_menu(menu)
    clean_ref = _clean_ref(kind, ref)
    clean_label = _clean_label(label, required=kind == "link")
    added: dict = {}

    def change(items: list[Item]) -> str:
        added.update(_item(_new_id(items), kind, clean_ref, clean_label))
        items.append(added)
        return f"added {_quoted(added)}"

    _change(actor, menu, change)
    return added


def rename_item(actor: User, menu: str, item_id: str, label: str, address: str = "") -> Item:
    """Give an item another label (a link may also lead somewhere else)."""
    _check_admin(actor)
    item, _ = find_item(menu, item_id)
    clean_label = _clean_label(label, required=item["kind"] == "link")
    clean_ref = _clean_ref("link", address) if item["kind"] == "link" else item["ref"]
    old = _quoted(item)

    def change(items: list[Item]) -> str:
        siblings, index, _ = _find(items, item_id)
        siblings[index].update(label=clean_label, ref=clean_ref)
        now = _quoted(siblings[index])
        return f"changed {old}" if now == old else f"renamed {old} to {now}"

    _change(actor, menu, change)
    item.update(label=clean_label, ref=clean_ref)
    return item


DIRECTIONS = {
    "up": "moved {} up",
    "down": "moved {} down",
    "in": "nested {}",
    "out": "un-nested {}",
}


def move_item(actor: User, menu: str, item_id: str, direction: str) -> None:
    """Move an item up or down among its neighbours, in under the one above, or back out."""
    if direction not in DIRECTIONS:
        raise ServiceError("Move an item up, down, in or out.")

    def change(items: list[Item]) -> str:
        siblings, index, parent = _find(items, item_id)
        item = siblings[index]
        name = _quoted(item)
        if direction in ("up", "down"):
            other = index - 1 if direction == "up" else index + 1
            if not 0 <= other < len(siblings):
                where = "first" if direction == "up" else "last"
                raise ServiceError(f"{name} is already {where}.")
            siblings[index], siblings[other] = siblings[other], siblings[index]
        elif direction == "in":
            if parent is not None:
                raise ServiceError(NESTING_MESSAGE)
            if index == 0:
                raise ServiceError(f"{name} is first: there is no item above to nest it under.")
            if item["children"]:
                raise ServiceError(NESTING_MESSAGE + f" Take the items out of {name} first.")
            above = siblings[index - 1]
            siblings.pop(index)
            above["children"].append(item)
            return f"nested {name} under {_quoted(above)}"
        else:
            if parent is None:
                raise ServiceError(f"{name} is already at the top level.")
            # Out, just after the item it was in; the items below it stay there.
            siblings.pop(index)
            items.insert(items.index(parent) + 1, item)
        return DIRECTIONS[direction].format(name)

    _change(actor, menu, change)


def remove_item(actor: User, menu: str, item_id: str) -> Item:
    """Take an item (and the items nested in it) out of a menu."""
    removed: dict = {}

    def change(items: list[Item]) -> str:
        siblings, index, _ = _find(items, item_id)
        removed.update(siblings.pop(index))
        inner = len(removed["children"])
        with_inner = f" and the {inner} item{'s' if inner != 1 else ''} in it" if inner else ""
        return f"removed {_quoted(removed)}{with_inner}"

    _change(actor, menu, change)
    return removed


@unit_of_work()
def reset_header(actor: User) -> None:
    """Forget the arranged header: it lists the sections in their order again."""
    _check_admin(actor)
    row = db.session.get(SiteSetting, _setting_key("header"))
    if row is None:
        raise ServiceError("The header already lists the sections.")
    db.session.delete(row)
    audit.record(actor, "navigation.header", details="went back to listing the sections")


# --- Readers' menus ----------------------------------------------------------------------


def _resolve(menu: str) -> list[dict]:
    """A menu as readers get it (items as _shown makes them), dead items left out.

    One query reads the menu, then one per kind of item (never one per item).
    """
    items = menu_items(menu)
    found = _lookups(items)
    shown = []
    for item in items:
        top = _shown(item, found)
        if top is None:
            continue  # its children go with it: they were arranged under it
        top["children"] = [c for c in (_shown(i, found) for i in item["children"]) if c]
        shown.append(top)
    return shown


def reader_menu(menu: str) -> list[dict]:
    """A menu resolved for readers, cached with the content (one cache read per menu)."""
    _check_menu(menu)
    return content_generation.cached(
        f"navigation-{menu}", lambda: _resolve(menu), keys=(surrogate.NAVIGATION,)
    )
