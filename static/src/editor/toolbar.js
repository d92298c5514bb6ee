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
      ["Heading 2", "H2", (e) => chain(e).toggleHeading({ level: 2 }).run(), (e) => e.isActive("heading", { level: 2 })],
      ["Heading 3", "H3", (e) => chain(e).toggleHeading({ level: 3 }).run(), (e) => e.isActive("heading", { level: 3 })],
      ["Heading 4", "H4", (e) => chain(e).toggleHeading({ level: 4 }).run(), (e) => e.isActive("heading", { level: 4 })],
    ],
    [
      ["Bold", "B", (e) => chain(e).toggleMark("bold").run(), (e) => e.isActive("bold")],
      ["Italic", "I", (e) => chain(e).toggleMark("italic").run(), (e) => e.isActive("italic")],
      ["Underline", "U", (e) => chain(e).toggleMark("underline").run(), (e) => e.isActive("underline")],
      ["Strikethrough", "S", (e) => chain(e).toggleMark("strike").run(), (e) => e.isActive("strike")],
      ["Subscript", "x₂", (e) => chain(e).unsetMark("superscript").toggleMark("subscript").run(), (e) => e.isActive("subscript")],
      ["Superscript", "x²", (e) => chain(e).unsetMark("subscript").toggleMark("superscript").run(), (e) => e.isActive("superscript")],
      ["Inline code", "</>", (e) => chain(e).toggleMark("code").run(), (e) => e.isActive("code")],
      ["Link", "Link", actions.link, (e) => e.isActive("link")],
    ],
    [
      ["Bulleted list", "• List", (e) => chain(e).toggleBulletList().run(), (e) => e.isActive("bulletList")],
      ["Numbered list", "1. List", (e) => chain(e).toggleOrderedList().run(), (e) => e.isActive("orderedList")],
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
      ["Add column right", "+ Col", (e) => chain(e).addColumnAfter().run(), null, inTable],
      ["Delete row", "− Row", (e) => chain(e).deleteRow().run(), null, inTable],
      ["Delete column", "− Col", (e) => chain(e).deleteColumn().run(), null, inTable],
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
      button.textContent = text;
      button.setAttribute("aria-label", label);
      button.title = label;
      button.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
      button.addEventListener("click", () => run(editor, button));
      buttons.push({ button, isActive, canRun });
      box.appendChild(button);
    });
    toolbar.appendChild(box);
  });

  function refresh() {
    buttons.forEach(({ button, isActive, canRun }) => {
      if (isActive) { button.setAttribute("aria-pressed", isActive(editor) ? "true" : "false"); }
      if (canRun) { button.disabled = !canRun(editor); }
    });
  }
  editor.on("transaction", refresh);
  editor.on("focus", refresh);
  refresh();
  return toolbar;
}
