/* A signed-in reader's own parts of the shared page.
 *
 * Reader pages are the same for everyone, so the page cache serves one copy to all
 * (blog/pagecache.py). A browser that signed in carries a marker cookie (named in this
 * script's data-marker; set at sign-in, cleared at sign-out; it holds no secret). Only
 * then does this script ask, once, for the person's own parts (data-parts-url:
 * public.personal_parts) and put each in place of the element marked
 * data-personal-part with its name: the account links, the comment area, the Edit link.
 * Messages ("notices") are added to the page's status region, so they are announced.
 * Guests make no request. Focus is never moved, except back onto the same control when
 * the part holding it is replaced. Without scripts the page stays the guest's, whose
 * "Sign in to comment" leads a signed-in reader to a comment page of their own.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch || !window.Promise) { return; }
  var url = script.getAttribute("data-parts-url");
  var marker = script.getAttribute("data-marker");
  if (!url || !marker || !hasCookie(marker)) { return; }

  function hasCookie(name) {
    return document.cookie.split(";").some(function (pair) {
      return pair.replace(/^\s+/, "").indexOf(name + "=") === 0;
    });
  }

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function element(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    return holder.content.firstElementChild;
  }

  /* A way to find the focused control again in the new part: its id, or its link. */
  function focusKey(node) {
    if (node.id) { return { id: node.id }; }
    if (node.getAttribute && node.getAttribute("href")) { return { href: node.getAttribute("href") }; }
    return null;
  }

  function findAgain(root, key) {
    var found = null;
    var candidates = root.querySelectorAll(key.id ? "[id]" : "[href]");
    Array.prototype.forEach.call(candidates, function (node) {
      if (!found && (key.id ? node.id === key.id : node.getAttribute("href") === key.href)) { found = node; }
    });
    return found;
  }

  function replace(target, fresh) {
    var active = document.activeElement;
    var key = active && active !== document.body && target.contains(active) ? focusKey(active) : null;
    target.replaceWith(fresh);
    var again = key ? findAgain(fresh, key) : null;
    if (again) { again.focus({ preventScroll: true }); }
  }

  function addNotices(target, fresh) {
    while (fresh.firstChild) { target.appendChild(fresh.firstChild); }
  }

  function fill(answer) {
    var parts = (answer && answer.parts) || {};
    Object.keys(parts).forEach(function (name) {
      var target = document.querySelector('[data-personal-part="' + name + '"]');
      var fresh = element(parts[name]);
      if (!target || !fresh) { return; }
      if (name === "notices") { addNotices(target, fresh); } else { replace(target, fresh); }
    });
    document.documentElement.setAttribute("data-personal-parts", answer && answer.signed_in ? "filled" : "guest");
  }

  var asked = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); });
  ready(function () {
    asked.then(fill).catch(function () {
      document.documentElement.setAttribute("data-personal-parts", "failed");
    });
  });
})();
