/*
 * "Verify control" of a project's contract with the connected wallet: fetch the message to
 * sign from the API (session cookie; GET needs no CSRF token), have the wallet sign it
 * (EIP-191 personal_sign, or Phantom's signMessage for a Solana program) and POST it to
 * the API's verify endpoint with the CSRF token, as signin.js does. The server checks
 * the signer (the contract's owner() or deployer, the program's upgrade authority).
 */
(function () {
  "use strict";

  var wallet = window.FabrkntWallet;
  if (!wallet) {
    return;
  }

  async function apiError(response) {
    try {
      var body = await response.json();
      if (body && typeof body.detail === "string") {
        return body.detail + (body.code ? " (" + body.code + ")" : "");
      }
      return JSON.stringify(body);
    } catch (error) {
      return "The server answered " + response.status + ".";
    }
  }

  async function verify(root, show) {
    var issued = await fetch(root.dataset.messageUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!issued.ok) {
      throw new wallet.UserFacingError(await apiError(issued));
    }
    var message = (await issued.json()).message;
    var sign = root.dataset.namespace === "solana" ? wallet.solanaSign : wallet.personalSign;
    var signature = await sign(message, show);
    show("Checking the signature…");
    var checked = await fetch(root.dataset.verifyUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": wallet.csrfToken(),
      },
      body: JSON.stringify({ message: message, signature: signature }),
    });
    if (!checked.ok) {
      throw new wallet.UserFacingError("Not verified: " + (await apiError(checked)));
    }
  }

  document.querySelectorAll("[data-verify-control]").forEach(function (root) {
    var button = root.querySelector("button");
    var status = root.querySelector(".verify-control__status");
    function show(text) {
      status.textContent = text;
    }
    button.hidden = false; // without JavaScript, the page's written steps stand instead
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        await verify(root, show);
        show("Verified. Reloading…");
        window.location.reload();
      } catch (error) {
        show(wallet.errorMessage(error, "Verification failed"));
        button.disabled = false;
      }
    });
  });
})();
