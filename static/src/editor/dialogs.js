/* The editor's dialogs: link, image (with alt text) and video embed.

   Each is a <dialog> opened with showModal(), so focus moves into it and Escape
   closes it; they sit outside the post's form (forms do not nest). */
import { EMBED_PROVIDERS } from "./schema.js";

let counter = 0;

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.keys(attrs || {}).forEach((name) => {
    if (name === "className") { node.className = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
  });
  if (text) { node.textContent = text; }
  return node;
}

function labelled(labelText, input, hint) {
  counter += 1;
  input.id = input.id || "desk-dialog-field-" + counter;
  const wrap = el("div", { className: "field" });
  wrap.appendChild(el("label", { for: input.id }, labelText));
  wrap.appendChild(input);
  if (hint) {
    const note = el("p", { className: "field__hint", id: input.id + "-hint" }, hint);
    input.setAttribute("aria-describedby", note.id);
    wrap.appendChild(note);
  }
  return wrap;
}

/* A modal dialog with a title, the given fields, an error line and buttons.
   onSubmit returns a message to show (and stays open), a Promise of one, or nothing. */
function openDialog({ title, fields, submitLabel, extraButtons, onSubmit, returnFocus }) {
  counter += 1;
  const dialog = el("dialog", { className: "desk-dialog", "aria-labelledby": "desk-dialog-title-" + counter });
  const form = el("form", { method: "dialog", novalidate: "" });
  form.appendChild(el("h2", { id: "desk-dialog-title-" + counter }, title));
  fields.forEach((node) => form.appendChild(node));
  const error = el("p", { className: "desk-dialog__error", role: "alert" });
  form.appendChild(error);
  const buttons = el("div", { className: "desk-dialog__buttons" });
  const submit = el("button", { type: "submit", className: "button" }, submitLabel);
  const cancel = el("button", { type: "button", className: "button button--quiet" }, "Cancel");
  buttons.appendChild(submit);
  (extraButtons || []).forEach((button) => buttons.appendChild(button));
  buttons.appendChild(cancel);
  form.appendChild(buttons);
  dialog.appendChild(form);
  document.body.appendChild(dialog);

  function close() {
    dialog.close();
    dialog.remove();
    if (returnFocus) { returnFocus(); }
  }
  cancel.addEventListener("click", close);
  dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    Promise.resolve(onSubmit()).then((message) => {
      submit.disabled = false;
      if (message) { error.textContent = message; } else { close(); }
    }, (failure) => {
      submit.disabled = false;
      error.textContent = String(failure && failure.message ? failure.message : failure);
    });
  });
  dialog.showModal();
  return { dialog, close };
}

export function linkDialog({ href, title, onApply, onRemove, returnFocus }) {
  const url = el("input", { type: "url", name: "href", autocomplete: "off" });
  url.value = href || "";
  const titleInput = el("input", { type: "text", name: "title", autocomplete: "off" });
  titleInput.value = title || "";
  const remove = el("button", { type: "button", className: "button button--quiet" }, "Remove link");
  const opened = openDialog({
    title: href ? "Edit link" : "Add a link",
    fields: [labelled("Link address (URL)", url), labelled("Title (optional)", titleInput)],
    submitLabel: "Apply",
    extraButtons: href ? [remove] : [],
    returnFocus,
    onSubmit: () => {
      const value = url.value.trim();
      if (!value) { return "Type the address the link goes to."; }
      onApply(value, titleInput.value.trim() || null);
      return null;
    },
  });
  remove.addEventListener("click", () => { onRemove(); opened.close(); });
}

/* Ask for an image (a file to upload or an address) and its alt text. Alt text may
   be empty only when the writer marks the image as decorative. */
export function imageDialog({ uploadUrl, csrfToken, current, onInsert, returnFocus }) {
  const fields = [];
  const file = el("input", { type: "file", name: "file", accept: "image/jpeg,image/png,image/gif,image/webp" });
  const address = el("input", { type: "url", name: "src", autocomplete: "off" });
  if (!current) {
    if (uploadUrl) { fields.push(labelled("Upload an image", file, "JPEG, PNG, GIF or WebP.")); }
    fields.push(labelled(uploadUrl ? "Or the image's address (URL)" : "The image's address (URL)", address));
  }
  const alt = el("input", { type: "text", name: "alt", autocomplete: "off" });
  alt.value = current && current.alt ? current.alt : "";
  fields.push(labelled("Alt text", alt, "What the image shows, for people who cannot see it."));
  const decorative = el("input", { type: "checkbox", name: "decorative" });
  decorative.checked = Boolean(current && current.alt === "");
  const decorativeLabel = el("label", { className: "checkbox" });
  decorativeLabel.append(decorative, " Decorative image: no alt text");
  fields.push(decorativeLabel);
  function syncDecorative() {
    alt.disabled = decorative.checked;
    if (decorative.checked) { alt.value = ""; }
  }
  decorative.addEventListener("change", syncDecorative);
  syncDecorative();

  openDialog({
    title: current ? "Image description" : "Insert an image",
    fields,
    submitLabel: current ? "Save" : "Insert image",
    returnFocus,
    onSubmit: () => {
      const text = alt.value.replace(/\s+/g, " ").trim();
      if (!text && !decorative.checked) {
        return "Describe the image in the alt text, or tick “Decorative image”.";
      }
      const altValue = decorative.checked ? "" : text;
      if (current) { onInsert({ alt: altValue }); return null; }
      const chosen = file.files && file.files[0];
      const src = address.value.trim();
      if (chosen) { return upload(uploadUrl, csrfToken, chosen, altValue).then((reply) => { onInsert(reply); return null; }); }
      if (!src) { return "Choose an image to upload or give its address."; }
      if (!/^(https?:\/\/|\/)/i.test(src)) { return "The image's address must start with https:// or /."; }
      onInsert({ src, alt: altValue, width: null, height: null });
      return null;
    },
  });
}

function upload(url, token, file, alt) {
  if (!/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
    return Promise.resolve().then(() => { throw new Error("Only JPEG, PNG, GIF and WebP images can be added."); });
  }
  const data = new FormData();
  data.append("file", file);
  data.append("alt", alt);
  return fetch(url, { method: "POST", body: data, headers: { "X-CSRFToken": token }, credentials: "same-origin" })
    .then((response) => response.json().catch(() => ({})).then((reply) => {
      if (!response.ok || !reply.url) {
        throw new Error((reply.error && reply.error.message) || "The image could not be uploaded.");
      }
      return { src: reply.url, alt, width: reply.width || null, height: reply.height || null };
    }), () => { throw new Error("The image could not be uploaded: no connection."); });
}

/* A YouTube or Vimeo address as {provider, videoId}, or null. */
export function parseVideoUrl(text) {
  let url;
  try { url = new URL(text.trim()); } catch (e) { return null; }
  if (!/^https?:$/.test(url.protocol)) { return null; }
  const host = url.hostname.replace(/^(www\.|m\.)/, "");
  const parts = url.pathname.split("/").filter(Boolean);
  let found = null;
  if (host === "youtube.com" || host === "youtube-nocookie.com") {
    if (parts[0] === "watch") { found = { provider: "youtube", videoId: url.searchParams.get("v") || "" }; }
    else if (["embed", "shorts", "live", "v"].includes(parts[0]) && parts[1]) { found = { provider: "youtube", videoId: parts[1] }; }
  } else if (host === "youtu.be" && parts[0]) {
    found = { provider: "youtube", videoId: parts[0] };
  } else if (host === "vimeo.com" && parts.length) {
    found = { provider: "vimeo", videoId: parts[parts.length - 1] };
  } else if (host === "player.vimeo.com" && parts[0] === "video" && parts[1]) {
    found = { provider: "vimeo", videoId: parts[1] };
  }
  if (!found || !EMBED_PROVIDERS[found.provider].idPattern.test(found.videoId)) { return null; }
  return found;
}

export function embedDialog({ onInsert, returnFocus }) {
  const address = el("input", { type: "url", name: "video", autocomplete: "off" });
  openDialog({
    title: "Embed a video",
    fields: [labelled("Video address (YouTube or Vimeo)", address, "Readers see a poster; the video loads only when they press play.")],
    submitLabel: "Embed video",
    returnFocus,
    onSubmit: () => {
      const found = parseVideoUrl(address.value);
      if (!found) { return "Only YouTube and Vimeo videos can be embedded: paste the address of a video on one of them."; }
      onInsert(found);
      return null;
    },
  });
}
