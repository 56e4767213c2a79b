/*
 * "Sign NDA" on a listing's page: fetch the exact text to sign for the chosen wallet from
 * the NDA API (session cookie; a GET needs no CSRF token), have the browser wallet sign it
 * (EIP-191 personal_sign through window.ethereum, or signMessage through a Solana wallet;
 * static/js/wallet.js), POST it with the CSRF token, and reload: the page then shows the
 * gated part. The server checks that the chosen wallet made the signature.
 */
(function () {
  "use strict";

  var wallet = window.FabrkntWallet;
  var root = document.getElementById("nda-sign");
  if (!wallet || !root) {
    return;
  }
  var select = document.getElementById("nda-wallet");
  var button = document.getElementById("nda-sign-button");
  var panel = wallet.statusPanel(root, document.getElementById("nda-status"));

  async function apiError(response) {
    try {
      var body = await response.json();
      if (body && typeof body.detail === "string") {
        return body.detail;
      }
      return Object.keys(body)
        .filter(function (key) { return key !== "code"; })
        .map(function (key) { return [].concat(body[key]).join(" "); })
        .join(" ");
    } catch (error) {
      return "The server answered " + response.status + ".";
    }
  }

  async function sign() {
    var option = select.options[select.selectedIndex];
    var address = option.value;
    var url = root.dataset.messageUrl + "?wallet=" + encodeURIComponent(address);
    var issued = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!issued.ok) {
      throw new wallet.UserFacingError(await apiError(issued));
    }
    var message = (await issued.json()).message;
    var signText = option.dataset.namespace === "solana" ? wallet.solanaSign : wallet.personalSign;
    var signature = await signText(message, panel.progress);
    panel.progress("Checking the signature…");
    var checked = await fetch(root.dataset.signUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": wallet.csrfToken(),
      },
      body: JSON.stringify({
        listing_id: root.dataset.listing,
        buyer_wallet: address,
        message: message,
        signature: signature,
      }),
    });
    if (!checked.ok) {
      throw new wallet.UserFacingError("Not signed: " + (await apiError(checked)));
    }
  }

  button.addEventListener("click", async function () {
    panel.setBusy(true);
    try {
      await sign();
      panel.show("NDA signed. Opening the data room…", "success");
      window.location.reload();
    } catch (error) {
      panel.show(wallet.errorMessage(error, "Signing failed"), "error");
      panel.setBusy(false);
    }
  });
})();
