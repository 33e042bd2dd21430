// The batch page: polls the batch's JSON every second until every file is done, and redraws
// the results table. Everything from the server is put in with textContent (never as HTML):
// file names and field values are untrusted.
(function () {
  "use strict";
  var section = document.getElementById("batch");
  if (!section) return;
  var batchId = section.dataset.batch;
  var canRead = section.dataset.canRead === "true";
  var csrfInput = document.querySelector("form.signout input[name=csrf]");
  var csrf = csrfInput ? csrfInput.value : "";
  var tbody = document.querySelector("#results tbody");
  var progress = document.getElementById("batch-progress");
  var summary = document.getElementById("batch-summary");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function actionForm(item, what, label, extraClass) {
    var form = el("form", { method: "post", action: "/mailroom/batches/" + batchId + "/items/" + item.seq + "/" + what });
    form.appendChild(el("input", { type: "hidden", name: "csrf", value: csrf }));
    form.appendChild(el("button", { type: "submit", "class": "small-button" + (extraClass ? " " + extraClass : "") }, label));
    return form;
  }

  function row(item) {
    var tr = el("tr", { id: "item-" + item.seq, "class": "row-" + item.status });
    tr.appendChild(el("td", { "class": "muted" }, item.seq));
    var name = el("td", { "class": "wrap" });
    if (canRead && item.doc_id && (item.status === "stored" || item.status === "duplicate")) {
      name.appendChild(el("a", { href: "/doc/" + encodeURIComponent(item.doc_id) }, item.name));
    } else {
      name.appendChild(document.createTextNode(item.name));
    }
    name.appendChild(document.createTextNode(" "));
    name.appendChild(el("span", { "class": "muted small" }, Math.round(item.size / 1024) + " KB"));
    tr.appendChild(name);
    var status = el("td");
    status.appendChild(el("span", { "class": "status status-" + item.status }, item.status));
    if (item.reason) status.appendChild(el("div", { "class": "reason" }, item.reason));
    tr.appendChild(status);
    var type = el("td");
    if (item.doc_type) type.appendChild(el("span", { "class": "badge badge-" + item.doc_type }, item.doc_type));
    tr.appendChild(type);
    tr.appendChild(el("td", {}, item.confidence === null ? "" : Math.round(item.confidence * 100) + "%"));
    var fields = el("td");
    var dl = el("dl", { "class": "kv" });
    Object.keys(item.fields || {}).forEach(function (k) {
      var div = el("div");
      div.appendChild(el("dt", {}, k));
      div.appendChild(el("dd", {}, item.fields[k]));
      dl.appendChild(div);
    });
    fields.appendChild(dl);
    tr.appendChild(fields);
    var actions = el("td", { "class": "actions" });
    if (item.status === "quarantined" || item.status === "failed") {
      actions.appendChild(actionForm(item, "retry", "Retry"));
      actions.appendChild(actionForm(item, "delete", "Delete", "danger"));
    }
    tr.appendChild(actions);
    return tr;
  }

  function describe(data) {
    var c = data.counts;
    var text = (data.finished ? "Finished: " : "Processing: " + data.done + " of " + data.total + " done. ") +
      c.stored + " stored, " + c.duplicate + " duplicate, " + c.quarantined + " quarantined";
    if (c.failed) text += ", " + c.failed + " failed";
    if (c.deleted) text += ", " + c.deleted + " deleted";
    return text + ".";
  }

  function draw(data) {
    progress.max = data.total;
    progress.value = data.done;
    summary.textContent = describe(data);
    var rows = document.createDocumentFragment();
    data.items.forEach(function (item) { rows.appendChild(row(item)); });
    tbody.replaceChildren(rows);
    section.dataset.finished = data.finished ? "true" : "false";
  }

  function poll() {
    fetch("/api/batches/" + encodeURIComponent(batchId), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        draw(data);
        if (!data.finished) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  if (section.dataset.finished !== "true") setTimeout(poll, 1000);
})();
