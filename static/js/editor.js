/* The writing desk: Trix on top of a plain textarea, and image uploads dropped into
   the editor. Saving (autosave, the copy kept in the browser, the warning before
   leaving) is keeper.js's job; this script follows the desk contract: the hidden
   `body` field carries the HTML and gets an `input` event after every change, and
   `circle:body-set` on it loads new HTML into the editor.
   Without this script the page is an ordinary form that still saves. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  /* The sanitiser keeps <figure><img><figcaption> but not Trix's data-trix-*
     attributes, and Trix reads a bare figcaption as body text under the image
     (and a link around the image as a link around that text). Mark each stored
     figure as an attachment again, its caption as the attachment's caption.
     DOMParser's document is inert: nothing in it loads or runs. */
  function withTrixFigures(html) {
    if (!html || html.indexOf("<figure") === -1 || !window.DOMParser) { return html; }
    var doc = new DOMParser().parseFromString(html, "text/html");
    Array.prototype.forEach.call(doc.body.querySelectorAll("figure"), function (figure) {
      var img = figure.querySelector("img");
      if (!img || figure.hasAttribute("data-trix-attachment")) { return; }
      var attachment = { contentType: "image", url: img.getAttribute("src") };
      ["width", "height"].forEach(function (name) {
        var size = parseInt(img.getAttribute(name), 10);
        if (size > 0) { attachment[name] = size; }
      });
      var attributes = { presentation: "gallery" };
      var caption = figure.querySelector("figcaption");
      var text = caption ? caption.textContent.replace(/\s+/g, " ").trim() : "";
      if (text) { attributes.caption = text; }
      figure.setAttribute("data-trix-attachment", JSON.stringify(attachment));
      figure.setAttribute("data-trix-content-type", "image");
      figure.setAttribute("data-trix-attributes", JSON.stringify(attributes));
    });
    return doc.body.innerHTML;
  }

  /* Swap the textarea for Trix: a hidden input carries the HTML under the same name. */
  function upgradeBody(form) {
    var textarea = form.querySelector("textarea[data-rich-text]");
    if (!textarea || !window.customElements || !window.customElements.get("trix-editor")) { return null; }
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = textarea.name;
    hidden.id = textarea.id + "-html";
    hidden.value = withTrixFigures(textarea.value);
    var editor = document.createElement("trix-editor");
    editor.setAttribute("input", hidden.id);
    editor.setAttribute("aria-labelledby", textarea.id + "-label");
    editor.className = "trix-content body-editor";
    var label = form.querySelector("label[for='" + textarea.id + "']");
    if (label) { label.id = textarea.id + "-label"; }
    textarea.removeAttribute("name");
    textarea.hidden = true;
    textarea.parentNode.insertBefore(hidden, textarea);
    textarea.parentNode.insertBefore(editor, textarea);
    return editor;
  }

  function setStatus(text) {
    var status = document.getElementById("autosave-status");
    if (status) { status.textContent = text; }
  }

  function uploadAttachment(form, attachment) {
    var url = form.getAttribute("data-upload-url");
    if (!url) { attachment.remove(); setStatus("Images cannot be uploaded here."); return; }
    var data = new FormData();
    data.append("file", attachment.file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url, true);
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { attachment.setUploadProgress(event.loaded / event.total * 100); }
    });
    xhr.addEventListener("load", function () {
      var reply = {};
      try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = {}; }
      if (xhr.status === 200 && reply.url) {
        /* No href: a link around the image would have no name (the image's
           alt is empty until described) and would swallow its caption. */
        attachment.setAttributes({ url: reply.url });
        setStatus("Image uploaded.");
      } else {
        attachment.remove();
        setStatus((reply.error && reply.error.message) || "The image could not be uploaded.");
      }
    });
    xhr.addEventListener("error", function () { attachment.remove(); setStatus("The image could not be uploaded."); });
    xhr.send(data);
  }

  /* Trix defines <trix-editor> in a setTimeout after its script runs, so this
     deferred script, which runs right after it, must wait for the definition.
     Without Trix (blocked or missing) the textarea stays and autosave still runs. */
  function whenEditorDefined(fn) {
    var registry = window.customElements;
    if (!window.Trix || !registry || registry.get("trix-editor")) { fn(); return; }
    registry.whenDefined("trix-editor").then(fn, fn);
  }

  /* The sanitiser keeps h2-h4 only: Trix's one heading level is written as <h2>. */
  function configureTrix() {
    if (!window.Trix || !window.Trix.config) { return; }
    window.Trix.config.blockAttributes.heading1.tagName = "h2";
    /* Paragraphs as <p>, not one <div> with <br> lines, so articles keep their rhythm. */
    window.Trix.config.blockAttributes.default.tagName = "p";
    window.Trix.config.blockAttributes.default.breakOnReturn = true;
    /* Trix captions new images with their file name and size; readers should
       see only a caption the writer typed. */
    window.Trix.config.attachments.preview.caption = { name: false, size: false };
  }

  ready(function () {
    var form = document.querySelector("form.desk__form");
    if (!form) { return; }
    configureTrix();
    whenEditorDefined(function () { start(form); });
  });

  function start(form) {
    var editor = upgradeBody(form);
    document.addEventListener("trix-attachment-add", function (event) {
      if (event.attachment.file) { uploadAttachment(form, event.attachment); }
    });
    document.addEventListener("trix-file-accept", function (event) {
      if (!/^image\/(jpeg|png|gif|webp)$/.test(event.file.type)) {
        event.preventDefault();
        setStatus("Only JPEG, PNG, GIF and WebP images can be added.");
      }
    });
    if (editor) {
      var field = form.querySelector("#" + editor.getAttribute("input"));
      var loading = false;
      editor.setAttribute("data-body-editor", "");
      editor.addEventListener("trix-change", function () {
        /* After Trix has finished its own work on this change (its event runs inside it). */
        if (!loading) { window.setTimeout(function () { field.dispatchEvent(new Event("input", { bubbles: true })); }, 0); }
      });
      field.addEventListener("circle:body-set", function () {
        loading = true;
        editor.editor.loadHTML(withTrixFigures(field.value));
        loading = false;
      });
      editor.setAttribute("data-ready", "true");
    }
    form.dataset.editorReady = "true";
    form.dispatchEvent(new CustomEvent("circle:editor-ready"));
  }
}());
