/* Word count, reading time and a search-result preview beside the editor.

   The count follows the server's rule (blog/sanitize.word_count): tags become
   spaces, entities are decoded, and a word is a run of letters, digits and
   underscores (Python's \w). Reading time is blog/services/desk.reading_minutes:
   at least one minute, rounded up, at the words per minute the page names. */

const WORD = /[\p{L}\p{N}_]+/gu;
const TAG = /<[^>]*>/g;
const TITLE_LIMIT = 60;
const DESCRIPTION_LIMIT = 160;

export function plainText(html) {
  const spaced = (html || "").replace(TAG, " ");
  const decoded = new window.DOMParser().parseFromString(spaced, "text/html").documentElement.textContent;
  return decoded.split(/\s+/).filter(Boolean).join(" ");
}

export function wordCount(html) {
  const words = plainText(html).match(WORD);
  return words ? words.length : 0;
}

/* Cut text as a search engine does: at a word boundary, with an ellipsis. */
export function truncate(text, limit) {
  if (text.length <= limit) { return text; }
  const cut = text.slice(0, limit - 1);
  const space = cut.lastIndexOf(" ");
  return (space > limit / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, "") + "…";
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) { node.textContent = text; }
  return node;
}

function field(form, name) {
  return form.querySelector("[name='" + name + "']");
}

export function mountStats(form, after) {
  const perMinute = parseInt(form.getAttribute("data-words-per-minute"), 10) || 200;
  const stats = element("p", "desk-stats");
  stats.id = "body-stats";
  after.insertAdjacentElement("afterend", stats);
  return function update(html) {
    const words = wordCount(html);
    const minutes = Math.max(1, Math.ceil(words / perMinute));
    stats.textContent = words.toLocaleString("en") + (words === 1 ? " word" : " words") + " · " + minutes + " min read";
  };
}

export function mountPreview(form, bodyHtml) {
  const seo = form.querySelector("[name='seo_description']");
  const anchor = seo ? seo.closest("fieldset") || seo : null;
  if (!anchor) { return function () {}; }
  const box = element("section", "search-preview");
  box.setAttribute("aria-labelledby", "search-preview-heading");
  const heading = element("h2", "search-preview__heading", "Search result preview");
  heading.id = "search-preview-heading";
  const url = element("p", "search-preview__url");
  const title = element("p", "search-preview__title");
  const description = element("p", "search-preview__description");
  box.append(heading, url, title, description);
  anchor.insertAdjacentElement("afterend", box);

  function value(name) {
    const input = field(form, name);
    return input ? input.value.replace(/\s+/g, " ").trim() : "";
  }

  function update() {
    const slug = value("slug");
    url.textContent = window.location.host + (slug ? " › " + slug : "");
    title.textContent = truncate(value("seo_title") || value("title") || "Untitled", TITLE_LIMIT);
    const text = value("seo_description") || value("excerpt") || plainText(bodyHtml());
    description.textContent = truncate(text, DESCRIPTION_LIMIT);
  }
  form.addEventListener("input", update);
  update();
  return update;
}
