/*
 * An escrow deal's steps (templates/fabric/escrow/deal.html): each is a transaction the
 * server built ({from, to, data, value}, as GET /api/v1/escrow/{id} lists them) that the
 * party's browser wallet sends with eth_sendTransaction. The page shows the transaction's
 * hash; the deal's status moves once the monitor reads the contract's event.
 */
(function () {
  "use strict";

  var wallet = window.FabrkntWallet;
  var list = document.querySelector("[data-escrow-steps]");
  if (!wallet || !list) {
    return;
  }
  var chainId = parseInt(list.dataset.chainId, 10);
  var explorerTx = list.dataset.explorerTx || "";

  function showSent(status, hash) {
    status.replaceChildren();
    status.append("Sent: ");
    var code = document.createElement("code");
    code.textContent = hash;
    code.dataset.testid = "sent-hash";
    if (explorerTx) {
      var link = document.createElement("a");
      link.href = explorerTx + hash;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      link.append(code);
      status.append(link);
    } else {
      status.append(code);
    }
    status.append(". The deal updates here once the transaction is confirmed on chain.");
  }

  list.querySelectorAll("[data-escrow-step]").forEach(function (step) {
    var button = step.querySelector("button");
    var status = step.querySelector(".escrow-step__status");
    var params = JSON.parse(step.dataset.params);
    function show(text) {
      status.textContent = text;
    }
    button.hidden = false; // without JavaScript, "Send it another way" stands instead
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        var hash = await wallet.sendTransaction(params, chainId, show);
        showSent(status, hash);
      } catch (error) {
        show(wallet.errorMessage(error, "Sending failed"));
        button.disabled = false;
      }
    });
  });
})();
