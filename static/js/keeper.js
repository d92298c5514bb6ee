/* The keeper: the writer's text survives everything.

   From the first keystroke the desk form's text is kept in this browser (localStorage,
   one copy per person and per post, "new" for a post not yet saved) until the server
   confirms a save of exactly that text. After a pause in typing the text is autosaved:
   a new post becomes a draft on its first pause, and the address changes to its edit
   page. Saves never overlap: Save waits for an autosave in flight, then sends the
   version that autosave returned. A save the server cannot accept keeps the text and
   says what happened, with the way on (sign in again and retry, save as a new draft,
   compare with the newer version, try again later).

   The story field is `body` (a textarea, or the rich editor's hidden field): this
   script reads it, listens for `input`, and puts kept text back by setting its value
   and dispatching `circle:body-set`. Without this script the form still saves. */
(function () {
  "use strict";

  var PAUSE_MS = 2000;          /* autosave this long after the last keystroke */
  var RETRY_MS = [5000, 15000, 30000, 60000];
  var KEEP_EVERY_MS = 300;      /* write the browser's copy at most this often */
  var LOG_SIZE = 500;           /* the last answers, for tests and for a curious writer */
  var NOT_KEPT = { csrf_token: true, version: true, copy_of: true };

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var form = document.querySelector("form.desk__form");
    if (form && window.fetch && window.FormData) { keep(form); }
  });

  function keep(form) {
    var status = document.getElementById("autosave-status");
    var postId = form.getAttribute("data-post-id") || "";
    var autosaveUrl = form.getAttribute("data-autosave-url") || "";
    var draftUrl = form.getAttribute("data-draft-url");
    var csrfUrl = form.getAttribute("data-csrf-url");
    var signInUrl = form.getAttribute("data-sign-in-url");
    var user = form.getAttribute("data-keeper-user") || "someone";
    var serverText = fieldsOf(form, true);
    var dirty = false;
    var leaving = false;      /* navigating on purpose: no question before unload */
    var stopped = null;       /* a refusal that needs the writer: no autosave until they act */
    var busy = false;
    var queue = Promise.resolve();
    var pauseTimer = null;
    var keepTimer = null;
    var retries = 0;
    var notice = makeNotice(form);
    var api = { log: [], autosave: autosaveNow, save: saveNow };
    window.circleKeeper = api;

    function note(kind, code) {
      api.log.push({ kind: kind, status: code });
      if (api.log.length > LOG_SIZE) { api.log.shift(); }
    }

    function storageKey(id) { return "circle:desk:" + user + ":" + (id || "new"); }

    /* -- The browser's copy ------------------------------------------------------------ */

    function readKept(id) {
      try { return JSON.parse(window.localStorage.getItem(storageKey(id)) || "null"); } catch (e) { return null; }
    }

    function writeKept() {
      window.clearTimeout(keepTimer);
      keepTimer = null;
      var record = { fields: fieldsOf(form), version: versionOf(form), at: Date.now(), url: location.pathname };
      try {
        window.localStorage.setItem(storageKey(postId), JSON.stringify(record));
        return true;
      } catch (e) {
        say("This browser has no room to keep a copy of your text: save it now.");
        return false;
      }
    }

    function forgetKept(id) {
      try { window.localStorage.removeItem(storageKey(id)); } catch (e) { /* nothing kept */ }
    }

    function keepSoon() {
      if (!keepTimer) { keepTimer = window.setTimeout(writeKept, KEEP_EVERY_MS); }
    }

    /* -- Typing ---------------------------------------------------------------------- */

    function changed(event) {
      if (event && event.target && NOT_KEPT[event.target.name]) { return; }
      dirty = true;
      keepSoon();
      if (!stopped) { say("Unsaved changes"); }
      window.clearTimeout(pauseTimer);
      pauseTimer = window.setTimeout(function () { autosaveNow(); }, PAUSE_MS);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);

    window.addEventListener("beforeunload", function (event) {
      if (keepTimer) { writeKept(); }
      if (dirty && !leaving) { event.preventDefault(); event.returnValue = ""; }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      saveNow({ navigate: true });
    });

    offerKeptText();

    /* -- Saving, one at a time ---------------------------------------------------------- */

    function run(kind, options) {
      var job = queue.then(function () {
        busy = true;
        return attempt(kind, options || {}, false);
      }).then(function (result) { busy = false; return result; },
              function (error) { busy = false; throw error; });
      queue = job.catch(function () { return null; });
      return job;
    }

    function autosaveNow() {
      window.clearTimeout(pauseTimer);
      if (busy || stopped || !dirty) { return queue; }
      if (!postId && !hasWords(form)) { return queue; }
      return run("autosave");
    }

    function saveNow(options) {
      window.clearTimeout(pauseTimer);
      return run("save", options || { navigate: false });
    }

    function target(kind, options) {
      if (options.copyOf) { return draftUrl; }
      if (kind === "save") { return form.getAttribute("action"); }
      return postId ? autosaveUrl : draftUrl;
    }

    function attempt(kind, options, csrfRetried) {
      var data = new FormData(form);
      if (options.copyOf) { data.set("copy_of", options.copyOf); }
      var sent = JSON.stringify(fieldsOf(form));
      if (kind === "save") { say("Saving…"); }
      return window.fetch(target(kind, options), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
        redirect: "manual"
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (reply) {
          note(options.copyOf ? "copy" : kind, response.status || 0);
          return answered(kind, options, csrfRetried, response.status, reply, sent);
        });
      }, function () {
        note(kind, 0);
        offline(kind);
        return { ok: false, status: 0 };
      });
    }

    function answered(kind, options, csrfRetried, code, reply, sent) {
      var error = reply.error || {};
      if ((code === 200 || code === 201) && reply.version) {
        adopt(reply, sent);
        retries = 0;
        if (options.navigate || options.copyOf) {
          leaving = true;
          window.location.assign(reply.edit_url);
        } else {
          say((kind === "autosave" ? "Autosaved at " : "Saved at ") + reply.saved_at);
        }
        return { ok: true, status: code, reply: reply };
      }
      if (error.reason === "csrf" && !csrfRetried) {
        return freshToken(kind).then(function (ok) {
          if (ok) { return attempt(kind, options, true); }
          return { ok: false, status: code };
        });
      }
      refused(kind, options, code, error);
      return { ok: false, status: code, reply: reply };
    }

    /* The server has the text: follow its version, and its address for a new post. */
    function adopt(reply, sent) {
      setAll("input[name=version]", reply.version);
      if (String(reply.post_id) !== String(postId)) {
        var oldId = postId;
        postId = String(reply.post_id);
        autosaveUrl = reply.autosave_url;
        form.setAttribute("action", reply.edit_url);
        form.setAttribute("data-post-id", postId);
        form.setAttribute("data-autosave-url", autosaveUrl);
        forgetKept(oldId);
        if (!oldId && window.history && window.history.replaceState) {
          window.history.replaceState(null, "", reply.edit_url);
        }
      }
      stopped = null;
      hideNotice();
      if (JSON.stringify(fieldsOf(form)) === sent) {
        dirty = false;
        window.clearTimeout(keepTimer);
        keepTimer = null;
        forgetKept(postId);
      } else {
        writeKept();  /* typed on while it was sent: keep the newer text */
        changed();
      }
    }

    function offline(kind) {
      writeKept();
      var text = "Offline: the server could not be reached. Your text is kept in this browser";
      if (kind === "save") {
        show(text + ". Try again when you are back online.", [retryButton(kind)]);
      } else {
        say(text + "; autosave will try again.");
      }
      retryLater();
    }

    function retryLater() {
      var wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
      retries += 1;
      window.clearTimeout(pauseTimer);
      pauseTimer = window.setTimeout(function () { autosaveNow(); }, wait);
    }

    /* A save the server did not take: the text stays, the writer is told the way on. */
    function refused(kind, options, code, error) {
      writeKept();
      var message = error.message || "The save did not go through.";
      var kept = " Your text is kept in this browser.";
      if (code === 401 || error.reason === "signed_out") {
        stopped = "signed_out";
        show("You were signed out. Sign in again in a new tab, then press Retry." + kept,
             [link("Sign in (opens a new tab)", error.sign_in_url || signInUrl, true), retryButton(kind)]);
      } else if (code === 409) {
        if (kind === "save" && !options.copyOf) { return compare(); }
        stopped = "conflict";
        show("Someone else saved this post while you were editing. Nothing was overwritten." + kept,
             [button("Compare with the newer version", compare), copyButton()]);
      } else if (code === 403 || code === 404) {
        stopped = "forbidden";
        var ways = [copyButton()];
        if (error.post_url) { ways.push(link("Open the post", error.post_url, false)); }
        show(message + (message.indexOf("kept") === -1 ? kept : ""), ways);
      } else if (code === 400 && error.reason === "csrf") {
        stopped = "csrf";
        show("The page's security token expired and a fresh one was refused." + kept +
             " Reload the page in a new tab to check you are signed in, then press Retry.", [retryButton(kind)]);
      } else if (code === 400) {
        if (kind === "save") { show(message, []); } else { say(message); }
      } else {
        /* 507 storage full, 503 database away, 500 or anything else: try again later. */
        if (message.indexOf("kept") === -1) { message += kept; }
        show(message, [retryButton(kind)]);
        retryLater();
      }
      say(code === 409 ? "Someone else saved this post. Save to compare versions." : "Not saved: " + message);
      return { ok: false, status: code };
    }

    function freshToken(kind) {
      return window.fetch(csrfUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (reply) {
            if (response.ok && reply.csrf_token) { setAll("input[name=csrf_token]", reply.csrf_token); return true; }
            refused(kind, {}, response.status, reply.error || {});
            return false;
          });
        }, function () { offline(kind); return false; });
    }

    /* The conflict page compares both versions; it is the form's own answer without this script. */
    function compare() {
      writeKept();
      leaving = true;
      HTMLFormElement.prototype.submit.call(form);
      return { ok: false, status: 409 };
    }

    function copyButton() {
      return button("Save as a new draft", function () {
        stopped = null;
        run("save", { copyOf: postId || "0" });
      });
    }

    function retryButton(kind) {
      return button("Retry", function () {
        stopped = null;
        hideNotice();
        if (kind === "save") { saveNow({ navigate: true }); } else { dirty = true; autosaveNow(); }
      });
    }

    /* -- Text kept from before -------------------------------------------------------- */

    function offerKeptText() {
      var kept = readKept(postId);
      if (!kept || !kept.fields) { return; }
      if (sameText(kept.fields, serverText)) { forgetKept(postId); return; }
      var when = new Date(kept.at || Date.now());
      var older = kept.version && versionOf(form) && String(kept.version) !== String(versionOf(form));
      show("This browser kept text you had not saved, from " + when.toLocaleString() + "." +
           (older ? " The post was saved since; restoring puts your text over that version." : ""),
           [button("Restore my unsaved text", function () { restore(kept.fields); }),
            button("Discard", function () { forgetKept(postId); hideNotice(); })]);
    }

    function restore(fields) {
      Object.keys(fields).forEach(function (name) {
        var field = named(form, name);
        if (!field || NOT_KEPT[name]) { return; }
        if (field.type === "checkbox") { field.checked = fields[name] === "on"; } else { field.value = fields[name]; }
        if (name === "body") { field.dispatchEvent(new CustomEvent("circle:body-set", { bubbles: true })); }
      });
      hideNotice();
      changed();
      say("Your unsaved text is back. It will be autosaved.");
    }

    /* -- Words on the page -------------------------------------------------------------- */

    function say(text) { if (status) { status.textContent = text; } }

    function show(text, actions) {
      notice.textContent = "";
      var p = document.createElement("p");
      p.textContent = text;
      notice.appendChild(p);
      if (actions.length) {
        var row = document.createElement("p");
        row.className = "keeper-notice__actions";
        actions.forEach(function (action) { row.appendChild(action); row.appendChild(document.createTextNode(" ")); });
        notice.appendChild(row);
      }
      notice.hidden = false;
    }

    function hideNotice() { notice.hidden = true; notice.textContent = ""; }

    function csrfToken() {
      var input = form.querySelector("input[name=csrf_token]");
      return input ? input.value : "";
    }
  }

  function makeNotice(form) {
    var box = document.createElement("div");
    box.className = "flash flash--warning keeper-notice";
    box.setAttribute("role", "alert");
    box.hidden = true;
    form.parentNode.insertBefore(box, form);
    return box;
  }

  function button(text, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button button--quiet";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function link(text, href, newTab) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (newTab) { a.target = "_blank"; a.rel = "noopener"; }
    return a;
  }

  function setAll(selector, value) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (input) { input.value = value; });
  }

  function versionOf(form) {
    var input = form.querySelector("input[name=version]");
    return input ? input.value : "";
  }

  /* Every named field's text; defaults: what the server sent, not what is there now. */
  function fieldsOf(form, defaults) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || NOT_KEPT[el.name] || el.type === "submit" || el.type === "button" || el.type === "file") { return; }
      if (el.hasAttribute("data-trix-input")) { return; }  /* the editor's own link box */
      if (el.type === "checkbox") {
        fields[el.name] = (defaults ? el.defaultChecked : el.checked) ? "on" : "";
      } else if (el.tagName === "SELECT") {
        var chosen = defaults ? Array.prototype.filter.call(el.options, function (o) { return o.defaultSelected; })[0] : null;
        fields[el.name] = defaults ? (chosen ? chosen.value : (el.options[0] ? el.options[0].value : "")) : el.value;
      } else {
        fields[el.name] = defaults ? el.defaultValue : el.value;
      }
    });
    if (defaults) {
      /* The rich editor may have taken the body's name; the server's text is the textarea's. */
      var original = form.querySelector("textarea[data-rich-text]");
      if (original) { fields.body = original.defaultValue; }
    }
    return fields;
  }

  function sameText(a, b) {
    return Object.keys(a).every(function (name) {
      return !(name in b) || String(a[name]).trim() === String(b[name]).trim();
    });
  }

  /* The form's field of that name (form.elements[name] also matches ids: the editor's
     textarea keeps id "body" after giving its name to a hidden field). */
  function named(form, name) {
    return Array.prototype.filter.call(form.elements, function (el) { return el.name === name; })[0] || null;
  }

  function hasWords(form) {
    var title = named(form, "title"), body = named(form, "body");
    return Boolean((title && title.value.trim()) || (body && body.value.replace(/<[^>]*>/g, "").trim()));
  }
}());
