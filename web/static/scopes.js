// acpbridge admin: turns on a feature that needs an optional access scope.
// The button asks Shopify for that one scope through App Bridge's scopes
// API (Shopify shows its permission modal); once granted, the app reads the
// grant from Shopify at once (POST /api/scopes/sync) and the page reloads
// with the feature on. Declined, nothing changes.
(function () {
  "use strict";

  function say(msg, isError) {
    if (window.shopify && window.shopify.toast && window.shopify.toast.show) {
      window.shopify.toast.show(msg, { isError: !!isError });
    }
  }

  function reload() {
    var u = new URL(location.href);
    u.searchParams.delete("id_token");
    location.assign(u.toString());
  }

  async function grant(button) {
    var scope = button.dataset.grantScope;
    if (!window.shopify || !window.shopify.scopes) {
      say("Open the app inside Shopify admin to grant " + scope + ".", true);
      return;
    }
    button.disabled = true;
    try {
      var answer = await window.shopify.scopes.request([scope]);
      if (!answer || answer.result !== "granted-all") {
        say("Access not granted: the feature stays off.");
        return;
      }
      var res = await fetch("/api/scopes/sync", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      if (!res.ok) throw new Error("the app could not read the new access (" + res.status + ")");
      say("Access granted: the feature is on.");
      reload();
    } catch (err) {
      say(String(err.message || err), true);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-grant-scope]");
    if (b) grant(b);
  });
})();
