/* The writing desk's rich editor (Tiptap on ProseMirror), bundled by esbuild into
   static/vendor/desk/editor.js (see the Makefile's `node` target).

   It stands in for the body textarea, which stays in the form (hidden) as the
   field that is saved: after every change its value is the body HTML and an
   `input` event bubbles from it. Another script may replace the body by setting
   the textarea's value and dispatching `circle:body-set` on it. Saving, autosave
   and warnings before leaving are static/js/keeper.js's affair, not this file's.
   Without this script the page is the plain textarea, and still saves. */
import { Editor, getSchema } from "@tiptap/core";
import "./editor.css";
import { embedDialog, imageDialog, linkDialog } from "./dialogs.js";
import { extensions } from "./schema.js";
import { documentFor, storedHtml } from "./serialize.js";
import { mountPreview, mountStats } from "./stats.js";
import { mountToolbar } from "./toolbar.js";

function csrfToken(form) {
  const input = form.querySelector("input[name=csrf_token]");
  return input ? input.value : "";
}

function start(form) {
  const field = form.querySelector("textarea[data-rich-text]");
  if (!field) { return; }
  const label = form.querySelector("label[for='" + field.id + "']");
  if (label && !label.id) { label.id = field.id + "-label"; }

  const wrapper = document.createElement("div");
  wrapper.className = "desk-editor";
  const surface = document.createElement("div");
  surface.className = "desk-editor__frame";
  const kit = extensions();
  const editor = new Editor({
    element: surface,
    extensions: kit,
    injectCSS: false,
    content: documentFor(getSchema(kit), field.value),
    editorProps: {
      attributes: {
        id: field.id + "-editor",
        class: "desk-editor__surface body-editor",
        role: "textbox",
        "aria-multiline": "true",
        "aria-labelledby": label ? label.id : "",
        "data-body-editor": "",
      },
    },
  });
  const editing = editor.view.dom;

  const returnFocus = () => editor.commands.focus();
  const actions = {
    link: (e) => {
      const attrs = e.getAttributes("link");
      linkDialog({
        href: attrs.href,
        title: attrs.title,
        returnFocus,
        onApply: (href, title) => {
          if (e.state.selection.empty && !e.isActive("link")) {
            e.chain().focus().insertContent({ type: "text", text: href, marks: [{ type: "link", attrs: { href, title } }] }).run();
          } else {
            e.chain().focus().extendMarkRange("link").setLink({ href, title }).run();
          }
        },
        onRemove: () => e.chain().focus().extendMarkRange("link").unsetLink().run(),
      });
    },
    image: (e) => imageDialog({
      uploadUrl: form.getAttribute("data-upload-url"),
      csrfToken: csrfToken(form),
      returnFocus,
      onInsert: (image) => e.chain().focus().insertContent({ type: "figure", attrs: image }).run(),
    }),
    embed: (e) => embedDialog({
      returnFocus,
      onInsert: (video) => e.chain().focus().insertContent({ type: "embed", attrs: video }).run(),
    }),
  };
  const toolbar = mountToolbar(editor, editing, actions);

  /* "Alt text" on a figure in the editor: describe the image again. */
  wrapper.addEventListener("circle:edit-image", (event) => {
    const pos = event.detail.pos;
    const node = editor.state.doc.nodeAt(pos);
    if (!node) { return; }
    imageDialog({
      current: node.attrs,
      returnFocus,
      onInsert: ({ alt }) => editor.chain().focus().command(({ tr }) => {
        tr.setNodeMarkup(pos, undefined, { ...node.attrs, alt });
        return true;
      }).run(),
    });
  });

  wrapper.append(toolbar, surface);
  field.hidden = true;
  field.parentNode.insertBefore(wrapper, field);
  const hint = field.parentNode.querySelector(".field__hint");
  if (hint) { hint.textContent = "Headings, lists, quotes, tables, images with alt text and captions, and YouTube or Vimeo videos."; }

  const showStats = mountStats(form, wrapper);
  const showPreview = mountPreview(form, () => field.value);

  /* The field holds what the editor holds, from the start. */
  field.value = storedHtml(editor.getHTML());
  showStats(field.value);

  editor.on("update", () => {
    const html = storedHtml(editor.getHTML());
    if (html === field.value) { return; }
    field.value = html;
    showStats(html);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
  field.addEventListener("circle:body-set", () => {
    editor.commands.setContent(documentFor(editor.schema, field.value), { emitUpdate: false });
    field.value = storedHtml(editor.getHTML());
    showStats(field.value);
    showPreview();
  });

  form.dataset.editorReady = "true";
  form.dispatchEvent(new CustomEvent("circle:editor-ready", { bubbles: true }));
}

function ready() {
  const form = document.querySelector("form.desk__form");
  if (form) { start(form); }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", ready);
} else {
  ready();
}
