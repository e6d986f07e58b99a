// A statement PDF being prepared (portal and admin): ask the server every two seconds how far it is, show
// it, and reload the page once it is ready or has failed (the page then offers the download). A static
// file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var box = document.querySelector("[data-statement-pdf-status]");
  if (!box || box.getAttribute("data-pending") !== "true") return;
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  function poll() {
    fetch(box.getAttribute("data-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (state) {
        if (!state.pending) { window.location.reload(); return; }
        if (bar && state.pages_total) { bar.max = state.pages_total; bar.value = state.pages_done; }
        if (text) text.textContent = state.label;
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
