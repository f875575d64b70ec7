// The claims import's progress bar: polls the status endpoint every second until the import has
// finished, then reloads once to show the result and the error list. No inline script: the
// content security policy forbids it.
(function () {
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "1") { return; }
  var url = box.dataset.statusUrl;
  var bar = box.querySelector("[data-progress-bar]");

  function show(status) {
    Object.keys(status).forEach(function (key) {
      var field = box.querySelector('[data-field="' + key + '"]');
      if (field) { field.textContent = status[key] === "" ? "—" : String(status[key]); }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) {
          bar.classList.remove("progress-bar-animated", "progress-bar-striped");
          bar.classList.add(status.status === "imported" ? "bg-success" : "bg-danger");
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 1000);
})();
