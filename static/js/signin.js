/*
 * Wallet sign-in for the sign-in page: the wallet signs (wallet.js), the signed message
 * goes to the JSON API, which checks it, answers with tokens and opens the Django
 * session, so the next page load is signed in.
 *
 * Loaded as a static file after vendor/js-sha3 and wallet.js: the CSP allows no inline
 * script.
 */
(function () {
  "use strict";

  var STATEMENT = "Sign in to Fabrknt Suite.";
  var wallet = window.FabrkntWallet;
  var root = document.getElementById("signin");
  if (!root || !wallet) {
    return;
  }
  var statusBox = document.getElementById("signin-status");

  // The server already accepted only a local path; refuse anything else here too.
  function nextPath() {
    var next = root.dataset.next || "/trace/";
    return /^\/(?![\/\\])/.test(next) ? next : "/trace/";
  }

  var panel = wallet.statusPanel(root, statusBox);
  var show = panel.show;
  var progress = panel.progress;
  var setBusy = panel.setBusy;

  async function postSignature(path, signed) {
    show("Checking the signature…", "info");
    var response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": wallet.csrfToken(),
      },
      body: JSON.stringify({ message: signed.message, signature: signed.signature }),
    });
    if (!response.ok) {
      throw new wallet.UserFacingError(await wallet.explain(response));
    }
    return response.json();
  }

  async function signInWithEthereum() {
    await postSignature("/api/v1/auth/siwe", await wallet.signWithEthereum(STATEMENT, progress));
  }

  async function signInWithSolana() {
    await postSignature("/api/v1/auth/siws", await wallet.signWithSolana(STATEMENT, progress));
  }

  function bind(buttonId, flow) {
    var button = document.getElementById(buttonId);
    if (!button) {
      return;
    }
    button.addEventListener("click", async function () {
      setBusy(true);
      try {
        await flow();
        show("Signed in. Taking you on…", "success");
        window.location.assign(nextPath());
      } catch (error) {
        show(wallet.errorMessage(error, "Sign-in failed"), "error");
        setBusy(false);
      }
    });
    button.disabled = false;
  }

  bind("signin-ethereum", signInWithEthereum);
  bind("signin-solana", signInWithSolana);
})();
