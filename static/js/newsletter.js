// The newsletter page: while a send is going out, refresh its progress table every few
// seconds (the server renders the numbers; this only fetches the page again).
(function () {
  "use strict";
  var PERIOD = 5000;

  function refresh() {
    var box = document.querySelector("[data-newsletter-progress][data-refresh]");
    if (!box) return;
    fetch(box.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .querySelector("[data-newsletter-progress]");
        if (!fresh) return;
        box.replaceWith(fresh);
        if (fresh.hasAttribute("data-refresh")) window.setTimeout(refresh, PERIOD);
      })
      .catch(function () { window.setTimeout(refresh, PERIOD * 3); });
  }

  window.setTimeout(refresh, PERIOD);
})();
