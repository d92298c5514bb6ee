/* The navigation screen: the add forms show only the field their "Leads to" choice needs.
 *
 * Without this script every field shows and the server takes the one that goes with
 * the chosen kind, so the forms work the same either way.
 */
(function () {
  "use strict";

  var FIELDS = { section: "section", tag: "tag", page: "page", link: "address" };

  function setUp(form) {
    var kind = form.querySelector("select[name$='-kind']");
    if (!kind) {
      return;
    }
    var prefix = kind.name.slice(0, -"kind".length);
    function show() {
      Object.keys(FIELDS).forEach(function (name) {
        var control = form.querySelector("[name='" + prefix + FIELDS[name] + "']");
        var field = control && control.closest(".field");
        if (field) {
          field.hidden = name !== kind.value;
        }
      });
    }
    kind.addEventListener("change", show);
    show();
  }

  document.querySelectorAll("form.menu-editor__add").forEach(setUp);
})();
