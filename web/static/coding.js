// The coding panel, driven by the keyboard:
//   Ctrl+Enter (or Cmd+Enter)  save and open the next document
//   j / k                       next / previous document (when not typing in a text field)
//   Alt+Right / Alt+Left        next / previous document (anywhere)
//   a picklist's letter/digit   picks that value while the picklist has the focus
// Clicking a word on the page image puts it in the selected text field (shift-click adds it).
(function () {
  "use strict";
  var form = document.getElementById("coding-form");
  if (!form) return;
  var dirty = false;
  var warned = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && (el.type === "text" || el.type === "search"));
  }

  function go(id) {
    var link = document.getElementById(id);
    if (!link) return;
    if (dirty && !warned) {
      warned = true;
      var notice = document.getElementById("keys");
      notice.textContent = "Unsaved changes: Ctrl+Enter saves them; press the key again to leave without saving.";
      notice.classList.add("warn");
      return;
    }
    window.location.href = link.href;
  }

  function saveAndNext() {
    var button = document.getElementById("save-next");
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); saveAndNext(); return; }
    if (e.altKey && e.key === "ArrowRight") { e.preventDefault(); go("next-doc"); return; }
    if (e.altKey && e.key === "ArrowLeft") { e.preventDefault(); go("prev-doc"); return; }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var group = e.target.closest ? e.target.closest("fieldset.picklist") : null;
    if (group && e.key.length === 1) {
      var option = group.querySelector("input[data-key='" + e.key.toLowerCase() + "']");
      if (option) {
        e.preventDefault();
        if (option.type === "radio") option.checked = true; else option.checked = !option.checked;
        option.focus();
        option.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
    }
    if (e.key === "j") { e.preventDefault(); go("next-doc"); }
    else if (e.key === "k") { e.preventDefault(); go("prev-doc"); }
  });

  // The field the words go into: the last focused text field.
  var target = null;
  form.querySelectorAll("input.field-input, textarea.field-input").forEach(function (input) {
    input.addEventListener("focus", function () {
      if (target) target.closest(".coding-field").classList.remove("selected");
      target = input;
      input.closest(".coding-field").classList.add("selected");
    });
  });
  document.querySelectorAll("svg.words").forEach(function (svg) {
    svg.addEventListener("mousedown", function (e) {
      if (e.target.classList && e.target.classList.contains("word")) e.preventDefault(); // keep the field's focus
    });
    svg.addEventListener("click", function (e) {
      var word = e.target;
      if (!word.classList || !word.classList.contains("word") || !target) return;
      var text = word.getAttribute("data-text") || "";
      if (target.tagName === "TEXTAREA") {
        var lines = target.value.replace(/\s+$/, "");
        target.value = e.shiftKey && lines ? lines + " " + text : (lines ? lines + "\n" : "") + text;
      } else {
        target.value = e.shiftKey && target.value ? target.value + " " + text : text;
      }
      dirty = true;
      word.classList.add("picked");
      target.focus();
    });
  });

  // Start where the work is: the first field with an error, else the first field.
  var first = form.querySelector(".coding-field.invalid input, .coding-field.invalid textarea") ||
              form.querySelector(".coding-field input:checked, .coding-field input, .coding-field textarea");
  if (first) first.focus();
})();
