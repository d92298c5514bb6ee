"""Writing desk views: thin wrappers around the desk and publishing services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from wtforms import SelectChoice

from ..errors import error_response, wants_json
from ..forms import id_from, page_number, set_library_choices, show_service_error
from ..hosts import absolute_url
from ..models import Permission, Post, PostStatus, utcnow
from ..permissions import (
    can_choose_author,
    can_edit,
    can_publish,
    can_set_coauthors,
    may_manage_pages,
    permission_required,
)
from ..services import (
    Forbidden,
    NotFound,
    ServiceError,
    StorageFull,
    bylines,
    clock,
    desk,
    newsletter,
    pages,
    publishing,
    reading,
)
from ..services import dashboard as dashboard_service
from ..services import media as media_service
from .forms import (
    ActionForm,
    BulkForm,
    PostForm,
    ScheduleForm,
    SendBackForm,
    custom_fields_from,
    offer_empty_custom_fields,
)

bp = Blueprint("editor", __name__)


@bp.context_processor
def desk_context() -> dict:
    """The reading speed the editor page's word count uses, the server's own; whether the
    person may manage pages (the desk's "Pages" link) and who may change a byline."""
    return {
        "words_per_minute": desk.WORDS_PER_MINUTE,
        "may_manage_pages": may_manage_pages(current_user),
        "may_choose_author": lambda post: (
            can_choose_author(current_user, post)
            if post is not None
            else current_user.can(Permission.EDIT_ANY)
        ),
        "may_set_coauthors": lambda post: can_set_coauthors(current_user, post),
    }


def _load(post_id: int, edit: bool = False) -> Post:
    """Fetch a post for the signed-in person: 404 if hidden from them, 403 if read-only."""
    return desk.get_post_for(current_user, post_id, edit=edit)


def _fill_choices(form: PostForm) -> PostForm:
    """Offer the sections a post can be filed under and the library images for its cover."""
    form.category.choices = [
        SelectChoice(s.id, s.name) for s in reading.navigation_sections()
    ]
    set_library_choices(form.cover_media_id, media_service.cover_choices(form.cover_media_id.data))
    if current_user.can(Permission.EDIT_ANY):
        form.author.choices = [
            SelectChoice(person.id, f"{person.name} (@{person.username})")
            for person in bylines.writers(including=form.author.data)
        ]
    if form.author.data is None:
        form.author.data = current_user.id
    return form


def _draft_from(form: PostForm) -> desk.PostDraft:
    """Read the desk form into the service's draft."""
    return desk.PostDraft(
        title=form.title.data or "",
        body=form.body.data or "",
        excerpt=form.excerpt.data or "",
        category_id=form.category.data,
        tags=desk.split_tags(form.tags.data),
        slug=form.slug.data or "",
        cover_media_id=form.cover_media_id.data,
        cover_alt=form.cover_alt.data or "",
        seo_title=form.seo_title.data or "",
        seo_description=form.seo_description.data or "",
        featured=form.featured.data if "featured" in request.form else False,
        # Fields left off the page (not shown to this person) keep the byline as it is.
        author_id=form.author.data if "author" in request.form else None,
        coauthors=(
            bylines.split_usernames(form.coauthors.data) if "coauthors" in request.form else None
        ),
        custom_fields=custom_fields_from(form),
    )


def _version_of(form) -> int | None:
    """The version number the page was showing, if it sent one."""
    return id_from(form.version.data)


@bp.route("/")
@permission_required(Permission.WRITE)
def dashboard():
    """My drafts, my posts in review, scheduled and recently published posts.

    The desk shows the newest ten published; older pages of them are in All posts.
    """
    if "page" in request.args:
        return redirect(
            url_for("editor.all_posts", status="published", sort="published", page=page_number())
        )
    return render_template(
        "editor/dashboard.html", desk=dashboard_service.desk_for(current_user)
    )


@bp.route("/posts/new", methods=["GET", "POST"])
@permission_required(Permission.WRITE)
def new_post():
    """Start a post (the desk's script sends the same form and asks for JSON)."""
    form = PostForm()
    _fill_choices(form)
    if not form.is_submitted():
        offer_empty_custom_fields(form)
    return _create_and_answer(form, lambda: desk.create_draft(current_user, _draft_from(form)))


def _create_and_answer(form, create: Callable[[], Post]):
    """Start a post or a page from the new-item form; answer with JSON, the editor of the
    new draft, or the form again with what was wrong."""
    if form.validate_on_submit():
        try:
            made = create()
        except ServiceError as error:
            if wants_json():
                return _refused(error)
            show_service_error(form, error)
        else:
            flash("Draft saved.", "success")
            if wants_json():
                return _saved(made, status=201)
            return redirect(_edit_address(made))
    elif form.is_submitted() and wants_json():
        return _invalid(form)
    status = 400 if form.is_submitted() else 200
    return render_template("editor/edit.html", form=form, post=None), status


def _render_editor(post: Post, form: PostForm, status: int = 200):
    """Render the editor page for an existing post."""
    return (
        render_template(
            "editor/edit.html",
            form=form,
            post=post,
            may_publish=can_publish(current_user, post),
            may_send_newsletter=newsletter.may_send(current_user, post),
            may_review=current_user.can(Permission.REVIEW, post),
            action_form=ActionForm(formdata=None, version=post.version),
            schedule_form=ScheduleForm(
                formdata=None,
                version=post.version,
                # A scheduled post's time is shown back as typed: in the site's zone.
                publish_at=clock.for_input(post.published_at)
                if post.status == PostStatus.SCHEDULED
                else None,
            ),
            send_back_form=SendBackForm(formdata=None, version=post.version),
            autosaved=desk.pending_autosave(post, current_user),
            zone=clock.site_zone(),
        ),
        status,
    )


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.WRITE)
def edit_post(post_id: int):
    """Edit a post; a save based on an old version shows the conflict page.

    The desk's script sends the form asking for JSON and moves on only when it is saved;
    without the script, a save that is refused shows the writer's text again.
    """
    if request.method == "GET":
        post = _load(post_id, edit=True)
        if post.is_page:
            return redirect(url_for("editor.edit_page", page_id=post.id))
        form = PostForm(obj=post)
        # obj's own attributes win over keyword values, so set these after.
        form.category.data = post.category_id
        form.tags.data = ", ".join(tag.name for tag in post.tags)
        # A derived excerpt is not the writer's: the field stays empty (the opening words
        # are used), so saving the page does not turn it into a written one.
        form.excerpt.data = post.excerpt if post.excerpt_written else ""
        form.version.data = post.version
        form.author.data = post.author_id
        form.coauthors.data = ", ".join(person.username for person in post.coauthors)
        _fill_choices(form)
        offer_empty_custom_fields(form)
        return _render_editor(post, form)
    form = PostForm()
    _fill_choices(form)
    try:
        post = _load(post_id, edit=True)
    except Forbidden as error:
        if wants_json():
            return _refused(error, post_id)
        return _as_new_post(form, error.message, 403)
    if not form.validate_on_submit():
        return _invalid(form) if wants_json() else _render_editor(post, form, 400)
    return _save_and_answer(post, form, _draft_from(form))


def _save_and_answer(post: Post, form, draft: desk.PostDraft):
    """Save the desk's form over a post or page; answer with JSON, the conflict page, the
    form with its errors, or the editor again."""
    try:
        desk.save_post(current_user, post, draft, _version_of(form) or -1)
    except ServiceError as error:
        if wants_json():
            return _refused(error, post.id)
        if isinstance(error, desk.Conflict):
            return _conflict_page(error, form)
        if isinstance(error, Forbidden | NotFound | StorageFull):
            raise
        show_service_error(form, error)
        return _render_editor(post, form, 400)
    flash("Saved.", "success")
    if wants_json():
        return _saved(post)
    return redirect(_edit_address(post))


def _edit_address(post: Post) -> str:
    """Where a post or a page is edited."""
    if post.is_page:
        return url_for("editor.edit_page", page_id=post.id)
    return url_for("editor.edit_post", post_id=post.id)


def _as_new_post(form: PostForm, message: str, status: int):
    """The writer's text in the new-post form, when it can no longer be saved over its post."""
    form.slug.data = ""
    flash(message, "warning")
    return render_template("editor/edit.html", form=form, post=None), status


# -- The keeper's answers (static/js/keeper.js) ---------------------------------------------


def _saved(post: Post, when: datetime | None = None, status: int = 200):
    """Tell the page its text is stored: the post's version and where to go on saving it."""
    saved_at = clock.to_site(when or utcnow())
    if post.is_page:
        autosave_url = url_for("editor.autosave_page", page_id=post.id)
    else:
        autosave_url = url_for("editor.autosave", post_id=post.id)
    return (
        jsonify(
            post_id=post.id,
            version=post.version,
            status=post.status,
            saved_at=saved_at.strftime("%H:%M:%S"),
            edit_url=_edit_address(post),
            autosave_url=autosave_url,
        ),
        status,
    )


def _invalid(form: PostForm):
    """400: the form cannot be saved as it stands; say which field and why."""
    fields = {name: errors[0] for name, errors in form.errors.items() if errors}
    first = next(iter(fields.values()), "the form is incomplete")
    label = next((form[name].label.text for name in fields if name in form), "")
    message = f"Not saved yet: {label + ': ' if label else ''}{first}"
    return error_response(400, message, fields, as_json=True, reason="invalid")


def _post_link(post_id: int | None) -> str | None:
    """Where the writer can see a post they may no longer change (None when they cannot)."""
    if post_id is None:
        return None
    try:
        post = desk.get_post_for(current_user, post_id)
    except NotFound:
        return None
    if post.is_page and post.is_live():
        return url_for("public.page", slug=post.slug)
    if post.is_live():
        return url_for("public.post", section_slug=post.category.slug, post_slug=post.slug)
    return url_for("editor.preview", post_id=post.id)


def _refused(error: ServiceError, post_id: int | None = None):
    """A refused save as JSON: what happened and the ways on (the page keeps the text)."""
    if isinstance(error, desk.Conflict):
        return error_response(
            409,
            "Someone else saved this post while you were editing. Nothing was overwritten.",
            as_json=True,
            reason="conflict",
            current_version=error.post.version,
            revisions_url=url_for("editor.revisions", post_id=error.post.id),
            copy_url=url_for("editor.draft_json"),
        )
    if isinstance(error, Forbidden | NotFound):
        return error_response(
            403 if isinstance(error, Forbidden) else 404,
            error.message,
            as_json=True,
            reason="forbidden" if isinstance(error, Forbidden) else "not_found",
            post_url=_post_link(post_id),
            copy_url=url_for("editor.draft_json"),
        )
    if isinstance(error, StorageFull):
        return error_response(507, error.message, as_json=True, reason="storage_full")
    fields = {error.field: error.message} if error.field else {}
    return error_response(400, error.message, fields, as_json=True, reason="invalid")


def _untitled(form: PostForm) -> None:
    """A script's save with no title yet keeps the text under a placeholder title."""
    if not (form.title.data or "").strip():
        form.title.data = UNTITLED


UNTITLED = "Untitled draft"


@bp.route("/posts/draft.json", methods=["POST"])
@permission_required(Permission.WRITE)
def draft_json():
    """Create a draft from the desk's form, for its script; answer where to go on saving.

    A new post's first autosave comes here; so does text that could not be saved over its
    post (copy_of names that post), kept as a new draft of the writer's own.
    """
    form = PostForm()
    _fill_choices(form)
    _untitled(form)
    if not form.validate_on_submit():
        return _invalid(form)
    source = id_from(request.form.get("copy_of"))
    try:
        if source:
            post = desk.save_as_new_draft(current_user, _draft_from(form), source)
        else:
            post = desk.create_draft(current_user, _draft_from(form))
    except ServiceError as error:
        return _refused(error)
    if source:
        flash("Your text is saved as a new draft.", "success")  # the script opens it next
    return _saved(post, status=201)


@bp.route("/csrf.json")
@permission_required(Permission.WRITE)
def csrf_json():
    """A fresh CSRF token for the desk's script, after the page's one expired."""
    return jsonify(csrf_token=generate_csrf())


def _conflict_page(conflict: desk.Conflict, form: PostForm):
    """Show their saved version beside the writer's unsaved one; nothing is lost."""
    theirs = conflict.post
    form.version.data = str(theirs.version)
    mine_body = desk.draft_body_preview(conflict.draft)
    differences = desk.compare(theirs, _Unsaved(conflict.draft.title, form.excerpt.data or "",
                                                 mine_body))
    return (
        render_template(
            "editor/conflict.html",
            post=theirs,
            form=form,
            mine_body=mine_body,
            differences=differences,
        ),
        409,
    )


class _Unsaved:
    """The writer's unsaved text, shaped like a revision for comparison."""

    def __init__(self, title: str, excerpt: str, body: str):
        self.title, self.excerpt, self.body = title, excerpt, body


@bp.route("/posts/<int:post_id>/autosave", methods=["POST"])
@permission_required(Permission.WRITE)
def autosave(post_id: int):
    """Keep unsaved work (called by the desk's script after each pause in typing)."""
    form = PostForm()
    _fill_choices(form)
    _untitled(form)
    if not form.validate_on_submit():
        return _invalid(form)
    try:
        post = _load(post_id, edit=True)
        post, revision = desk.autosave(
            current_user, post, _draft_from(form), _version_of(form) or -1
        )
    except ServiceError as error:
        return _refused(error, post_id)
    return _saved(post, revision.created_at)


@bp.route("/posts/<int:post_id>/revisions")
@permission_required(Permission.WRITE)
def revisions(post_id: int):
    """Every saved state of a post, with who saved it and when."""
    post = _load(post_id)
    return render_template(
        "editor/revisions.html",
        post=post,
        revisions=desk.revisions_of(post),
        may_edit=can_edit(current_user, post),
        action_form=ActionForm(formdata=None, version=post.version),
    )


@bp.route("/posts/<int:post_id>/revisions/compare")
@permission_required(Permission.WRITE)
def compare_revisions(post_id: int):
    """A word-by-word comparison of two revisions."""
    post = _load(post_id)
    older = desk.get_revision(post, id_from(request.args.get("a")) or 0)
    newer = desk.get_revision(post, id_from(request.args.get("b")) or 0)
    if older.id > newer.id:
        older, newer = newer, older
    return render_template(
        "editor/compare.html",
        post=post,
        older=older,
        newer=newer,
        differences=desk.compare(older, newer),
    )


@bp.route("/posts/<int:post_id>/revisions/<int:revision_id>/restore", methods=["POST"])
@permission_required(Permission.WRITE)
def restore_revision(post_id: int, revision_id: int):
    """Bring back an older revision's text as a new revision."""
    post = _load(post_id, edit=True)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    revision = desk.get_revision(post, revision_id)
    try:
        desk.restore_revision(current_user, post, revision, _version_of(form) or post.version)
    except ServiceError as error:  # a Conflict too: its message says what happened
        show_service_error(None, error)
        return redirect(url_for("editor.revisions", post_id=post.id))
    flash(f"Revision {revision_id} restored.", "success")
    return redirect(url_for("editor.edit_post", post_id=post.id))


@bp.route("/posts/<int:post_id>/preview")
@permission_required(Permission.WRITE)
def preview(post_id: int):
    """The post exactly as readers will see it, drafts too."""
    post = _load(post_id)
    return _render_preview(post, share_form=ActionForm(formdata=None))


def _render_preview(post: Post, share_form=None, share_link: str | None = None):
    """Render the public article (or page) template for a post that may not be live."""
    if post.is_page:
        return render_template(
            "public/page.html",
            post=post,
            parents=pages.ancestors(post),
            preview=True,
            share_form=share_form,
            share_link=share_link,
        )
    older, newer = reading.adjacent_posts(post) if post.published_at else (None, None)
    return render_template(
        "public/post.html",
        post=post,
        older=older,
        newer=newer,
        related=[],
        jsonld=[],
        preview=True,
        share_form=share_form,
        share_link=share_link,
    )


@bp.route("/posts/<int:post_id>/share", methods=["POST"])
@permission_required(Permission.WRITE)
def share_preview(post_id: int):
    """Make a signed preview link that works for a week, for anyone who has it."""
    post = _load(post_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    token = publishing.preview_token(current_user, post)
    link = absolute_url("editor.shared_preview", token=token)
    return _render_preview(post, share_form=ActionForm(formdata=None), share_link=link)


@bp.route("/preview/<token>")
def shared_preview(token: str):
    """A shared preview link: no sign-in needed until it expires."""
    post = publishing.post_for_preview_token(token)
    return _render_preview(post)


def _status_action(
    post_id: int, action, success: str, form_class=ActionForm, extra=None, confirm=None
):
    """Run a publishing action from a small POST form and return to the editor.

    confirm: (question, may) for an action asked twice: the first POST shows a page
    that says what will happen (when the person may do it at all), the second does it.
    "{kind}" in the question and the success message reads "post" or "page".
    """
    post = _load(post_id)
    kind = "page" if post.is_page else "post"
    form = form_class()
    if confirm is not None and not request.form.get("confirmed"):
        question, may = confirm
        if not may(current_user, post):
            abort(403)
        return render_template(
            "editor/confirm.html",
            question=question.format(kind=kind),
            posts=[post],
            action=request.path,
            fields={"version": request.form.get("version", "")},
            back=_edit_address(post),
        )
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(_edit_address(post))
    try:
        action(current_user, post, version=_version_of(form), **(extra(form) if extra else {}))
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(success.format(kind=kind), "success")
    if request.form.get("return_to") == "queue" and current_user.can(Permission.REVIEW):
        return redirect(url_for("admin.index"))
    if can_edit(current_user, post):
        return redirect(_edit_address(post))
    return redirect(url_for("editor.dashboard"))


@bp.route("/posts/<int:post_id>/submit", methods=["POST"])
@permission_required(Permission.WRITE)
def submit(post_id: int):
    """Hand a draft to the editors."""
    return _status_action(post_id, publishing.submit_for_review, "Submitted for review.")


@bp.route("/posts/<int:post_id>/publish", methods=["POST"])
@permission_required(Permission.WRITE)
def publish(post_id: int):
    """Publish now."""
    return _status_action(post_id, publishing.publish_now, "Published.")


@bp.route("/posts/<int:post_id>/schedule", methods=["POST"])
@permission_required(Permission.WRITE)
def schedule(post_id: int):
    """Publish at a chosen time, read in the site's time zone."""

    def when(form: ScheduleForm) -> dict:
        return {"when": clock.from_site_input(form.publish_at.data)}

    return _status_action(post_id, publishing.schedule, "Scheduled.", ScheduleForm, when)


@bp.route("/posts/<int:post_id>/unpublish", methods=["POST"])
@permission_required(Permission.WRITE)
def unpublish(post_id: int):
    """Take a post back to draft."""
    return _status_action(
        post_id,
        publishing.unpublish,
        "Unpublished: the {kind} is a draft again.",
        confirm=("Unpublish this {kind}? Readers will no longer find it.", can_publish),
    )


@bp.route("/posts/<int:post_id>/send-back", methods=["POST"])
@permission_required(Permission.WRITE)
def send_back(post_id: int):
    """Return a post in review to its author with a note."""
    return _status_action(
        post_id,
        publishing.send_back,
        "Sent back to the author with your note.",
        SendBackForm,
        lambda form: {"note": form.note.data},
    )


@bp.route("/posts/<int:post_id>/trash", methods=["POST"])
@permission_required(Permission.WRITE)
def trash(post_id: int):
    """Move a post to the trash."""
    return _status_action(
        post_id,
        publishing.move_to_trash,
        "Moved to the trash.",
        confirm=("Move this {kind} to the trash? Only an admin can restore it.",
                 publishing.may_trash),
    )


# -- All posts -------------------------------------------------------------------------------

POSTS_PER_PAGE = 50
_SORT_NAMES = {"updated": "Last changed", "published": "Published", "title": "Title"}


def _post_query() -> dashboard_service.PostQuery:
    """Read All posts' search, filters and order from the query string."""
    args = request.args
    status = args.get("status", "")
    sort = args.get("sort", "updated")
    return dashboard_service.PostQuery(
        q=args.get("q", "")[:200],
        status=status if status in dict(dashboard_service.STATUS_TABS) else "",
        section=args.get("section", "")[:200],
        author=args.get("author", "")[:80],
        tag=args.get("tag", "")[:200],
        sort=sort if sort in _SORT_NAMES else "updated",
    )


def _bulk_form(formdata=None) -> BulkForm:
    """The bulk action form with its actions and sections to choose from."""
    form = BulkForm(formdata=formdata) if formdata is not None else BulkForm()
    form.action.choices = [("", "Choose an action"), *desk.BULK_ACTIONS.items()]
    form.section.choices = [("", "Choose a section")] + [
        (s.id, s.name) for s in reading.navigation_sections()
    ]
    return form


@bp.route("/posts")
@permission_required(Permission.WRITE)
def all_posts():
    """Every post the person may see, searched, filtered, sorted and paged."""
    query = _post_query()
    listing = dashboard_service.all_posts(
        current_user, query, page_number(), POSTS_PER_PAGE
    )
    form = _bulk_form(formdata=None)
    form.back.data = request.full_path
    kept = {
        name: value
        for name, value in vars(query).items()
        if value and not (name == "sort" and value == "updated")
    }
    return render_template(
        "editor/posts.html",
        kept=kept,
        unfiltered={name: value for name, value in kept.items() if name != "status"},
        listing=listing,
        query=query,
        tabs=dashboard_service.STATUS_TABS,
        sorts=_SORT_NAMES,
        sections=reading.navigation_sections(),
        form=form,
    )


def _back_to_list(raw: str | None) -> str:
    """Where a bulk action returns: the All posts page it came from, nowhere else."""
    list_url = url_for("editor.all_posts")
    if raw and (raw == list_url or raw.startswith(list_url + "?")):
        return raw
    return list_url


@bp.route("/posts/bulk", methods=["POST"])
@permission_required(Permission.WRITE)
def bulk():
    """Ask to confirm an action on the checked posts, then do it and say what was refused."""
    form = _bulk_form()
    back = _back_to_list(form.back.data)
    ids = [i for i in (id_from(raw) for raw in request.form.getlist("post")) if i]
    posts = desk.posts_for(current_user, ids)
    if not form.validate_on_submit() or not form.action.data:
        flash("Choose an action for the checked posts.", "error")
        return redirect(back)
    if not posts:
        flash("Check the posts to act on first.", "error")
        return redirect(back)
    action = form.action.data
    if not form.confirmed.data:
        try:
            target = desk.bulk_section(form.section.data) if action == "move" else None
        except ServiceError as error:
            show_service_error(None, error)
            return redirect(back)
        what = desk.BULK_ACTIONS.get(action, action)
        if target is not None:
            what = f"Move to {target.name}"
        elif action == "tag":
            what = f"Add the tag “{form.tag.data}”"
        return render_template(
            "editor/confirm.html",
            question=f"{what}: {len(posts)} post{'s' if len(posts) != 1 else ''}?",
            posts=posts,
            action=url_for("editor.bulk"),
            fields={
                "action": action,
                "section": form.section.data or "",
                "tag": form.tag.data or "",
                "back": back,
            },
            back=back,
        )
    try:
        outcome = desk.bulk_action(
            current_user, posts, action, section_id=form.section.data, tag=form.tag.data or ""
        )
    except ServiceError as error:
        show_service_error(None, error)
        return redirect(back)
    if outcome.done:
        count = len(outcome.done)
        flash(f"Done for {count} post{'s' if count != 1 else ''}.", "success")
    for line in outcome.refused:
        flash(line, "error")
    return redirect(back)
