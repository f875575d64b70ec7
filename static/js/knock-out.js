// The checklist form: a knock-out item whose chosen answer does not meet it warns at once,
// beside the item, in the same words the server uses after saving (progressive enhancement:
// without JavaScript the warning appears after "Save draft" or "Submit checklist").
document.querySelectorAll("[data-knock-out-passing]").forEach(function (item) {
  var passing = JSON.parse(item.getAttribute("data-knock-out-passing"));
  var warning = item.querySelector(".knock-out-warning");
  if (!warning) { return; }
  item.querySelectorAll("input[type=radio][name$='_value']").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked) { return; }
      warning.textContent = passing.indexOf(radio.value) === -1
        ? warning.getAttribute("data-warning")
        : "";
    });
  });
});
