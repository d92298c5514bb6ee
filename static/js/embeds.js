/* Video embeds in an article: a click-to-load poster.
 *
 * A stored embed is <figure class="embed" data-embed="youtube|vimeo" data-embed-id="ID">
 * holding a link to the video (what readers without scripts get) and maybe a caption.
 * This script puts a local poster button in front of it. Nothing is asked of YouTube or
 * Vimeo until the reader presses the button; then the player's frame is inserted (the
 * page's Content-Security-Policy allows exactly these two frame origins).
 */
(function () {
  "use strict";

  var PLAYERS = {
    youtube: {
      name: "YouTube",
      id: /^[A-Za-z0-9_-]{11}$/,
      src: function (id) { return "https://www.youtube-nocookie.com/embed/" + id + "?autoplay=1"; },
    },
    vimeo: {
      name: "Vimeo",
      id: /^[0-9]{1,20}$/,
      src: function (id) { return "https://player.vimeo.com/video/" + id + "?autoplay=1"; },
    },
  };

  function textOf(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function describe(figure) {
    var caption = null;
    var link = null;
    for (var i = 0; i < figure.children.length; i++) {
      var child = figure.children[i];
      if (!caption && child.tagName === "FIGCAPTION") caption = child;
      if (!link && child.tagName === "A") link = child;
    }
    return textOf(caption) || textOf(link) || "video";
  }

  function play(figure, player, id, title, poster) {
    var frame = document.createElement("iframe");
    frame.className = "embed__frame";
    frame.src = player.src(id);
    frame.title = player.name + " video: " + title;
    frame.setAttribute("allow", "autoplay; fullscreen; picture-in-picture");
    frame.setAttribute("allowfullscreen", "");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    poster.replaceWith(frame);
    figure.classList.add("embed--playing");
    frame.focus();
  }

  function addPoster(figure) {
    var player = PLAYERS[figure.getAttribute("data-embed")];
    var id = figure.getAttribute("data-embed-id") || "";
    if (!player || !player.id.test(id) || figure.querySelector(".embed__poster")) return;
    var title = describe(figure);
    var poster = document.createElement("button");
    poster.type = "button";
    poster.className = "embed__poster";
    var icon = document.createElement("span");
    icon.className = "embed__icon";
    icon.setAttribute("aria-hidden", "true");
    var label = document.createElement("span");
    label.className = "embed__label";
    label.textContent = "Play video: " + title + " (" + player.name + ")";
    poster.append(icon, label);
    poster.addEventListener("click", function () { play(figure, player, id, title, poster); });
    figure.prepend(poster);
    figure.classList.add("embed--poster");
  }

  function start() {
    var figures = document.querySelectorAll("figure.embed[data-embed][data-embed-id]");
    for (var i = 0; i < figures.length; i++) addPoster(figures[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
