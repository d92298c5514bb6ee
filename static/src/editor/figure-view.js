/* How a figure looks while editing: the image (or a box naming the video) and a
   caption that can always be typed in, even when it is empty and so not stored. */

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text) { node.textContent = text; }
  return node;
}

export class FigureView {
  constructor({ node, getPos, editor }, kind) {
    this.kind = kind;
    this.getPos = getPos;
    this.editor = editor;
    this.dom = el("figure", "desk-figure desk-figure--" + kind);
    this.frame = el("div", "desk-figure__frame");
    this.frame.contentEditable = "false";
    this.dom.appendChild(this.frame);
    if (kind === "image") {
      this.img = el("img");
      this.img.draggable = false;
      this.frame.appendChild(this.img);
      this.altButton = el("button", "desk-figure__alt button button--quiet", "Alt text");
      this.altButton.type = "button";
      this.altButton.addEventListener("click", () => {
        this.dom.dispatchEvent(new CustomEvent("circle:edit-image", { bubbles: true, detail: { pos: this.getPos() } }));
      });
      this.altNote = el("span", "desk-figure__alt-note");
      this.frame.appendChild(this.altButton);
      this.frame.appendChild(this.altNote);
    } else {
      this.video = el("p", "desk-figure__video");
      this.frame.appendChild(this.video);
    }
    this.contentDOM = el("figcaption", "desk-figure__caption");
    this.contentDOM.setAttribute("data-placeholder", "Caption (optional)");
    this.dom.appendChild(this.contentDOM);
    this.render(node);
  }

  render(node) {
    this.node = node;
    const attrs = node.attrs;
    if (this.kind === "image") {
      this.img.src = attrs.src || "";
      this.img.alt = attrs.alt || "";
      const described = attrs.alt === null ? "No alt text yet" : attrs.alt === "" ? "Decorative image" : "Alt text: " + attrs.alt;
      this.altNote.textContent = described;
      this.altButton.setAttribute("aria-label", "Edit alt text (" + described + ")");
    } else {
      const name = attrs.provider === "vimeo" ? "Vimeo" : "YouTube";
      this.video.textContent = name + " video " + attrs.videoId + " (shown to readers as a click-to-play poster)";
    }
    this.contentDOM.classList.toggle("is-empty", node.content.size === 0);
  }

  update(node) {
    if (node.type !== this.node.type) { return false; }
    this.render(node);
    return true;
  }

  stopEvent(event) {
    return this.frame.contains(event.target);
  }

  ignoreMutation(mutation) {
    return this.frame.contains(mutation.target) || (mutation.type === "attributes" && mutation.target === this.contentDOM);
  }
}
