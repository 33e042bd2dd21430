// The review page: clicking a word on a page image fills the selected field with it
// (shift-click appends), and remembers the page and the box the value came from.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input.field-input"));
  var focused = inputs[0] || null;

  function select(input) {
    inputs.forEach(function (i) { i.parentNode.classList.toggle("selected", i === input); });
    focused = input;
  }
  inputs.forEach(function (input) {
    input.addEventListener("focus", function () { select(input); });
    // A typed value has no box on the page: forget the clicked one.
    input.addEventListener("input", function () { hidden(input, "page").value = ""; hidden(input, "bbox").value = ""; });
  });
  // Prefer the first low-confidence field.
  var low = form.querySelector(".field-row.low input.field-input");
  if (low) select(low); else if (focused) select(focused);

  function hidden(input, kind) {
    return form.querySelector("input[name='" + kind + "." + input.dataset.field + "']");
  }

  function union(a, b) {
    if (!a) return b;
    return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
  }

  document.querySelectorAll("svg.words").forEach(function (svg) {
    svg.addEventListener("mousedown", function (e) {
      if (e.target.classList && e.target.classList.contains("word")) e.preventDefault(); // keep the field's focus
    });
    svg.addEventListener("click", function (e) {
      var word = e.target;
      if (!word.classList || !word.classList.contains("word") || !focused) return;
      var text = word.getAttribute("data-text") || "";
      var box = (word.getAttribute("data-bbox") || "").split(",").map(Number);
      var page = svg.getAttribute("data-page");
      var pageInput = hidden(focused, "page");
      var bboxInput = hidden(focused, "bbox");
      if (e.shiftKey && focused.value && pageInput.value === page) {
        focused.value = focused.value + " " + text;
        var old = bboxInput.value ? bboxInput.value.split(",").map(Number) : null;
        bboxInput.value = union(old, box).join(",");
      } else {
        focused.value = text;
        bboxInput.value = box.join(",");
      }
      pageInput.value = page;
      word.classList.add("picked");
      focused.focus();
    });
  });
})();
