/* From stored body HTML to the editor's document, and back to the same HTML.

   ProseMirror needs every run of text in a block of its own, and marks nested
   in one fixed order. Stored bodies (imports above all) hold text straight
   inside containers (<li>text<ul>…</ul></li>, a line between two headings),
   marks nested either way, and <br>s between list items. Before parsing, such
   text is wrapped in <p data-bare>, an outer mark is marked data-outer with the
   tag it was written around, and stray <br>s are counted on the neighbouring
   item; after serialising, all of it is put back. The HTML is parsed into
   inert documents: nothing in it loads or runs. */
import { DOMParser as PMDOMParser } from "@tiptap/pm/model";

/* Elements ProseMirror reads as blocks; anything else in a container is inline. */
const BLOCKS = new Set([
  "ADDRESS", "ARTICLE", "ASIDE", "BLOCKQUOTE", "DIV", "DL", "FIELDSET", "FIGCAPTION", "FIGURE",
  "FOOTER", "HEADER", "H1", "H2", "H3", "H4", "H5", "H6", "HR", "LI", "OL", "P", "PRE", "SECTION",
  "TABLE", "UL",
]);
/* Elements whose content the editor holds as blocks. */
const CONTAINERS = "div, blockquote, li, td, th";
const MARK_TAGS = new Set(["A", "STRONG", "B", "EM", "I", "U", "S", "DEL", "SUB", "SUP", "CODE", "SPAN"]);

function isBlank(node) {
  return node.nodeType === Node.TEXT_NODE && !/[^ \t\n\r\f]/.test(node.nodeValue);
}

function isBlock(node) {
  return node.nodeType === Node.ELEMENT_NODE && BLOCKS.has(node.tagName);
}

/* Wrap each run of inline content among a container's children in <p data-bare>. */
function wrapBareRuns(container) {
  const doc = container.ownerDocument;
  let run = [];
  let sawContent = false;
  function flush() {
    if (run.some((node) => !isBlank(node))) {
      const paragraph = doc.createElement("p");
      paragraph.setAttribute("data-bare", "");
      container.insertBefore(paragraph, run[0]);
      run.forEach((node) => paragraph.appendChild(node));
      sawContent = true;
    }
    run = [];
  }
  Array.from(container.childNodes).forEach((node) => {
    if (isBlock(node)) { flush(); sawContent = true; } else if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.ELEMENT_NODE) { run.push(node); }
  });
  flush();
  if (!sawContent && container.tagName !== "BODY") {
    const paragraph = doc.createElement("p");
    paragraph.setAttribute("data-bare", "");
    container.appendChild(paragraph);
  }
}

/* <ul><br><li>…: the editor cannot hold a <br> between items; the item beside it counts it. */
function countStrayBreaks(list) {
  let pending = 0;
  let last = null;
  Array.from(list.childNodes).forEach((node) => {
    if (node.nodeType === Node.ELEMENT_NODE && node.tagName === "BR") {
      pending += 1;
      list.removeChild(node);
    } else if (node.nodeType === Node.ELEMENT_NODE && node.tagName === "LI") {
      if (pending) { node.setAttribute("data-br-before", String(pending)); }
      pending = 0;
      last = node;
    }
  });
  if (pending && last) { last.setAttribute("data-br-after", String(pending)); }
}

function soleChild(element) {
  const nodes = Array.from(element.childNodes).filter((node) => !(node.nodeType === Node.TEXT_NODE && node.nodeValue === ""));
  return nodes.length === 1 ? nodes[0] : null;
}

function isMarkElement(node) {
  return node && node.nodeType === Node.ELEMENT_NODE && MARK_TAGS.has(node.tagName);
}

/* The marks nested one inside the other, each the sole child of the one before. */
function markChain(top) {
  const chain = [top];
  let inner = soleChild(top);
  while (isMarkElement(inner)) { chain.push(inner); inner = soleChild(inner); }
  return chain;
}

/* <em><strong>x</strong></em>: the editor writes marks in one order (<strong><em>);
   the outermost of such a chain remembers the order it was written in. */
function markOuterMarks(root) {
  root.querySelectorAll("a, strong, b, em, i, u, s, del, sub, sup, code, span").forEach((top) => {
    if (isMarkElement(top.parentElement) && soleChild(top.parentElement) === top) { return; }
    const tags = markChain(top).map((element) => element.tagName.toLowerCase());
    if (tags.length > 1 && new Set(tags).size === tags.length) { top.setAttribute("data-outer", tags.join(" ")); }
  });
}

function sameElement(a, b) {
  if (a.tagName !== b.tagName || a.attributes.length !== b.attributes.length) { return false; }
  return Array.from(a.attributes).every((attribute) => b.getAttribute(attribute.name) === attribute.value);
}

/* <a>Image</a><a>Download</a> to one address: ProseMirror would join them into one
   link; every other one is told apart. */
function partAdjacentMarks(root) {
  root.querySelectorAll("a, strong, b, em, i, u, s, del, sub, sup, code, span").forEach((element) => {
    const before = element.previousSibling;
    if (isMarkElement(before) && sameElement(before, element)) {
      element.setAttribute("data-part", before.getAttribute("data-part") === "1" ? "2" : "1");
    }
  });
}

/* A ProseMirror document (as JSON) for stored body HTML. Parsed here rather than by
   Tiptap's setContent, which drops line breaks between inline elements. */
export function documentFor(schema, html) {
  const doc = new window.DOMParser().parseFromString("<!DOCTYPE html><body>" + (html || "") + "</body>", "text/html");
  const body = doc.body;
  body.querySelectorAll("ul, ol").forEach(countStrayBreaks);
  body.querySelectorAll("td, th").forEach((cell) => {
    const paragraphs = Array.from(cell.children);
    if (paragraphs.length === 1 && paragraphs[0].tagName === "P") { paragraphs[0].setAttribute("data-kept", ""); }
  });
  body.querySelectorAll("table").forEach((table) => {
    Array.from(table.tBodies).slice(1).forEach((group) => { if (group.rows[0]) { group.rows[0].setAttribute("data-new-body", ""); } });
    if (table.tFoot) { Array.from(table.tFoot.rows).forEach((row) => row.setAttribute("data-foot", "")); }
  });
  partAdjacentMarks(body);
  markOuterMarks(body);
  const boxes = Array.from(body.querySelectorAll("figure")).filter((figure) => !figure.classList.contains("embed")
    && !figure.querySelector(":scope > img, :scope > a > img"));
  [body, ...body.querySelectorAll(CONTAINERS), ...boxes].forEach(wrapBareRuns);
  /* A list item's first block must be a paragraph: an empty bare one, gone on saving. */
  body.querySelectorAll("li").forEach((item) => {
    const first = Array.from(item.childNodes).find((node) => !isBlank(node));
    if (first && first.nodeType === Node.ELEMENT_NODE && first.tagName !== "P") {
      const paragraph = doc.createElement("p");
      paragraph.setAttribute("data-bare", "");
      item.insertBefore(paragraph, first);
    }
  });
  return PMDOMParser.fromSchema(schema).parse(body).toJSON();
}

function isBareParagraph(node) {
  return node && node.nodeType === Node.ELEMENT_NODE && node.tagName === "P" && node.hasAttribute("data-bare");
}

function neighbour(node, direction) {
  let next = node[direction];
  while (next && isBlank(next)) { next = next[direction]; }
  return next;
}

function unwrapBareParagraphs(root) {
  const bare = Array.from(root.querySelectorAll("p[data-bare]"));
  /* Two bare paragraphs side by side (a writer split one) stay paragraphs:
     unwrapped, their text would run together. */
  const keep = new Set(bare.filter((p) => isBareParagraph(neighbour(p, "previousSibling")) || isBareParagraph(neighbour(p, "nextSibling"))));
  bare.forEach((paragraph) => {
    paragraph.removeAttribute("data-bare");
    if (!keep.has(paragraph)) { paragraph.replaceWith(...paragraph.childNodes); }
  });
}

function restoreStrayBreaks(root) {
  root.querySelectorAll("li[data-br-before], li[data-br-after]").forEach((item) => {
    const before = parseInt(item.getAttribute("data-br-before") || "0", 10);
    const after = parseInt(item.getAttribute("data-br-after") || "0", 10);
    item.removeAttribute("data-br-before");
    item.removeAttribute("data-br-after");
    for (let i = 0; i < before; i += 1) { item.before(item.ownerDocument.createElement("br")); }
    for (let i = 0; i < after; i += 1) { item.after(item.ownerDocument.createElement("br")); }
  });
}

function restoreOuterMarks(root) {
  root.querySelectorAll("[data-outer]").forEach((marked) => {
    const tags = marked.getAttribute("data-outer").split(" ");
    marked.removeAttribute("data-outer");
    let top = marked;
    while (isMarkElement(top.parentElement) && soleChild(top.parentElement) === top) { top = top.parentElement; }
    const chain = markChain(top);
    const found = chain.map((element) => element.tagName.toLowerCase());
    if (found.length !== tags.length || !tags.every((tag) => found.includes(tag))) { return; }
    const content = Array.from(chain[chain.length - 1].childNodes);
    const ordered = tags.map((tag) => chain[found.indexOf(tag)]);
    top.replaceWith(ordered[0]);
    ordered.forEach((element, index) => {
      element.replaceChildren(...(index + 1 < ordered.length ? [ordered[index + 1]] : content));
    });
  });
}

function isHeaderRow(row) {
  return row.cells.length > 0 && Array.prototype.every.call(row.cells, (cell) => cell.tagName === "TH");
}

/* The header row back in <thead>, when the table had one (or is new). */
function splitTableHead(root) {
  root.querySelectorAll("table").forEach((table) => {
    const wantsHead = table.hasAttribute("data-head");
    table.removeAttribute("data-head");
    const body = table.querySelector(":scope > tbody");
    if (!wantsHead || !body) { return; }
    const head = table.ownerDocument.createElement("thead");
    while (body.rows.length && isHeaderRow(body.rows[0])) { head.appendChild(body.rows[0]); }
    if (head.rows.length) { table.insertBefore(head, body); }
    if (!body.rows.length) { body.remove(); }
  });
  /* A table written with several <tbody> groups keeps them. */
  root.querySelectorAll("tr[data-new-body]").forEach((row) => {
    row.removeAttribute("data-new-body");
    const group = row.parentElement;
    if (group.tagName !== "TBODY" || group.rows[0] === row) { return; }
    const next = row.ownerDocument.createElement("tbody");
    group.after(next);
    while (row.nextSibling) { next.appendChild(row.nextSibling); }
    next.prepend(row);
  });
  /* Footer rows back in their <tfoot>, after the body. */
  root.querySelectorAll("table").forEach((table) => {
    const rows = Array.from(table.querySelectorAll(":scope > tbody > tr[data-foot]"));
    if (!rows.length) { return; }
    const foot = table.ownerDocument.createElement("tfoot");
    rows.forEach((row) => { row.removeAttribute("data-foot"); foot.appendChild(row); });
    table.querySelectorAll(":scope > tbody").forEach((group) => { if (!group.rows.length) { group.remove(); } });
    table.appendChild(foot);
  });
}

/* The body HTML to store, from the editor's own HTML. */
export function storedHtml(editorHtml) {
  const template = document.createElement("template");
  template.innerHTML = editorHtml;
  const root = template.content;
  restoreOuterMarks(root);
  root.querySelectorAll("[data-part]").forEach((element) => element.removeAttribute("data-part"));
  root.querySelectorAll(".desk-empty-list").forEach((element) => element.removeAttribute("class"));
  unwrapBareParagraphs(root);
  restoreStrayBreaks(root);
  splitTableHead(root);
  root.querySelectorAll("figure.gallery > figcaption").forEach((caption) => { if (!caption.hasChildNodes()) { caption.remove(); } });
  const html = template.innerHTML;
  return html === "<p></p>" ? "" : html;
}
