/* The toolbar: real buttons, each with a name for screen readers; the ones that
   switch something on and off say whether it is on (aria-pressed). */

function chain(editor) {
  return editor.chain().focus();
}

/* Each item: [label, visible text, action, isActive (toggles only), canRun]. */
function items(actions) {
  const inTable = (editor) => editor.isActive("table");
  return [
    [
      ["Paragraph", "¶", (e) => chain(e).setParagraph().run(), (e) => e.isActive("paragraph")],
      ["Heading H2", "H2", (e) => chain(e).toggleHeading({ level: 2 }).run(), (e) => e.isActive("heading", { level: 2 })],
      ["Heading H3", "H3", (e) => chain(e).toggleHeading({ level: 3 }).run(), (e) => e.isActive("heading", { level: 3 })],
      ["Heading H4", "H4", (e) => chain(e).toggleHeading({ level: 4 }).run(), (e) => e.isActive("heading", { level: 4 })],
    ],
    [
      ["Bold", "B", (e) => chain(e).toggleMark("bold").run(), (e) => e.isActive("bold")],
      ["Italic", "I", (e) => chain(e).toggleMark("italic").run(), (e) => e.isActive("italic")],
      ["Underline", "U", (e) => chain(e).toggleMark("underline").run(), (e) => e.isActive("underline")],
      ["Strikethrough", "S", (e) => chain(e).toggleMark("strike").run(), (e) => e.isActive("strike")],
      ["Subscript", "Subscript", (e) => chain(e).unsetMark("superscript").toggleMark("subscript").run(), (e) => e.isActive("subscript")],
      ["Superscript", "Superscript", (e) => chain(e).unsetMark("subscript").toggleMark("superscript").run(), (e) => e.isActive("superscript")],
      ["Inline code", "</>", (e) => chain(e).toggleMark("code").run(), (e) => e.isActive("code")],
      ["Link", "Link", actions.link, (e) => e.isActive("link")],
    ],
    [
      ["Bulleted list", "Bulleted", (e) => chain(e).toggleBulletList().run(), (e) => e.isActive("bulletList")],
      ["Numbered list", "Numbered", (e) => chain(e).toggleOrderedList().run(), (e) => e.isActive("orderedList")],
      ["Quote", "“ ”", (e) => chain(e).toggleQuote(false).run(), (e) => e.isActive("blockquote", { pullquote: false })],
      ["Pull quote", "Pull quote", (e) => chain(e).toggleQuote(true).run(), (e) => e.isActive("blockquote", { pullquote: true })],
      ["Code block", "{ }", (e) => chain(e).toggleCodeBlock().run(), (e) => e.isActive("codeBlock")],
      ["Horizontal rule", "―", (e) => chain(e).setHorizontalRule().run()],
    ],
    [
      ["Insert image", "Image", actions.image],
      ["Embed a video", "Video", actions.embed],
      ["Insert table", "Table", (e) => chain(e).insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run(), null, (e) => !inTable(e)],
      ["Add row below", "+ Row", (e) => chain(e).addRowAfter().run(), null, inTable],
      ["Add column right", "+ Column", (e) => chain(e).addColumnAfter().run(), null, inTable],
      ["Delete row", "− Row", (e) => chain(e).deleteRow().run(), null, inTable],
      ["Delete column", "− Column", (e) => chain(e).deleteColumn().run(), null, inTable],
      ["Merge or split cells", "Merge", (e) => chain(e).mergeOrSplit().run(), null, (e) => e.can().mergeOrSplit()],
      ["Delete table", "✕ Table", (e) => chain(e).deleteTable().run(), null, inTable],
    ],
    [
      ["Undo", "Undo", (e) => chain(e).undo().run(), null, (e) => e.can().undo()],
      ["Redo", "Redo", (e) => chain(e).redo().run(), null, (e) => e.can().redo()],
    ],
  ];
}

export function mountToolbar(editor, surface, actions) {
  const toolbar = document.createElement("div");
  toolbar.className = "desk-toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", "Formatting");
  toolbar.setAttribute("aria-controls", surface.id);
  const buttons = [];
  items(actions).forEach((group) => {
    const box = document.createElement("div");
    box.className = "desk-toolbar__group";
    group.forEach(([label, text, run, isActive, canRun]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "desk-toolbar__button";
      button.textContent = text; // always a word of the name, so speech users can say it
      button.setAttribute("aria-label", label);
      button.title = label;
      button.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
      button.addEventListener("click", () => run(editor, button));
      buttons.push({ button, isActive, canRun });
      box.appendChild(button);
    });
    toolbar.appendChild(box);
  });

  /* One tab stop for the whole toolbar; the arrow keys, Home and End move along it. */
  let current = buttons[0].button;
  function usable() {
    return buttons.map((item) => item.button).filter((button) => !button.disabled);
  }
  function roam(target) {
    current = target;
    buttons.forEach(({ button }) => { button.tabIndex = button === current ? 0 : -1; });
  }
  toolbar.addEventListener("focusin", (event) => {
    if (event.target.tagName === "BUTTON") { roam(event.target); }
  });
  toolbar.addEventListener("keydown", (event) => {
    const list = usable();
    const at = list.indexOf(document.activeElement);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: list.length - 1 };
    if (at < 0 || !(event.key in moves)) { return; }
    event.preventDefault();
    const next = list[(moves[event.key] + list.length) % list.length];
    roam(next);
    next.focus();
  });

  function refresh() {
    buttons.forEach(({ button, isActive, canRun }) => {
      if (isActive) { button.setAttribute("aria-pressed", isActive(editor) ? "true" : "false"); }
      if (canRun) { button.disabled = !canRun(editor); }
    });
    if (current.disabled) { current = usable()[0]; }
    roam(current);
  }
  editor.on("transaction", refresh);
  editor.on("focus", refresh);
  refresh();
  return toolbar;
}
