// The mailroom's upload form: drag and drop or the file picker, a size check before sending
// (the server enforces the limit too), upload with progress, then on to the batch page.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form) return;
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var list = document.getElementById("chosen");
  var error = document.getElementById("upload-error");
  var bar = document.getElementById("upload-progress");
  var button = document.getElementById("upload-button");
  var maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;
  var csrf = form.querySelector("input[name=csrf]").value;
  var chosen = [];

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function size(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
  }

  function total() {
    return chosen.reduce(function (sum, f) { return sum + f.size; }, 0);
  }

  function redraw() {
    list.replaceChildren();
    chosen.forEach(function (file) {
      var li = document.createElement("li");
      li.textContent = file.name + " ";
      var s = document.createElement("span");
      s.className = "muted small";
      s.textContent = size(file.size);
      li.appendChild(s);
      list.appendChild(li);
    });
    if (chosen.length) {
      var sum = document.createElement("li");
      sum.className = "muted";
      sum.textContent = chosen.length + " file(s), " + size(total());
      list.appendChild(sum);
    }
    showError(total() > maxBytes ? "These files come to " + size(total()) + ", more than the limit of " +
      form.dataset.maxMb + " MB per upload. Upload them in several batches." : "");
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (f) { chosen.push(f); });
    redraw();
  }

  input.addEventListener("change", function () { chosen = []; add(input.files); });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { if (e.dataTransfer) add(e.dataTransfer.files); });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!chosen.length) { showError("Choose or drop at least one file first."); return; }
    if (total() > maxBytes) { redraw(); return; }
    var data = new FormData();
    data.append("csrf", csrf);
    chosen.forEach(function (f) { data.append("files", f, f.name); });
    var xhr = new XMLHttpRequest();
    var split = document.getElementById("split");
    xhr.open("POST", split && split.checked ? split.dataset.splitUrl : form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) bar.value = Math.round(100 * ev.loaded / ev.total);
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
      if (xhr.status === 201 && body.url) { window.location.assign(body.url); return; }
      button.disabled = false;
      bar.hidden = true;
      showError(body.error || "The upload failed (HTTP " + xhr.status + ").");
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      bar.hidden = true;
      showError("The upload did not reach the server. If the files are large, try fewer at a time.");
    });
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    showError("");
    xhr.send(data);
  });
})();
