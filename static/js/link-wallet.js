/*
 * "Link another wallet" on the account page: the wallet signs a message whose statement
 * names this account (wallet.js), and the page's own form posts it with its CSRF token;
 * the server checks it as a sign-in and answers with the account page.
 */
(function () {
  "use strict";

  var wallet = window.FabrkntWallet;
  var root = document.getElementById("link-wallet");
  if (!root || !wallet) {
    return;
  }
  var form = document.getElementById("link-form");
  var statusBox = document.getElementById("link-status");

  var panel = wallet.statusPanel(root, statusBox);
  var show = panel.show;
  var progress = panel.progress;
  var setBusy = panel.setBusy;

  function bind(buttonId, protocol, sign) {
    var button = document.getElementById(buttonId);
    if (!button) {
      return;
    }
    button.addEventListener("click", async function () {
      setBusy(true);
      try {
        var signed = await sign(root.dataset.statement, progress);
        form.elements.protocol.value = protocol;
        form.elements.message.value = signed.message;
        form.elements.signature.value = signed.signature;
        show("Checking the signature…", "info");
        form.submit();
      } catch (error) {
        show(wallet.errorMessage(error, "Linking failed"), "error");
        setBusy(false);
      }
    });
  }

  bind("link-ethereum", "siwe", wallet.signWithEthereum);
  bind("link-solana", "siws", wallet.signWithSolana);
})();
