/*
 * Signing with a browser wallet, shared by the sign-in page (signin.js), the account
 * page's "link a wallet" (link-wallet.js), a project's "Verify control"
 * (trace/verify-control.js, which signs the server's text with personalSign/solanaSign)
 * and an escrow deal's steps (fabric/escrow.js, which sends transactions).
 *
 * Ethereum: an EIP-1193 wallet (window.ethereum) signs an EIP-4361 "Sign-In with Ethereum"
 * message with personal_sign. Solana: a Phantom-style wallet (window.phantom.solana or
 * window.solana) signs the "Sign In With Solana" twin with signMessage. Both take a fresh
 * single-use nonce from /api/v1/auth/nonce; the caller says what the statement is and
 * where the signed message goes.
 *
 * Loaded as a static file after vendor/js-sha3 (window.keccak256): the CSP allows no
 * inline script. Exposes window.FabrkntWallet.
 */
(function () {
  "use strict";

  // An error the user should read as it is (not a programming error).
  function UserFacingError(message) {
    this.message = message;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- talking to our API ------------------------------------------------------------

  async function readDetail(response) {
    try {
      var body = await response.json();
      if (body && typeof body.detail === "string") {
        return body.detail;
      }
      return JSON.stringify(body);
    } catch (error) {
      return response.statusText || "HTTP " + response.status;
    }
  }

  async function explain(response) {
    var detail = await readDetail(response);
    if (response.status === 429) {
      var wait = response.headers.get("Retry-After");
      return "Too many sign-in attempts. Try again" + (wait ? " in " + wait + " s." : " later.");
    }
    if (response.status === 401) {
      return "Sign-in refused: " + detail;
    }
    return "The server answered " + response.status + ": " + detail;
  }

  async function fetchNonce() {
    var response = await fetch("/api/v1/auth/nonce", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new UserFacingError(await explain(response));
    }
    var body = await response.json();
    return body.nonce;
  }

  // --- encodings -----------------------------------------------------------------------

  // EIP-55: wallets usually return lowercase addresses; the sign-in message must carry
  // the checksummed form, whose letter case comes from keccak256 of the lowercase hex.
  function toChecksumAddress(address) {
    var hex = String(address).toLowerCase().replace(/^0x/, "");
    if (!/^[0-9a-f]{40}$/.test(hex)) {
      throw new UserFacingError("The wallet returned an address that is not an EVM address.");
    }
    var hash = window.keccak256(hex);
    var out = "0x";
    for (var i = 0; i < 40; i += 1) {
      out += parseInt(hash[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i];
    }
    return out;
  }

  function utf8Hex(text) {
    var bytes = new TextEncoder().encode(text);
    var hex = "0x";
    for (var i = 0; i < bytes.length; i += 1) {
      hex += bytes[i].toString(16).padStart(2, "0");
    }
    return hex;
  }

  // Bitcoin-alphabet base58, as Solana writes keys and signatures.
  var BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  function base58Encode(bytes) {
    var digits = [0];
    for (var i = 0; i < bytes.length; i += 1) {
      var carry = bytes[i];
      for (var j = 0; j < digits.length; j += 1) {
        carry += digits[j] << 8;
        digits[j] = carry % 58;
        carry = (carry / 58) | 0;
      }
      while (carry > 0) {
        digits.push(carry % 58);
        carry = (carry / 58) | 0;
      }
    }
    var out = "";
    for (var k = 0; k < bytes.length && bytes[k] === 0; k += 1) {
      out += "1";
    }
    for (var m = digits.length - 1; m >= 0; m -= 1) {
      out += BASE58[digits[m]];
    }
    return bytes.length === 0 ? "" : out;
  }

  // --- messages ------------------------------------------------------------------------

  // EIP-4361 and its Solana twin differ only in the account kind they name.
  function signInMessage(accountKind, fields) {
    return (
      fields.domain + " wants you to sign in with your " + accountKind + " account:\n" +
      fields.address + "\n\n" +
      fields.statement + "\n\n" +
      "URI: " + fields.uri + "\n" +
      "Version: 1\n" +
      "Chain ID: " + fields.chainId + "\n" +
      "Nonce: " + fields.nonce + "\n" +
      "Issued At: " + fields.issuedAt
    );
  }

  // --- wallet errors -------------------------------------------------------------------

  // `failed` prefixes an unexpected error: "Sign-in failed", "Linking failed".
  function errorMessage(error, failed) {
    if (error instanceof UserFacingError) {
      return error.message;
    }
    var code = error && error.code;
    if (code === 4001 || code === "ACTION_REJECTED") {
      return "You rejected the request in your wallet. Nothing was signed.";
    }
    if (code === -32002) {
      return "Your wallet already has a request waiting: open it and answer that first.";
    }
    if (error instanceof TypeError) {
      return "Could not reach the server. Check your connection and try again.";
    }
    return failed + ": " + ((error && error.message) || String(error));
  }

  // --- signing -------------------------------------------------------------------------

  // The connected Ethereum wallet and its account; `show(text)` reports progress.
  async function ethereumAccount(show) {
    var provider = window.ethereum;
    if (!provider || typeof provider.request !== "function") {
      throw new UserFacingError(
        "No Ethereum wallet found. Install a browser wallet such as MetaMask, then reload."
      );
    }
    show("Connect your wallet…");
    var accounts = await provider.request({ method: "eth_requestAccounts" });
    if (!accounts || accounts.length === 0) {
      throw new UserFacingError("Your wallet shared no account. Unlock it and try again.");
    }
    return { provider: provider, account: accounts[0] };
  }

  // EIP-191 personal_sign: the message as hex-encoded UTF-8, then the signing address.
  function ethereumSignText(wallet, message, show) {
    show("Sign the message in your wallet…");
    return wallet.provider.request({
      method: "personal_sign",
      params: [utf8Hex(message), wallet.account],
    });
  }

  // Resolves to {message, signature}; `show(text)` reports progress.
  async function signWithEthereum(statement, show) {
    var wallet = await ethereumAccount(show);
    var chainId = parseInt(await wallet.provider.request({ method: "eth_chainId" }), 16);
    if (!Number.isFinite(chainId)) {
      throw new UserFacingError("Your wallet did not say which chain it is on.");
    }
    var nonce = await fetchNonce();
    var message = signInMessage("Ethereum", {
      domain: window.location.host,
      address: toChecksumAddress(wallet.account),
      statement: statement,
      uri: window.location.origin,
      chainId: chainId,
      nonce: nonce,
      issuedAt: new Date().toISOString(),
    });
    return { message: message, signature: await ethereumSignText(wallet, message, show) };
  }

  function solanaProvider() {
    if (window.phantom && window.phantom.solana) {
      return window.phantom.solana;
    }
    return window.solana || null;
  }

  // The connected Solana wallet and its public key.
  async function solanaAccount(show) {
    var provider = solanaProvider();
    if (!provider || typeof provider.signMessage !== "function") {
      throw new UserFacingError(
        "No Solana wallet found. Install a browser wallet such as Phantom, then reload."
      );
    }
    show("Connect your wallet…");
    var connected = await provider.connect();
    var publicKey = (connected && connected.publicKey) || provider.publicKey;
    if (!publicKey) {
      throw new UserFacingError("Your wallet shared no account. Unlock it and try again.");
    }
    return { provider: provider, publicKey: publicKey };
  }

  // Ed25519 signMessage over the UTF-8 text; the signature in base58.
  async function solanaSignText(wallet, message, show) {
    show("Sign the message in your wallet…");
    var signed = await wallet.provider.signMessage(new TextEncoder().encode(message), "utf8");
    var signatureBytes = signed && signed.signature ? signed.signature : signed;
    return base58Encode(new Uint8Array(signatureBytes));
  }

  async function signWithSolana(statement, show) {
    var wallet = await solanaAccount(show);
    var nonce = await fetchNonce();
    var message = signInMessage("Solana", {
      domain: window.location.host,
      address: wallet.publicKey.toString(),
      statement: statement,
      uri: window.location.origin,
      chainId: "mainnet",
      nonce: nonce,
      issuedAt: new Date().toISOString(),
    });
    return { message: message, signature: await solanaSignText(wallet, message, show) };
  }

  // A page's wallet panel: its status line, and its buttons disabled while a wallet works.
  function statusPanel(root, statusBox) {
    var buttons = Array.prototype.slice.call(root.querySelectorAll("button"));
    function show(message, kind) {
      statusBox.textContent = message;
      statusBox.className = "signin__status signin__status--" + kind;
      statusBox.hidden = false;
    }
    return {
      show: show,
      progress: function (message) {
        show(message, "info");
      },
      setBusy: function (busy) {
        buttons.forEach(function (button) {
          button.disabled = busy;
        });
        root.setAttribute("aria-busy", busy ? "true" : "false");
      },
    };
  }

  // Any text our server asks a wallet to sign (e.g. a contract-control proof): EIP-191
  // personal_sign, 0x hex signature.
  async function personalSign(message, show) {
    return ethereumSignText(await ethereumAccount(show), message, show);
  }

  // The Solana twin: Ed25519 signMessage, base58 signature.
  async function solanaSign(message, show) {
    return solanaSignText(await solanaAccount(show), message, show);
  }

  // A transaction our server built for this wallet (EIP-1193 eth_sendTransaction with
  // {from, to, data, value}): from its own account, on the chain `chainId` (the wallet is
  // asked to switch). Resolves to the transaction hash.
  async function sendTransaction(params, chainId, show) {
    var wallet = await ethereumAccount(show);
    if (String(wallet.account).toLowerCase() !== String(params.from).toLowerCase()) {
      throw new UserFacingError(
        "This step must be sent from " + params.from + ": switch your wallet to that account."
      );
    }
    var current = parseInt(await wallet.provider.request({ method: "eth_chainId" }), 16);
    if (current !== chainId) {
      show("Switch your wallet to the deal's chain…");
      await wallet.provider.request({
        method: "wallet_switchEthereumChain",
        params: [{ chainId: "0x" + chainId.toString(16) }],
      });
    }
    show("Confirm the transaction in your wallet…");
    return wallet.provider.request({ method: "eth_sendTransaction", params: [params] });
  }

  window.FabrkntWallet = {
    UserFacingError: UserFacingError,
    statusPanel: statusPanel,
    csrfToken: csrfToken,
    explain: explain,
    errorMessage: errorMessage,
    signWithEthereum: signWithEthereum,
    signWithSolana: signWithSolana,
    personalSign: personalSign,
    solanaSign: solanaSign,
    sendTransaction: sendTransaction,
  };
})();
