// Warns before the idle logout (accounts.middleware.SessionTimeoutMiddleware) and lets the user
// stay logged in; after the idle time the page reloads, and the server asks for a new login.
(function () {
  "use strict";
  var body = document.body;
  var idle = Number(body.dataset.sessionIdle);
  var warning = Number(body.dataset.sessionWarning);
  var dialog = document.getElementById("session-warning");
  if (!idle || !dialog) {
    return;
  }
  var stay = dialog.querySelector("[data-session-stay]");
  var warnTimer, endTimer;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(function () {
      dialog.hidden = false;
      stay.focus();
    }, Math.max(idle - warning, 0) * 1000);
    endTimer = setTimeout(function () {
      window.location.reload();
    }, (idle + 5) * 1000);
  }

  stay.addEventListener("click", function () {
    fetch(body.dataset.sessionKeepalive, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.ok) {
        dialog.hidden = true;
        schedule();
      } else {
        window.location.reload();
      }
    });
  });
  schedule();
})();
