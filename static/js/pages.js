/* The pages' few behaviours, for htmx-enhanced markup (see README, "Pages"):
 * - a confirm step fetched by htmx into #modal-body opens as a modal <dialog>;
 * - [data-dismiss] inside the dialog closes it instead of following its link.
 * Without JavaScript the same links open the confirm page itself. */
(function () {
  "use strict";

  var dialog = document.getElementById("modal");
  if (!dialog) {
    return;
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "modal-body") {
      return;
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    var first = dialog.querySelector("input, select, button");
    if (first) {
      first.focus();
    }
  });

  dialog.addEventListener("click", function (event) {
    if (event.target.closest("[data-dismiss]")) {
      event.preventDefault();
      dialog.close();
    }
  });

  dialog.addEventListener("close", function () {
    document.getElementById("modal-body").replaceChildren();
  });
})();
