// The admin's two-list selector (SelectFilter2.js) labels its magnifier icon with aria-label on
// a plain <span>, which has no role that may carry a name (axe: aria-prohibited-attr). As an
// image the icon keeps its name. Runs after SelectFilter2, which builds the widget on "load".
(function () {
  "use strict";
  window.addEventListener("load", function () {
    document.querySelectorAll("span.search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  });
})();
