// The claims import's progress bar: polls the status endpoint every second until the import has
// finished, then reloads once to show the result and the error list. No inline script: the
// content security policy forbids it.
(function () {
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "1") { return; }
  var url = box.dataset.statusUrl;
  var bar = box.querySelector("[data-progress-bar]");

  var track = box.querySelector("[data-progress]");

  // The share of lines checked, once the file's lines are counted; until then the striped bar
  // fills the width. The width is set through the DOM: the CSP allows no inline style.
  function showPercent(percent) {
    if (percent === "" || percent === undefined) { return; }
    bar.classList.remove("w-100");
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    track.setAttribute("aria-valuenow", String(percent));
  }

  function show(status) {
    Object.keys(status).forEach(function (key) {
      var field = box.querySelector('[data-field="' + key + '"]');
      if (field) { field.textContent = status[key] === "" ? "—" : String(status[key]); }
    });
    showPercent(status.percent);
  }

  showPercent(bar.dataset.percent);

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
