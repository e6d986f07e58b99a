// Small enhancements only; every page works without JavaScript.
(function () {
  var toggle = document.querySelector("[data-nav-toggle]");
  var nav = document.getElementById("sidebar");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // An account typed by name (the statement of a parent with many branches): the names that match, as the
  // browser's suggestions. Without this the name typed is still looked up when the form is sent.
  document.querySelectorAll("input[data-account-search]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var text = input.value.trim();
        if (text.length < 2 || text === asked || !list) { return; }
        asked = text;
        fetch(input.getAttribute("data-account-search") + "?q=" + encodeURIComponent(text),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { accounts: [] }; })
          .then(function (data) {
            if (input.value.trim() !== text) { return; }
            list.replaceChildren.apply(list, data.accounts.map(function (name) {
              var option = document.createElement("option");
              option.value = name;
              return option;
            }));
          })
          .catch(function () { asked = ""; });
      }, 150);
    });
  });
})();
