// The dev-store emulator's stand-in for Shopify App Bridge
// (https://cdn.shopify.com/shopifycloud/app-bridge.js), for the demo and
// browser tests: the same global `shopify` with idToken() and toast, the
// same fetch interceptor adding "Authorization: Bearer <ID token>" to the
// app's own requests (retrying once on X-Shopify-Retry-Invalid-Session-Request),
// the same bounce behaviour (reload shopify-reload with a fresh id_token), and
// the scopes API (query, request with a permission modal, revoke).
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

  // The scopes API (shopify.scopes): query, request (Shopify admin's
  // permission modal, drawn here over the page: Grant or Decline) and revoke.
  async function scopesCall(action, scopes) {
    var res = await nativeFetch(emulator + "/emulator/app-bridge/scopes", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ shop: shop, api_key: apiKey, action: action, scopes: scopes || [] })
    });
    var body = await res.json();
    if (!res.ok) throw new Error("App Bridge (emulated): " + (body.error || res.status));
    return body;
  }

  function permissionModal(scopes) {
    return new Promise(function (resolve) {
      var overlay = document.createElement("div");
      overlay.id = "app-bridge-scopes-modal";
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-labelledby", "app-bridge-scopes-title");
      overlay.style.cssText = "position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;" +
        "justify-content:center;z-index:2147483647;font:14px/1.4 system-ui,sans-serif";
      var box = document.createElement("div");
      box.style.cssText = "background:#fff;color:#303030;border-radius:12px;padding:20px;max-width:360px;width:calc(100% - 32px)";
      var title = document.createElement("h2");
      title.id = "app-bridge-scopes-title";
      title.style.cssText = "font-size:16px;margin:0 0 8px";
      title.textContent = "Grant additional access?";
      var text = document.createElement("p");
      text.textContent = "This app is asking for permission to:";
      var list = document.createElement("ul");
      scopes.forEach(function (sc) { var li = document.createElement("li"); li.textContent = sc; list.appendChild(li); });
      var decline = document.createElement("button");
      decline.type = "button"; decline.id = "app-bridge-scopes-decline"; decline.textContent = "Decline";
      var grant = document.createElement("button");
      grant.type = "button"; grant.id = "app-bridge-scopes-grant"; grant.textContent = "Grant access";
      grant.style.cssText = "margin-left:8px;background:#303030;color:#fff;border:0;border-radius:8px;padding:6px 12px";
      var actions = document.createElement("div");
      actions.style.cssText = "text-align:right;margin-top:12px";
      actions.append(decline, grant);
      box.append(title, text, list, actions);
      overlay.appendChild(box);
      function done(ok) { overlay.remove(); resolve(ok); }
      decline.addEventListener("click", function () { done(false); });
      grant.addEventListener("click", function () { done(true); });
      document.body.appendChild(overlay);
      grant.focus();
    });
  }

  var scopesAPI = {
    query: function () { return scopesCall("query"); },
    request: async function (scopes) {
      if (!(await permissionModal(scopes))) {
        return { result: "declined-all", detail: await scopesCall("query") };
      }
      return scopesCall("grant", scopes);
    },
    revoke: function (scopes) { return scopesCall("revoke", scopes); }
  };

  window.shopify = {
    config: { apiKey: apiKey, shop: shop },
    idToken: idToken,
    scopes: scopesAPI,
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
