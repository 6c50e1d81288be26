// The dev-store emulator's stand-in for Shopify App Bridge
// (https://cdn.shopify.com/shopifycloud/app-bridge.js), for the demo and
// browser tests: the same global `shopify` with idToken() and toast, the
// same fetch interceptor adding "Authorization: Bearer <ID token>" to the
// app's own requests (retrying once on X-Shopify-Retry-Invalid-Session-Request),
// the same bounce behaviour (reload shopify-reload with a fresh id_token),
// the scopes API (query, request with a permission modal, revoke), and the
// parts of Shopify admin's frame App Bridge draws: toasts, the app's nav
// (<s-app-nav>) and the contextual save bar of forms marked data-save-bar.
// The frame is drawn over the page in elements whose ids start with
// "app-bridge-", as the real admin draws it outside the app's iframe.
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
    toast: { show: showToast },
    saveBar: { leaveConfirmation: function () { return Promise.resolve(); } }
  };

  // Toasts: one at a time, as Shopify admin shows them.
  function showToast(message, opts) {
    var t = document.getElementById("app-bridge-toast");
    if (!t) {
      t = document.createElement("div");
      t.id = "app-bridge-toast";
      t.setAttribute("role", "status");
      t.setAttribute("aria-live", "polite");
      t.style.cssText = "position:fixed;bottom:16px;left:50%;transform:translateX(-50%);color:#fff;padding:10px 16px;" +
        "border-radius:10px;z-index:2147483646;max-width:90vw;font:14px/1.4 system-ui,sans-serif";
      document.body.appendChild(t);
    }
    t.textContent = String(message);
    t.dataset.error = opts && opts.isError ? "true" : "false";
    t.style.background = opts && opts.isError ? "#8e0b21" : "#303030";
    t.hidden = false;
    clearTimeout(t._timer);
    t._timer = setTimeout(function () { t.hidden = true; }, (opts && opts.duration) || 5000);
  }

  // The app's nav: Shopify admin lists <s-app-nav>'s links in its sidebar;
  // here they form a bar above the page. The link with rel="home" is the
  // app's name.
  function drawNav() {
    var menu = document.querySelector("s-app-nav");
    if (!menu || document.getElementById("app-bridge-nav")) return;
    var nav = document.createElement("nav");
    nav.id = "app-bridge-nav";
    nav.setAttribute("aria-label", "Shopify admin (emulated): app menu");
    nav.style.cssText = "display:flex;flex-wrap:wrap;gap:4px;padding:8px 16px;background:#1a1a1a;font:14px/1.4 system-ui,sans-serif";
    var here = location.pathname.replace(/\/$/, "") || "/";
    Array.prototype.forEach.call(menu.querySelectorAll("a[href], s-link[href]"), function (src) {
      var a = document.createElement("a");
      a.href = src.getAttribute("href");
      a.textContent = src.textContent;
      var path = new URL(a.href, location.href).pathname;
      var current = path === here || (here === "/" && src.getAttribute("rel") === "home") ||
        (src.getAttribute("rel") !== "home" && here.indexOf(path + "/") === 0);
      if (current) a.setAttribute("aria-current", "page");
      a.style.cssText = "color:#fff;padding:6px 12px;border-radius:8px;text-decoration:none;font-weight:550;" +
        (current ? "background:#4a4a4a" : "");
      nav.appendChild(a);
    });
    document.body.insertBefore(nav, document.body.firstChild);
  }

  // The contextual save bar: a form with data-save-bar shows it once a
  // value differs from the page's; Save submits the form (its submit
  // event), Discard resets it (reset event), and either hides the bar.
  // data-discard-confirmation asks before discarding.
  function formState(form) {
    return Array.prototype.map.call(form.elements, function (el) {
      if (!el.name) return "";
      if (el.type === "checkbox" || el.type === "radio") return el.name + "=" + el.checked;
      return el.name + "=" + el.value;
    }).join("\n");
  }
  var saveBarForm = null;
  // showBar shows or hides the bar (hidden, and display for layout).
  function showBar(on) {
    var bar = saveBar();
    bar.hidden = !on;
    bar.style.display = on ? "flex" : "none";
  }
  function saveBar() {
    var bar = document.getElementById("app-bridge-save-bar");
    if (bar) return bar;
    bar = document.createElement("div");
    bar.id = "app-bridge-save-bar";
    bar.setAttribute("role", "region");
    bar.setAttribute("aria-label", "Unsaved changes");
    bar.style.cssText = "position:fixed;top:0;left:0;right:0;display:none;gap:8px;align-items:center;padding:10px 16px;" +
      "background:#1a1a1a;color:#fff;z-index:2147483645;font:14px/1.4 system-ui,sans-serif";
    var text = document.createElement("strong");
    text.textContent = "Unsaved changes";
    text.style.flex = "1";
    var discard = document.createElement("button");
    discard.type = "button"; discard.id = "app-bridge-save-bar-discard"; discard.textContent = "Discard";
    var save = document.createElement("button");
    save.type = "button"; save.id = "app-bridge-save-bar-save"; save.textContent = "Save";
    save.style.cssText = "background:#fff;color:#1a1a1a;border:0;border-radius:8px;padding:6px 12px;font-weight:650";
    discard.style.cssText = "background:transparent;color:#fff;border:1px solid #8a8a8a;border-radius:8px;padding:6px 12px";
    discard.addEventListener("click", function () {
      var f = saveBarForm;
      if (!f) return;
      if (f.hasAttribute("data-discard-confirmation") && !window.confirm("Discard all unsaved changes?")) return;
      f.reset();
    });
    save.addEventListener("click", function () { if (saveBarForm) saveBarForm.requestSubmit(); });
    bar.append(text, discard, save);
    document.body.appendChild(bar);
    return bar;
  }
  function trackForms() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-save-bar]"), function (form) {
      var initial = formState(form);
      function check() {
        var dirty = formState(form) !== initial;
        if (dirty) { saveBarForm = form; showBar(true); }
        else if (saveBarForm === form) { saveBarForm = null; showBar(false); }
      }
      function hide() { if (saveBarForm === form) { saveBarForm = null; showBar(false); } }
      form.addEventListener("input", check);
      form.addEventListener("change", check);
      form.addEventListener("submit", hide);
      form.addEventListener("reset", function () { setTimeout(function () { initial = formState(form); hide(); }, 0); });
    });
  }

  // The frame is drawn once the page's own scripts (deferred, run before
  // DOMContentLoaded) have made its controls.
  function drawFrame() {
    drawNav();
    trackForms();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawFrame);
  else drawFrame();

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
