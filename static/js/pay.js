// The checkout page: Stripe's Payment Element when Stripe is configured, else one click per payment.
(function () {
  var form = document.getElementById("payment-form");
  if (form && window.Stripe) {
    var stripe = Stripe(form.dataset.key);
    var elements = stripe.elements({clientSecret: form.dataset.secret});
    elements.create("payment").mount("#payment-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[data-pay]");
      button.disabled = true;  // one click, one confirmation
      // Saving first (a SetupIntent), then the server pays with the saved method; else pay directly.
      var confirm = form.dataset.mode === "setup" ? stripe.confirmSetup : stripe.confirmPayment;
      confirm.call(stripe, {elements: elements, confirmParams: {return_url: form.dataset.return}}).then(function (result) {
        if (result.error) { document.getElementById("payment-error").textContent = result.error.message; button.disabled = false; }
      });
    });
    return;
  }
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("[data-pay]");
      if (b) { setTimeout(function () { b.disabled = true; }, 0); }
    });
  });
})();
