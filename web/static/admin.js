// acpbridge admin: sends the pages' forms to the JSON API (App Bridge adds
// the ID token to every fetch of our origin), shows errors beside their
// fields, shows a new secret once, copies values, and follows a catalog
// sync. No framework: the pages are server-rendered.
(function () {
  "use strict";

  function toast(msg, isError) {
    if (window.shopify && window.shopify.toast && window.shopify.toast.show) {
      window.shopify.toast.show(msg, { isError: !!isError });
    }
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    t.className = "show";
    clearTimeout(t._timer);
    t._timer = setTimeout(function () { t.className = ""; }, 4000);
  }

  // reload shows the page again with fresh data: without the used ID token
  // the server sends it through the bounce page, which brings a new one.
  function reload() {
    var u = new URL(location.href);
    u.searchParams.delete("id_token");
    location.assign(u.toString());
  }

  function valueOf(el) {
    if (el.type === "checkbox") return el.checked;
    if (el.type === "number") return el.value === "" ? 0 : Number(el.value);
    if (el.dataset.list !== undefined) {
      return el.value.split(/[\s,]+/).filter(Boolean);
    }
    return el.value;
  }

  function collect(form, submitter) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.tagName === "BUTTON") return;
      if (el.dataset.id !== undefined) { // a checkbox that selects an id
        if (!body[el.name]) body[el.name] = [];
        if (el.checked) body[el.name].push(Number(el.value));
        return;
      }
      if (el.dataset.int !== undefined) { body[el.name] = Number(el.value); return; }
      if (el.type === "radio") { if (el.checked) body[el.name] = el.value; return; }
      body[el.name] = valueOf(el);
    });
    if (submitter && submitter.dataset.set) {
      var extra = JSON.parse(submitter.dataset.set);
      Object.keys(extra).forEach(function (k) { body[k] = extra[k]; });
    }
    return body;
  }

  function clearErrors(form) {
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".field-error, .form-error").forEach(function (el) { el.textContent = ""; });
  }

  function showError(form, err) {
    var param = (err.param || "").replace(/^\$\./, "");
    var field = param && (form.querySelector('[name="' + param + '"]') || form.querySelector('[data-error-name~="' + param + '"]'));
    var msg = err.message || "Something went wrong.";
    if (field) {
      field.setAttribute("aria-invalid", "true");
      var box = document.getElementById(field.getAttribute("aria-describedby") || "") || form.querySelector('[data-error-for="' + field.name + '"]');
      if (box) box.textContent = msg;
      field.focus();
    }
    var general = form.querySelector(".form-error");
    if (general && (!field || !general.textContent)) general.textContent = msg;
    toast(msg, true);
  }

  var secretKeys = ["api_key", "signing_secret", "webhook_secret", "secret"];

  function showSecret(form, value, note) {
    var box = form.querySelector(".secret-box");
    if (!box) {
      box = document.createElement("div");
      box.className = "secret-box";
      box.setAttribute("role", "status");
      form.appendChild(box);
    }
    box.innerHTML = "";
    var p = document.createElement("p");
    p.textContent = note || "Copy it now: it is not shown again.";
    var code = document.createElement("code");
    code.className = "secret-value";
    code.textContent = value;
    var copy = document.createElement("button");
    copy.type = "button";
    copy.textContent = "Copy";
    copy.dataset.copy = value;
    var done = document.createElement("button");
    done.type = "button";
    done.textContent = "Done";
    done.addEventListener("click", reload);
    box.append(p, code, document.createElement("br"), copy, done);
  }

  async function send(form, submitter) {
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    clearErrors(form);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      var method = (submitter && submitter.dataset.method) || form.dataset.method || "POST";
      var url = (submitter && submitter.dataset.api) || form.dataset.api;
      var init = { method: method, headers: { "Accept": "application/json" } };
      if (method !== "DELETE") {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(collect(form, submitter));
      }
      var res = await fetch(url, init);
      var data = {};
      try { data = await res.json(); } catch (e) { /* 204 */ }
      if (!res.ok) { showError(form, data); return; }
      // Shopify's approval page (billing) cannot be framed: open it at the
      // top level, which App Bridge does from inside the admin's iframe.
      if (data.redirect) { toast(data.message || "Opening Shopify…"); window.open(data.redirect, "_top"); return; }
      var secret = secretKeys.map(function (k) { return data[k]; }).filter(Boolean)[0];
      if (secret) { showSecret(form, secret, data.message); toast("Created. Copy it now."); return; }
      var target = form.dataset.result && document.querySelector(form.dataset.result);
      if (target) { renderResult(target, data); toast(data.message || "Done."); return; }
      toast(data.message || "Saved.");
      if (form.dataset.stay === undefined) setTimeout(reload, 700);
    } catch (e) {
      showError(form, { message: "Could not reach the app: " + e.message });
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  // renderResult shows a test checkout's answer.
  function renderResult(target, data) {
    target.innerHTML = "";
    var h = document.createElement("p");
    h.textContent = data.message || "";
    target.appendChild(h);
    if (data.item) {
      var p = document.createElement("p");
      p.textContent = "Item: " + data.item + " — session status: " + data.status;
      target.appendChild(p);
    }
    if (data.totals) {
      var ul = document.createElement("ul");
      data.totals.forEach(function (t) {
        var li = document.createElement("li");
        li.textContent = t.label + ": " + t.amount;
        ul.appendChild(li);
      });
      target.appendChild(ul);
    }
    if (data.shipping_options && data.shipping_options.length) {
      var s = document.createElement("p");
      s.textContent = "Shipping options: " + data.shipping_options.join(", ");
      target.appendChild(s);
    }
    (data.messages || []).forEach(function (m) {
      var q = document.createElement("p");
      q.className = "muted";
      q.textContent = m;
      target.appendChild(q);
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.dataset || !form.dataset.api) return;
    ev.preventDefault();
    send(form, ev.submitter);
  });

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-copy]");
    if (!b) return;
    var text = b.dataset.copy;
    var done = function () { toast("Copied."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else { fallbackCopy(text); done(); }
  });

  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing to do */ }
    ta.remove();
  }

  // Catalog sync with live progress.
  async function followSync(box) {
    var text = box.querySelector("[data-sync-text]");
    var bar = box.querySelector("progress");
    for (;;) {
      var res = await fetch("/api/catalog", { headers: { "Accept": "application/json" } });
      if (!res.ok) { text.textContent = "Could not read the sync's progress."; return; }
      var st = await res.json();
      var sy = st.sync || {};
      var done = sy.status === "completed" || sy.status === "failed";
      text.textContent = "Sync " + sy.status + ": " + (sy.rows_done || 0) + (sy.rows_expected ? " of " + sy.rows_expected : "") + " rows" + (sy.error ? " — " + sy.error : "");
      if (bar) {
        if (sy.rows_expected) { bar.max = sy.rows_expected; bar.value = Math.min(sy.rows_done, sy.rows_expected); }
        else if (done) { bar.max = 1; bar.value = 1; } else { bar.removeAttribute("value"); }
      }
      if (done) { toast("Sync " + sy.status + "."); if (sy.status === "completed") setTimeout(reload, 1500); return; }
      await new Promise(function (r) { setTimeout(r, 1000); });
    }
  }

  document.addEventListener("click", async function (ev) {
    var b = ev.target.closest("[data-sync-now]");
    if (!b) return;
    var box = document.querySelector("[data-sync-box]");
    b.disabled = true;
    try {
      var res = await fetch("/api/catalog/sync", { method: "POST", headers: { "Accept": "application/json" } });
      var data = await res.json().catch(function () { return {}; });
      if (!res.ok) { toast(data.message || "Could not start a sync.", true); return; }
      toast("Sync started.");
      await followSync(box);
    } finally { b.disabled = false; }
  });

  // "Select all" in the products table.
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest("[data-select-all]");
    if (!all) return;
    var form = all.form;
    Array.prototype.forEach.call(form.querySelectorAll("input[data-id]"), function (c) { c.checked = all.checked; });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-sync-box][data-running]");
    if (box) followSync(box);
  });
})();
