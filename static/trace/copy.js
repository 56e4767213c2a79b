/* Copy buttons: <button data-copy="ID"> copies the value (or text) of the element ID. */
(function () {
  "use strict";

  function flash(button, text) {
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = text;
    window.setTimeout(function () {
      button.textContent = label;
    }, 1600);
  }

  function selectSource(source) {
    if (typeof source.select === "function") {
      source.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    var text = "value" in source ? source.value : source.textContent;
    // The Clipboard API needs a secure context (https or localhost); elsewhere select the
    // text so the user can press Ctrl+C.
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          flash(button, "Copied");
        },
        function () {
          selectSource(source);
          flash(button, "Press Ctrl+C");
        }
      );
    } else {
      selectSource(source);
      flash(button, "Press Ctrl+C");
    }
  });
})();
