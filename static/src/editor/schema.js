/* The editor's schema: exactly the body HTML the sanitiser keeps (blog/sanitize.py),
   no more. Stock Tiptap nodes where they write that HTML as it is stored; our own
   nodes and marks where they do not (figures, galleries, embeds, pull quotes, div/span, and
   marks that remember whether they were <b> or <strong>). */
import { Extension, Mark, Node, mergeAttributes } from "@tiptap/core";
import { Plugin } from "@tiptap/pm/state";
import StarterKit from "@tiptap/starter-kit";
import { ListItem, OrderedList } from "@tiptap/extension-list";
import { CodeBlock } from "@tiptap/extension-code-block";
import { Table, TableCell, TableHeader, TableRow } from "@tiptap/extension-table";
import Link from "@tiptap/extension-link";
import { FigureView } from "./figure-view.js";

/* Stored bodies often hold text straight inside a container (<li>text</li>, a line
   between two headings). serialize.js wraps such text in <p data-bare> before
   ProseMirror reads it; the paragraph remembers it was not written, and the
   serialiser takes it away again. Marks remember which mark they were written
   around (data-outer), so <em><strong>x</strong></em> is not turned inside out,
   and two links side by side to one address stay two (data-part);
   list items remember stray <br>s between them, and a table row the <tbody> it began. */
const Kept = Extension.create({
  name: "kept",
  /* A cell made in the editor holds its text directly: <td>text</td>, not <td><p>text</p></td>. */
  addProseMirrorPlugins() {
    return [new Plugin({
      appendTransaction(transactions, oldState, state) {
        if (!transactions.some((tr) => tr.docChanged)) { return null; }
        const tr = state.tr;
        state.doc.descendants((node, pos) => {
          if (node.type.name !== "tableCell" && node.type.name !== "tableHeader") { return true; }
          const only = node.childCount === 1 ? node.firstChild : null;
          if (only && only.type.name === "paragraph" && !only.attrs.bare && !only.attrs.kept) {
            tr.setNodeMarkup(pos + 1, null, { ...only.attrs, bare: true });
          }
          return false;
        });
        return tr.docChanged ? tr.setMeta("addToHistory", false) : null;
      },
    })];
  },
  addGlobalAttributes() {
    return [
      {
        types: ["paragraph"],
        attributes: {
          bare: dataFlag("bare", "data-bare"),
          /* A paragraph written alone in a table cell (<td><p>x</p></td>) stays one. */
          kept: { ...dataFlag("kept", "data-kept"), rendered: false },
        },
      },
      { types: MARK_NAMES, attributes: { outer: dataValue("outer", "data-outer"), part: dataValue("part", "data-part") } },
      {
        types: ["tableRow"],
        attributes: { newBody: dataFlag("newBody", "data-new-body"), foot: dataFlag("foot", "data-foot") },
      },
      { types: ["listItem"], attributes: { brBefore: dataValue("brBefore", "data-br-before"), brAfter: dataValue("brAfter", "data-br-after") } },
    ];
  },
});

/* An attribute the serialiser reads back from a data-* attribute: present or not… */
function dataFlag(key, name) {
  return {
    default: false,
    keepOnSplit: false,
    parseHTML: (element) => element.hasAttribute(name),
    renderHTML: (attributes) => (attributes[key] ? { [name]: "" } : {}),
  };
}

/* …or with a value. */
function dataValue(key, name) {
  return {
    default: null,
    keepOnSplit: false,
    parseHTML: (element) => element.getAttribute(name),
    renderHTML: (attributes) => (attributes[key] ? { [name]: attributes[key] } : {}),
  };
}

function plainAttribute(name) {
  return { default: null, parseHTML: (element) => element.getAttribute(name) };
}

/* A mark written as one of a few equivalent tags, kept as it was found. */
const MARK_NAMES = ["link", "bold", "italic", "underline", "strike", "subscript", "superscript", "code", "span"];

function tagMark(name, tags, options = {}) {
  return Mark.create({
    name,
    excludes: options.excludes,
    addAttributes() {
      return { tag: { default: tags[0], keepOnSplit: true, rendered: false, parseHTML: (element) => element.tagName.toLowerCase() } };
    },
    parseHTML() {
      return tags.map((tag) => ({ tag }));
    },
    renderHTML({ mark, HTMLAttributes }) {
      return [mark.attrs.tag, HTMLAttributes, 0];
    },
    addCommands() {
      const command = "toggle" + name.charAt(0).toUpperCase() + name.slice(1);
      return { [command]: () => ({ commands }) => commands.toggleMark(this.name) };
    },
    addKeyboardShortcuts() {
      const shortcuts = {};
      (options.keys || []).forEach((key) => {
        shortcuts[key] = () => this.editor.commands.toggleMark(this.name);
      });
      return shortcuts;
    },
  });
}

const Bold = tagMark("bold", ["strong", "b"], { keys: ["Mod-b"] });
const Italic = tagMark("italic", ["em", "i"], { keys: ["Mod-i"] });
const Underline = tagMark("underline", ["u"], { keys: ["Mod-u"] });
const Strike = tagMark("strike", ["s", "del"], { keys: ["Mod-Shift-s"] });
const Subscript = tagMark("subscript", ["sub"], { keys: ["Mod-,"] });
const Superscript = tagMark("superscript", ["sup"], { keys: ["Mod-."] });
const Code = tagMark("code", ["code"], { keys: ["Mod-e"] });
/* Imported bodies use <span> around runs of text; it is kept, never offered. */
const Span = tagMark("span", ["span"], { excludes: "" });

/* A block written as one tag with no attributes: kept as it is, never offered. */
function plainBlock(name, tag, content, options = {}) {
  return Node.create({
    name,
    group: "block",
    content,
    defining: true,
    whitespace: options.whitespace,
    parseHTML() {
      return [{ tag, ...options.rule }];
    },
    renderHTML() {
      return [tag, 0];
    },
  });
}

/* <blockquote>, and <blockquote class="pullquote"> for a pull quote. */
const Blockquote = Node.create({
  name: "blockquote",
  group: "block",
  content: "block+",
  defining: true,
  addAttributes() {
    return {
      pullquote: {
        default: false,
        parseHTML: (element) => element.classList.contains("pullquote"),
        renderHTML: (attributes) => (attributes.pullquote ? { class: "pullquote" } : {}),
      },
    };
  },
  parseHTML() {
    return [{ tag: "blockquote" }];
  },
  renderHTML({ HTMLAttributes }) {
    return ["blockquote", HTMLAttributes, 0];
  },
  addCommands() {
    return {
      toggleQuote: (pullquote) => ({ editor, commands }) => {
        const active = editor.isActive("blockquote", { pullquote });
        if (active) { return commands.lift(this.name); }
        if (editor.isActive("blockquote")) { return commands.updateAttributes(this.name, { pullquote }); }
        return commands.wrapIn(this.name, { pullquote });
      },
    };
  },
  addKeyboardShortcuts() {
    return { "Mod-Shift-b": () => this.editor.commands.toggleQuote(false) };
  },
});

/* <div>: a generic container WordPress imports use; kept, never offered. */
const Division = plainBlock("division", "div", "block+");

const IMAGE_ATTRIBUTES = ["src", "alt", "width", "height", "srcset", "sizes", "loading"];

function imageAttributes() {
  const attributes = {};
  IMAGE_ATTRIBUTES.forEach((name) => { attributes[name] = plainAttribute(name); });
  return attributes;
}

/* Attributes of an <img>, leaving out the ones not set; alt="" is kept (decorative). */
export function imgAttrs(attrs) {
  const out = {};
  IMAGE_ATTRIBUTES.forEach((name) => {
    if (attrs[name] !== null && attrs[name] !== undefined) { out[name] = String(attrs[name]); }
  });
  return out;
}

/* A bare <img> inside a paragraph. */
const InlineImage = Node.create({
  name: "image",
  group: "inline",
  inline: true,
  draggable: true,
  atom: true,
  addAttributes() {
    return imageAttributes();
  },
  parseHTML() {
    return [{ tag: "img[src]" }];
  },
  renderHTML({ node }) {
    return ["img", imgAttrs(node.attrs)];
  },
});

function onlyChildren(element, allowed) {
  return Array.prototype.every.call(element.children, (child) => allowed(child));
}

function captionOf(element) {
  return element.querySelector(":scope > figcaption") || element.ownerDocument.createElement("figcaption");
}

/* A figure whose content is its caption (the <figcaption>, written only when not empty). */
const CAPTIONED = { group: "block", content: "inline*", marks: "_", draggable: true, isolating: true };

/* <figure><img ...><figcaption>caption</figcaption></figure>; the image may sit in a link. */
const Figure = Node.create({
  name: "figure",
  ...CAPTIONED,
  addAttributes() {
    return { ...imageAttributes(), href: { default: null } };
  },
  parseHTML() {
    return [{
      tag: "figure",
      getAttrs: (element) => {
        if (element.classList.contains("embed")) { return false; }
        const images = element.querySelectorAll(":scope > img, :scope > a > img");
        const shaped = images.length === 1 && onlyChildren(element, (child) => child.tagName === "FIGCAPTION"
          || child.tagName === "IMG" || (child.tagName === "A" && child.children.length === 1 && child.textContent.trim() === ""));
        if (!shaped) { return false; }
        const img = images[0];
        const attrs = {};
        IMAGE_ATTRIBUTES.forEach((name) => { attrs[name] = img.getAttribute(name); });
        attrs.href = img.parentElement.tagName === "A" ? img.parentElement.getAttribute("href") : null;
        return attrs;
      },
      contentElement: captionOf,
    }];
  },
  renderHTML({ node }) {
    const img = ["img", imgAttrs(node.attrs)];
    const picture = node.attrs.href ? ["a", { href: node.attrs.href }, img] : img;
    return node.content.size ? ["figure", {}, picture, ["figcaption", 0]] : ["figure", {}, picture];
  },
  addNodeView() {
    return (props) => new FigureView(props, "image");
  },
});

export const EMBED_PROVIDERS = {
  youtube: {
    name: "YouTube",
    idPattern: /^[A-Za-z0-9_-]{11}$/,
    href: (id) => "https://www.youtube.com/watch?v=" + id,
  },
  vimeo: {
    name: "Vimeo",
    idPattern: /^[0-9]+$/,
    href: (id) => "https://vimeo.com/" + id,
  },
};

/* <figure class="embed" data-embed="youtube" data-embed-id="ID"><a href>Watch on YouTube</a>
   <figcaption>optional</figcaption></figure>: the reader's page turns it into a
   click-to-load player. */
const Embed = Node.create({
  name: "embed",
  ...CAPTIONED,
  addAttributes() {
    return {
      provider: { default: "youtube", parseHTML: (element) => element.getAttribute("data-embed") },
      videoId: { default: "", parseHTML: (element) => element.getAttribute("data-embed-id") },
      href: { default: null, parseHTML: (element) => { const a = element.querySelector(":scope > a"); return a ? a.getAttribute("href") : null; } },
      label: { default: null, parseHTML: (element) => { const a = element.querySelector(":scope > a"); return a ? a.textContent : null; } },
    };
  },
  parseHTML() {
    return [{
      tag: "figure.embed[data-embed][data-embed-id]",
      getAttrs: (element) => (EMBED_PROVIDERS[element.getAttribute("data-embed")] ? null : false),
      contentElement: captionOf,
    }];
  },
  renderHTML({ node }) {
    const provider = EMBED_PROVIDERS[node.attrs.provider];
    const link = ["a", { href: node.attrs.href || provider.href(node.attrs.videoId) },
      node.attrs.label === null ? "Watch on " + provider.name : node.attrs.label];
    const attrs = { class: "embed", "data-embed": node.attrs.provider, "data-embed-id": node.attrs.videoId };
    return node.content.size ? ["figure", attrs, link, ["figcaption", 0]] : ["figure", attrs, link];
  },
  addNodeView() {
    return (props) => new FigureView(props, "embed");
  },
});

/* <pre><code>…</code></pre>: a code block of plain text. */
const CodeBlockKept = CodeBlock.extend({
  addAttributes() {
    return {};
  },
  parseHTML() {
    return [{
      tag: "pre",
      preserveWhitespace: "full",
      getAttrs: (element) => (element.children.length === 1 && element.firstElementChild.tagName === "CODE"
        && element.textContent === element.firstElementChild.textContent ? null : false),
    }];
  },
  renderHTML() {
    return ["pre", ["code", 0]];
  },
});

/* A <pre> of anything else (imports: text with <br>, links, emphasis): kept as it is. */
const Preformatted = plainBlock("preformatted", "pre", "inline*", {
  whitespace: "pre",
  rule: { preserveWhitespace: "full", priority: 40 },
});

/* An empty <ul></ul> or <ol></ol> (imports have them): kept, shown as a thin line. */
const EmptyList = Node.create({
  name: "emptyList",
  group: "block",
  atom: true,
  selectable: true,
  addAttributes() {
    return { tag: { default: "ul", rendered: false } };
  },
  parseHTML() {
    return ["ul", "ol"].map((tag) => ({
      tag,
      priority: 60,
      getAttrs: (element) => (element.children.length === 0 && !element.textContent.trim() ? { tag } : false),
    }));
  },
  renderHTML({ node }) {
    return [node.attrs.tag, { class: "desk-empty-list" }];
  },
});

/* <figure class="gallery">: image figures side by side, then the gallery's own caption
   (always there to type in; written only when not empty: serialize.js drops an empty one). */
const Gallery = Node.create({
  name: "gallery",
  group: "block",
  content: "figure+ caption",
  draggable: true,
  isolating: true,
  parseHTML() {
    return [{
      tag: "figure.gallery",
      priority: 60,
      getAttrs: (element) => {
        const children = Array.from(element.children);
        const last = children[children.length - 1];
        const pictures = last && last.tagName === "FIGCAPTION" ? children.slice(0, -1) : children;
        const shaped = pictures.length > 0 && pictures.every((child) => child.tagName === "FIGURE"
          && !child.classList.length && child.querySelectorAll(":scope > img, :scope > a > img").length === 1);
        return shaped ? null : false;
      },
    }];
  },
  renderHTML() {
    return ["figure", { class: "gallery" }, 0];
  },
});

/* A <figure> that is not one image, one video or a gallery (imported blocks), and
   a <figcaption> inside it. */
const FigureBox = plainBlock("figureBox", "figure", "block+", { rule: { priority: 40 } });
const Caption = plainBlock("caption", "figcaption", "inline*", { rule: { priority: 40 } });

const OrderedListKept = OrderedList.extend({
  addAttributes() {
    return {
      start: {
        default: null,
        parseHTML: (element) => element.getAttribute("start"),
      },
    };
  },
  renderHTML({ HTMLAttributes }) {
    return ["ol", HTMLAttributes, 0];
  },
});

/* Tables: plain <table>, no widths or styles; the serialiser puts a header row
   in <thead> and the rest in <tbody>. */
const TableKept = Table.extend({
  addAttributes() {
    return {
      head: {
        default: true,
        parseHTML: (element) => element.querySelector(":scope > thead") !== null,
        renderHTML: (attributes) => (attributes.head ? { "data-head": "" } : {}),
      },
    };
  },
  renderHTML({ HTMLAttributes }) {
    return ["table", HTMLAttributes, ["tbody", 0]];
  },
}).configure({ View: null, resizable: false });

function spanAttributes() {
  return {
    colspan: { default: 1, parseHTML: (element) => Number(element.getAttribute("colspan") || 1) },
    rowspan: { default: 1, parseHTML: (element) => Number(element.getAttribute("rowspan") || 1) },
    colwidth: { default: null, rendered: false },
  };
}

function renderCell(tag) {
  return function ({ node }) {
    const attrs = {};
    if (node.attrs.colspan !== 1) { attrs.colspan = node.attrs.colspan; }
    if (node.attrs.rowspan !== 1) { attrs.rowspan = node.attrs.rowspan; }
    return [tag, attrs, 0];
  };
}

const TableCellKept = TableCell.extend({
  addAttributes: spanAttributes,
  parseHTML() { return [{ tag: "td" }]; },
  renderHTML: renderCell("td"),
});

const TableHeaderKept = TableHeader.extend({
  addAttributes: spanAttributes,
  parseHTML() { return [{ tag: "th" }]; },
  renderHTML: renderCell("th"),
});

const LinkKept = Link.extend({
  addAttributes() {
    return { href: plainAttribute("href"), title: plainAttribute("title") };
  },
  parseHTML() {
    return [{ tag: "a" }]; // with or without href: imports have <a> without one
  },
  renderHTML({ HTMLAttributes }) {
    return ["a", mergeAttributes(HTMLAttributes), 0];
  },
}).configure({
  openOnClick: false,
  autolink: false,
  linkOnPaste: false,
  protocols: ["http", "https", "mailto"],
  isAllowedUri: () => true, // the server's sanitiser decides which links stay
});

export function extensions() {
  return [
    StarterKit.configure({
      heading: { levels: [2, 3, 4] },
      bold: false,
      italic: false,
      underline: false,
      strike: false,
      code: false,
      link: false,
      blockquote: false,
      codeBlock: false,
      listItem: false,
      orderedList: false,
      trailingNode: false,
      dropcursor: { class: "desk-dropcursor" },
    }),
    Bold, Italic, Underline, Strike, Subscript, Superscript, Code, Span,
    Blockquote, Division, InlineImage, Figure, Embed, Gallery, FigureBox, Caption, EmptyList, CodeBlockKept, Preformatted, ListItem, Kept,
    OrderedListKept, TableKept, TableRow, TableCellKept, TableHeaderKept, LinkKept,
  ];
}
