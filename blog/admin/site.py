"""The site as a whole: its settings, the trash and the audit log."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from ..forms import id_from, page_number, pressed, set_library_choices, submitted
from ..models import Permission, PostStatus
from ..permissions import permission_required
from ..services import audit, clock, reading
from ..services import settings as site_settings
from ..services import trash as trash_service
from ..services.media import cover_choices, site_icon
from .forms import (
    ActionForm,
    AuditFilterForm,
    EmptyTrashForm,
    SettingsForm,
    SiteIconForm,
    choices,
)
from .views import bp

AUDIT_PER_PAGE = 50
RESTORED_AS = {
    PostStatus.DRAFT: "as a draft",
    PostStatus.PENDING: "waiting for review",
    PostStatus.SCHEDULED: "scheduled",
    PostStatus.PUBLISHED: "published at its first date",
}
TARGET_TYPES = [
    ("post", "Posts"),
    ("comment", "Comments"),
    ("report", "Reports"),
    ("section", "Sections"),
    ("user", "People"),
]


# --- Settings -------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_SETTINGS)
def settings():
    """The site's name, slogan, tagline, page size, comment rules, time zone and icon."""
    form = _settings_form()
    values = {name: form[name].data for name in form.data if name != "csrf_token"}
    if submitted(
        form,
        lambda: site_settings.update(current_user, values),
        "The settings are saved; every page uses them now.",
    ):
        return redirect(url_for("admin.settings"))
    status = 400 if form.is_submitted() else 200
    return _settings_page(form, SiteIconForm(formdata=None), status)


def _settings_form(**kwargs) -> SettingsForm:
    """The settings form over the settings in force, with every time zone to choose from."""
    now = site_settings.current()
    form = SettingsForm(
        **kwargs,
        site_name=now.site_name,
        site_slogan=now.site_slogan,
        site_tagline=now.site_tagline,
        posts_per_page=now.posts_per_page,
        comments_moderated=now.comments_moderated,
        comment_link_limit=now.comment_link_limit,
        comment_blocklist="\n".join(now.comment_blocklist),
        require_staff_two_factor=now.require_staff_two_factor,
        timezone=now.timezone,
        default_share_image=now.default_share_image,
    )
    set_library_choices(
        form.default_share_image,
        cover_choices(form.default_share_image.data),
        none="None: the site icon",
    )
    form.timezone.choices = {
        region: [(name, name.replace("_", " ")) for name in names]
        for region, names in clock.zone_groups().items()
    }
    return form


def _settings_page(form: SettingsForm, icon_form: SiteIconForm, status: int = 200):
    """Render the settings screen: the settings form and the site icon's own form."""
    return (
        render_template(
            "admin/settings.html",
            form=form,
            icon_form=icon_form,
            icon=site_icon.links(),
            remove_icon_form=ActionForm(formdata=None),
        ),
        status,
    )


@bp.route("/settings/icon", methods=["POST"])
@permission_required(Permission.MANAGE_SETTINGS)
def site_icon_upload():
    """Make an uploaded square image the site's favicon and touch icon."""
    icon_form = SiteIconForm()
    if submitted(
        icon_form,
        lambda: site_icon.set_icon(current_user, icon_form.file.data),
        "The site icon is saved; every page shows it now.",
    ):
        return redirect(url_for("admin.settings"))
    return _settings_page(_settings_form(formdata=None), icon_form, 400)


@bp.route("/settings/icon/remove", methods=["POST"])
@permission_required(Permission.MANAGE_SETTINGS)
def site_icon_remove():
    """Go back to Circle's own icon."""
    return pressed(
        ActionForm(),
        lambda: site_icon.remove_icon(current_user),
        "The site uses Circle's own icon again.",
        url_for("admin.settings"),
    )


# --- Trash ----------------------------------------------------------------------


def _trash_page(empty_form: EmptyTrashForm, status: int = 200):
    """Render the trash."""
    return (
        render_template(
            "admin/trash.html",
            posts=trash_service.trashed_posts(),
            comments=trash_service.trashed_comments(),
            restore_form=ActionForm(formdata=None),
            empty_form=empty_form,
            confirm_word=trash_service.CONFIRM_WORD,
        ),
        status,
    )


@bp.route("/trash")
@permission_required(Permission.MANAGE_TRASH)
def trash():
    """Trashed posts and comments, restorable one by one or deleted all at once."""
    return _trash_page(EmptyTrashForm(formdata=None))


@bp.route("/trash/posts/<int:post_id>/restore", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRASH)
def restore_post(post_id: int):
    """Ask how a trashed post comes back (as it was, or as a draft), then restore it."""
    post = trash_service.trashed_post(post_id)
    if request.method == "GET":
        return render_template(
            "admin/restore_post.html",
            post=post,
            choices=trash_service.restore_choices(post),
            form=ActionForm(formdata=None),
        )
    status = request.form.get("status") or PostStatus.DRAFT
    return pressed(
        ActionForm(),
        lambda: trash_service.restore_post(current_user, post, status),
        lambda restored: f"“{restored.title}” is back, {RESTORED_AS[restored.status]}.",
        url_for("admin.trash"),
    )


@bp.route("/trash/comments/<int:comment_id>/restore", methods=["POST"])
@permission_required(Permission.MANAGE_TRASH)
def restore_comment(comment_id: int):
    """Take a comment out of the trash, held for moderation."""
    comment = trash_service.trashed_comment(comment_id)
    return pressed(
        ActionForm(),
        lambda: trash_service.restore_comment(current_user, comment),
        "The comment is back, waiting for moderation.",
        url_for("admin.trash"),
    )


@bp.route("/trash/empty", methods=["POST"])
@permission_required(Permission.MANAGE_TRASH)
def empty_trash():
    """Delete everything in the trash for good, once EMPTY is typed."""
    form = EmptyTrashForm()
    if submitted(
        form,
        lambda: trash_service.empty_trash(current_user, form.confirm.data),
        lambda counts: f"The trash is empty: {counts['posts']} post(s) and "
        f"{counts['comments']} comment(s) deleted for good.",
    ):
        return redirect(url_for("admin.trash"))
    return _trash_page(form, 400)


# --- Audit log ------------------------------------------------------------------


@bp.route("/audit")
@permission_required(Permission.VIEW_AUDIT)
def audit_log():
    """Who did what, when and from where, in sentences; editors see their sections only."""
    form = AuditFilterForm()
    since, until = form.day("since"), form.day("until")
    pagination = audit.entries_page(
        current_user,
        page=page_number(),
        per_page=AUDIT_PER_PAGE,
        action=(form.action.data or "").strip(),
        actor=(form.person.data or "").strip(),
        section_id=id_from(form.section.data),
        target_type=(form.type.data or "").strip(),
        since=since,
        until=until,
    )
    # The choices offered are those of the entries this person may read.
    actions = audit.actions_for(current_user)
    sections = audit.sections_for(current_user)
    form.action.choices = choices(
        [("", "Any action"), *((a, audit.action_label(a)) for a in actions)]
    )
    form.person.choices = choices([("", "Anyone"), *audit.people_for(current_user)])
    form.section.choices = choices([("", "Any section"), *((s.id, s.name) for s in sections)])
    types = TARGET_TYPES if current_user.can(Permission.MANAGE_USERS) else TARGET_TYPES[:-1]
    form.type.choices = choices([("", "Anything"), *types])
    filters = {
        key: value
        for key in ("action", "person", "section", "type", "since", "until")
        if (value := (request.args.get(key) or "").strip())
    }
    return render_template(
        "admin/audit.html",
        form=form,
        pagination=pagination,
        entries=pagination.items,
        sentences=audit.sentences_for(pagination.items),
        section_names={s.id: s.name for s in reading.navigation_sections()},
        filters=filters,
    )
