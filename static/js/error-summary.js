// The error summary of a form sent back with errors (NL Design System): it takes the focus when
// the page loads, so that a screen reader reads it first and a keyboard user starts there; each
// of its links puts the focus on its field. Without JavaScript the links still jump to the field.
(function () {
  var summaries = document.querySelectorAll("[data-error-summary]");
  if (!summaries.length || document.documentElement.hasAttribute("data-error-summary-ready")) {
    return; // the script is included once per summary; one run does all of them
  }
  document.documentElement.setAttribute("data-error-summary-ready", "");

  function labelOf(input) {
    var fieldset = input.closest("fieldset");
    if (fieldset && (input.type === "radio" || input.type === "checkbox")) {
      var legend = fieldset.querySelector("legend");
      if (legend) { return legend; }
    }
    return (input.labels && input.labels[0]) || input;
  }

  summaries.forEach(function (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) { return; }
      var input = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!input) { return; }
      event.preventDefault();
      var details = input.closest("details");
      if (details) { details.open = true; }
      labelOf(input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  });
  summaries[0].focus();
})();
