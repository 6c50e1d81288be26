// The dev-store emulator's stand-in for Shopify App Bridge
// (https://cdn.shopify.com/shopifycloud/app-bridge.js), for the demo and
// browser tests: the same global `shopify` with idToken() and toast, the
// same fetch interceptor adding "Authorization: Bearer <ID token>" to the
// app's own requests (retrying once on X-Shopify-Retry-Invalid-Session-Request),
// and the same bounce behaviour (reload shopify-reload with a fresh id_token).
(function () {
  "use strict";
  var script = document.currentScript;
  var emulator = new URL(script.src).origin;
  var meta = document.querySelector('meta[name="shopify-api-key"]');
  var apiKey = (meta && meta.content) || script.getAttribute("data-api-key") || "";
  var params = new URLSearchParams(location.search);
  var shop = params.get("shop") || "";
  var nativeFetch = window.fetch.bind(window);

  async function idToken() {
    var res = await nativeFetch(emulator + "/emulator/app-bridge/id-token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ shop: shop, api_key: apiKey })
    });
    if (!res.ok) throw new Error("App Bridge (emulated): no ID token for " + shop + " (" + res.status + ")");
    return (await res.json()).id_token;
  }

  function sameOrigin(input) {
    var url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
    return new URL(url, location.href).origin === location.origin;
  }

  window.fetch = async function (input, init) {
    if (!sameOrigin(input)) return nativeFetch(input, init);
    init = Object.assign({}, init || {});
    var headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    headers.set("Authorization", "Bearer " + (await idToken()));
    init.headers = headers;
    var res = await nativeFetch(input, init);
    if (res.status === 401 && res.headers.get("X-Shopify-Retry-Invalid-Session-Request")) {
      headers.set("Authorization", "Bearer " + (await idToken()));
      res = await nativeFetch(input, init);
    }
    return res;
  };

  window.shopify = {
    config: { apiKey: apiKey, shop: shop },
    idToken: idToken,
    toast: { show: function () { /* the page shows its own toast */ } }
  };

  var reload = params.get("shopify-reload");
  if (reload) {
    var target = new URL(reload, location.href);
    if (target.origin !== location.origin) {
      document.body && (document.body.textContent = "App Bridge (emulated): refusing to reload another origin.");
      return;
    }
    idToken().then(function (t) {
      target.searchParams.set("id_token", t);
      location.replace(target.toString());
    }, function (err) {
      document.addEventListener("DOMContentLoaded", function () { document.body.textContent = String(err); });
    });
  }
})();
