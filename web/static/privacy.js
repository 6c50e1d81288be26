// acpbridge admin: the customers' data requests on the settings page. Lists
// them and downloads an export (App Bridge adds the ID token to every fetch
// of our origin, so the download is fetched, then saved from a blob).
(function () {
  "use strict";

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.append(td);
    return td;
  }

  function held(counts) {
    if (!counts) return "";
    return Object.keys(counts).sort().map(function (k) { return counts[k] + " " + k.replace(/_/g, " "); }).join(", ");
  }

  async function download(id, button) {
    button.disabled = true;
    try {
      var res = await fetch("/api/privacy/data-requests/" + id + "/export", { headers: { "Accept": "application/json" } });
      if (!res.ok) throw new Error("HTTP " + res.status);
      var url = URL.createObjectURL(await res.blob());
      var a = document.createElement("a");
      a.href = url;
      a.download = "data-request-" + id + ".json";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    } catch (e) {
      if (window.shopify && window.shopify.toast) window.shopify.toast.show("Could not download the export: " + e.message, { isError: true });
    } finally {
      button.disabled = false;
    }
  }

  async function load(box) {
    var list;
    try {
      var res = await fetch(box.dataset.api, { headers: { "Accept": "application/json" } });
      if (!res.ok) throw new Error("HTTP " + res.status);
      list = (await res.json()).data_requests || [];
    } catch (e) {
      box.innerHTML = "";
      var p = document.createElement("p");
      p.className = "form-error";
      p.textContent = "Could not load the data requests: " + e.message;
      box.append(p);
      return;
    }
    box.innerHTML = "";
    if (list.length === 0) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = "No customer has asked for their data.";
      box.append(none);
      return;
    }
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    ["Received", "Customer", "What we held", ""].forEach(function (h) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      head.append(th);
    });
    var body = table.createTBody();
    list.forEach(function (r) {
      var row = body.insertRow();
      cell(row, new Date(r.received_at).toLocaleString());
      cell(row, r.customer_id ? "Customer " + r.customer_id : "—");
      cell(row, held(r.held) || "nothing");
      var td = cell(row, "");
      if (r.has_export) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = "Download export";
        b.setAttribute("aria-label", "Download the export of request " + r.id);
        b.addEventListener("click", function () { download(r.id, b); });
        td.append(b);
      }
    });
    box.append(table);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("privacy-requests");
    if (box) load(box);
  });
})();
