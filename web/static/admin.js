// acpbridge admin: sends the pages' forms to the JSON API (App Bridge adds
// the ID token to every fetch of our origin), shows errors beside their
// fields, shows a new secret once, copies values, and follows a catalog
// sync. No framework: the pages are server-rendered.
//
// The pages are written with Polaris web components (s-text-field,
// s-select, s-checkbox, s-button, ...). Polaris' fields are
// form-associated, so a form's elements are the s-* fields themselves.
// Without Polaris (the demo, POLARIS_URL=off, a blocked CDN) the s-*
// elements are unknown to the browser: polyfill() below replaces each with
// the native control it stands for (a <label>, the <input>, its details and
// error line), so the same forms work, with the same names and ids.
(function () {
  "use strict";

  // toast shows a message with App Bridge's toast, the only one merchants
  // see (Shopify admin draws it; the demo's App Bridge stand-in too).
  function toast(msg, isError) {
    if (window.shopify && window.shopify.toast && window.shopify.toast.show) {
      window.shopify.toast.show(msg, { isError: !!isError });
    }
  }

  var polaris = !!(window.customElements && window.customElements.get("s-text-field"));

  // reload shows the page again with fresh data: without the used ID token
  // the server sends it through the bounce page, which brings a new one.
  function reload() {
    var u = new URL(location.href);
    u.searchParams.delete("id_token");
    location.assign(u.toString());
  }

  // isField reports whether el is one of Polaris' fields (not a native
  // control): its value is its property, its error its error attribute.
  function isField(el) { return el.tagName.indexOf("S-") === 0; }

  function kindOf(el) {
    var tag = el.tagName.toLowerCase();
    if (tag === "s-checkbox" || tag === "s-switch" || el.type === "checkbox") return "checkbox";
    if (tag === "s-choice-list") return "choice";
    if (el.type === "radio") return "radio";
    if (tag === "s-number-field" || el.type === "number") return "number";
    return "text";
  }

  function valueOf(el) {
    switch (kindOf(el)) {
    case "checkbox": return el.checked;
    case "number": return el.value === "" ? 0 : Number(el.value);
    case "choice": return (el.values && el.values[0]) || "";
    }
    if (el.dataset.list !== undefined) {
      return String(el.value).split(/[\s,]+/).filter(Boolean);
    }
    return el.value;
  }

  function collect(form, submitter) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.tagName === "BUTTON" || el.tagName === "S-BUTTON") return;
      if (el.dataset.id !== undefined) { // selects an id: a checkbox, or hidden (always)
        if (!body[el.name]) body[el.name] = [];
        if (el.type === "hidden" || el.checked) body[el.name].push(Number(el.value));
        return;
      }
      if (el.dataset.int !== undefined) { body[el.name] = Number(el.value); return; }
      if (kindOf(el) === "radio") { if (el.checked) body[el.name] = el.value; return; }
      body[el.name] = valueOf(el);
    });
    if (submitter && submitter.dataset.set) {
      var extra = JSON.parse(submitter.dataset.set);
      Object.keys(extra).forEach(function (k) { body[k] = extra[k]; });
    }
    return body;
  }

  function clearErrors(form) {
    form.querySelectorAll("[error]").forEach(function (el) { if (isField(el)) { el.removeAttribute("error"); el.error = ""; } });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".field-error, .form-error").forEach(function (el) { el.textContent = ""; });
  }

  // showError puts the API's error beside the field it names: Polaris'
  // field shows its error attribute; a native control gets aria-invalid
  // and its error line.
  function showError(form, err) {
    var param = (err.param || "").replace(/^\$\./, "");
    var field = param && (form.querySelector('[name="' + param + '"]') || form.querySelector('[data-error-name~="' + param + '"]'));
    var msg = err.message || "Something went wrong.";
    if (field) {
      if (isField(field)) {
        field.setAttribute("error", msg);
        field.error = msg;
      } else {
        field.setAttribute("aria-invalid", "true");
        var box = document.getElementById(field.dataset.errorBox || "") || form.querySelector('[data-error-for="' + field.name + '"]');
        if (box) box.textContent = msg;
      }
      field.focus();
    }
    var general = form.querySelector(".form-error");
    if (general && (!field || !general.textContent)) general.textContent = msg;
    toast(msg, true);
  }

  // button makes a button of the page's kind.
  function button(text) {
    var b = document.createElement(polaris ? "s-button" : "button");
    b.setAttribute("type", "button");
    b.textContent = text;
    return b;
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
    var copy = button("Copy");
    copy.dataset.copy = value;
    var done = button("Done");
    done.dataset.done = "";
    done.addEventListener("click", reload);
    box.append(p, code, document.createElement("br"), copy, done);
  }

  async function send(form, submitter) {
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    clearErrors(form);
    var buttons = form.querySelectorAll("button, s-button");
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
    send(form, ev.submitter && ev.submitter.dataset.set ? ev.submitter : null);
  });

  // A form with several actions (exclude, include, ...) has one button per
  // action, each with its data-set; they are type="button", so the action
  // does not depend on which element a submit event names as submitter.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-set]");
    if (!b || b.disabled) return;
    var form = b.closest("form[data-api]");
    if (!form) return;
    ev.preventDefault();
    send(form, b);
  });

  // Discard (the save bar's, or a reset) clears the errors shown.
  document.addEventListener("reset", function (ev) {
    if (ev.target.dataset && ev.target.dataset.api) clearErrors(ev.target);
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
    var all = ev.target.closest && ev.target.closest("[data-select-all]");
    if (!all) return;
    var form = all.closest("form");
    Array.prototype.forEach.call(form.querySelectorAll("[data-id]"), function (c) {
      if (c.type !== "hidden") c.checked = all.checked;
    });
  });

  // polyfill stands native controls in for Polaris' elements when
  // polaris.js did not load (see the top of this file). Each control keeps
  // the element's id, name, value and data-* attributes; its label is a
  // real <label>, its details and error lines are tied to it with
  // aria-describedby, so it stays labelled and keyboard-usable. It reads
  // only the attributes Polaris' manifest gives each component (checked,
  // selected: defaultChecked and defaultSelected are properties that
  // reflect to them), which TestAdminMarkupMatchesPolaris holds the
  // markup to.
  var fieldTypes = {
    "s-text-field": "text", "s-url-field": "url", "s-number-field": "number", "s-password-field": "password",
    "s-search-field": "search", "s-email-field": "email", "s-text-area": "textarea"
  };
  var autoID = 0;

  function copyData(from, to) {
    Array.prototype.forEach.call(from.attributes, function (a) {
      if (a.name.indexOf("data-") === 0 || a.name.indexOf("aria-") === 0) to.setAttribute(a.name, a.value);
    });
  }

  function labelled(host, control, inline) {
    var id = host.id || ("pf-" + (++autoID));
    control.id = id;
    var wrap = document.createElement("div");
    wrap.className = inline ? "field inline" : "field";
    var text = host.getAttribute("label");
    var described = [];
    if (text) {
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = text;
      if (host.getAttribute("labelaccessibilityvisibility") === "exclusive") label.className = "skip";
      if (inline) { label.className = "inline"; label.textContent = " " + text; label.prepend(control); wrap.appendChild(label); }
      else wrap.append(label, control);
    } else {
      if (host.getAttribute("accessibilitylabel")) control.setAttribute("aria-label", host.getAttribute("accessibilitylabel"));
      wrap.appendChild(control);
    }
    if (host.getAttribute("details")) {
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.id = id + "-details";
      hint.textContent = host.getAttribute("details");
      wrap.appendChild(hint);
      described.push(hint.id);
    }
    var err = document.createElement("p");
    err.className = "field-error";
    err.id = id + "-err";
    err.textContent = host.getAttribute("error") || "";
    if (err.textContent) control.setAttribute("aria-invalid", "true");
    wrap.appendChild(err);
    described.push(err.id);
    control.setAttribute("aria-describedby", described.join(" "));
    control.dataset.errorBox = err.id;
    host.replaceWith(wrap);
    return wrap;
  }

  function attr(from, to, names) {
    names.forEach(function (n) { if (from.hasAttribute(n)) to.setAttribute(n, from.getAttribute(n)); });
  }

  function polyfill(root) {
    Object.keys(fieldTypes).forEach(function (tag) {
      root.querySelectorAll(tag).forEach(function (host) {
        var type = fieldTypes[tag];
        var c = document.createElement(type === "textarea" ? "textarea" : "input");
        if (type !== "textarea") c.type = type;
        attr(host, c, ["name", "placeholder", "maxlength", "minlength", "min", "max", "step", "required", "disabled", "readonly", "autocomplete", "inputmode"]);
        var v = host.getAttribute("value") || "";
        if (type === "textarea") c.textContent = v; else { c.setAttribute("value", v); }
        copyData(host, c);
        labelled(host, c, false);
      });
    });
    root.querySelectorAll("s-select").forEach(function (host) {
      var c = document.createElement("select");
      attr(host, c, ["name", "required", "disabled"]);
      host.querySelectorAll("s-option").forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o.getAttribute("value") || "";
        opt.textContent = o.textContent;
        if (o.hasAttribute("selected")) opt.defaultSelected = true;
        c.appendChild(opt);
      });
      if (host.hasAttribute("value")) c.value = host.getAttribute("value");
      copyData(host, c);
      labelled(host, c, false);
    });
    root.querySelectorAll("s-checkbox, s-switch").forEach(function (host) {
      var c = document.createElement("input");
      c.type = "checkbox";
      attr(host, c, ["name", "value", "required", "disabled"]);
      c.defaultChecked = host.hasAttribute("checked");
      copyData(host, c);
      labelled(host, c, true);
    });
    root.querySelectorAll("s-choice-list").forEach(function (host) {
      var set = document.createElement("fieldset");
      set.className = "field";
      var legend = document.createElement("legend");
      legend.textContent = host.getAttribute("label") || "";
      set.appendChild(legend);
      var errID = (host.id || ("pf-" + (++autoID))) + "-err";
      host.querySelectorAll("s-choice").forEach(function (ch, i) {
        var c = document.createElement("input");
        c.type = host.hasAttribute("multiple") ? "checkbox" : "radio";
        c.name = host.getAttribute("name") || "";
        c.value = ch.getAttribute("value") || "";
        c.id = errID.replace(/-err$/, "") + "-" + i;
        c.defaultChecked = ch.hasAttribute("selected");
        c.setAttribute("aria-describedby", errID);
        c.dataset.errorBox = errID;
        var label = document.createElement("label");
        label.className = "inline";
        label.append(c, " " + ch.textContent.trim());
        set.appendChild(label);
      });
      var err = document.createElement("p");
      err.className = "field-error";
      err.id = errID;
      set.appendChild(err);
      if (host.id) set.id = host.id;
      host.replaceWith(set);
    });
    root.querySelectorAll("s-button").forEach(function (host) {
      var href = host.getAttribute("href");
      var c = document.createElement(href ? "a" : "button");
      if (href) { c.href = href; c.className = "button"; attr(host, c, ["target", "download"]); }
      else { c.type = host.getAttribute("type") || "button"; attr(host, c, ["disabled"]); }
      if (host.id) c.id = host.id;
      if (host.getAttribute("variant") === "primary") c.classList.add("primary");
      if (host.getAttribute("tone") === "critical") c.classList.add("critical");
      if (host.getAttribute("accessibilitylabel")) c.setAttribute("aria-label", host.getAttribute("accessibilitylabel"));
      copyData(host, c);
      while (host.firstChild) c.appendChild(host.firstChild);
      host.replaceWith(c);
    });
    // The page heading: Polaris' s-page shows its heading attribute (in
    // Shopify admin, in the admin's title bar); without it, one <h1>.
    root.querySelectorAll("s-page[heading]").forEach(function (page) {
      if (page.querySelector(":scope > h1")) return;
      var h = document.createElement("h1");
      h.className = "page-title";
      h.textContent = page.getAttribute("heading");
      page.prepend(h);
    });
  }

  if (!polaris) polyfill(document);

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-sync-box][data-running]");
    if (box) followSync(box);
  });
})();
