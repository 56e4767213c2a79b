/*! fab.js: TRACE attribution snippet for dapps.
 *
 *   <script src="https://fabrknt.example/static/trace/fab.js" data-key="fab_xxxx_…" defer></script>
 *
 * Keeps the `fab_click` id a TRACE tracking link added to the URL as a first-party value
 * (localStorage and a cookie on this site, 30 days) and tells TRACE which wallet connected
 * (POST /api/v1/identify with this page's ingest key), so the wallet's later on-chain
 * activity is attributed to the click. Call `window.fab.identify(address)` yourself, or
 * let it follow an EIP-1193 provider (`window.ethereum`) on connect / accountsChanged.
 *
 * Such a link is "claimed": anyone holding the page's public key could name a wallet.
 * With `data-prove` (or `identify(address, {prove: true})`) the wallet is first asked to
 * sign the message TRACE issues for this click and wallet (personal_sign on EVM,
 * signMessage on a Solana wallet such as Phantom), which makes the link "proven". If the
 * wallet cannot or will not sign, the link is still claimed. Once per click and wallet.
 * Optional attributes: data-api (the TRACE origin; defaults to this script's origin),
 * data-prove, data-consent.
 *
 * Privacy. A visitor whose browser sends Global Privacy Control
 * (`navigator.globalPrivacyControl`) or Do Not Track is never tracked: the click id is
 * taken out of the address bar but neither stored nor sent, and `identify` does nothing.
 * With `data-consent="required"` nothing is stored or sent until the site says the
 * visitor agreed, by calling `window.fab.consent()` or dispatching a `fab:consent` event
 * on `window`; the click id of this page view is kept in memory until then, and a wallet
 * named before is identified at that moment. Consent is not remembered: the site calls it
 * on every page where its visitor has consented.
 */
(function () {
  "use strict";
  var KEY = "fab_click";
  var DONE = "fab_identified";
  var DAYS = 30;
  var ID = /^[A-Za-z0-9_-]{1,64}$/;
  var script = document.currentScript;
  var apiKey = script && script.getAttribute("data-key");
  var apiBase = (script && script.getAttribute("data-api")) ||
    (script && script.src ? new URL(script.src, location.href).origin : location.origin);
  var proveByDefault = !!script && script.hasAttribute("data-prove");
  var optedOut = navigator.globalPrivacyControl === true ||
    [navigator.doNotTrack, window.doNotTrack, navigator.msDoNotTrack].some(function (value) {
      return value === "1" || value === "yes";
    });
  var consented = !(script && script.getAttribute("data-consent") === "required");
  var pendingClick = null; // this page view's click id, until consent
  var pendingWallet = null; // a wallet named before consent
  // Bitcoin-alphabet base58, as Solana writes signatures (as static/js/signin.js does:
  // this file runs alone on other sites and cannot share code with our pages).
  var BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

  function readCookie() {
    var match = document.cookie.match(/(?:^|;\s*)fab_click=([A-Za-z0-9_-]{1,64})/);
    return match ? match[1] : null;
  }

  function store(clickId) {
    var expires = Date.now() + DAYS * 864e5;
    try { localStorage.setItem(KEY, JSON.stringify({ id: clickId, expires: expires })); } catch (e) { /* storage off */ }
    document.cookie = KEY + "=" + clickId + "; Max-Age=" + DAYS * 86400 + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  function current() {
    try {
      var saved = JSON.parse(localStorage.getItem(KEY) || "null");
      if (saved && ID.test(saved.id) && saved.expires > Date.now()) return saved.id;
    } catch (e) { /* storage off or malformed */ }
    return readCookie();
  }

  function capture() {
    var params = new URLSearchParams(location.search);
    var clickId = params.get(KEY);
    if (!clickId || !ID.test(clickId)) return;
    if (!optedOut) {
      if (consented) store(clickId);
      else pendingClick = clickId;
    }
    // Keep the id out of URLs people copy and share.
    params.delete(KEY);
    var rest = params.toString();
    if (history.replaceState) {
      history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    }
  }

  function utf8Hex(text) {
    var bytes = new TextEncoder().encode(text);
    var hex = "0x";
    for (var i = 0; i < bytes.length; i += 1) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return hex;
  }

  function base58(bytes) {
    var digits = [0];
    for (var i = 0; i < bytes.length; i += 1) {
      var carry = bytes[i];
      for (var j = 0; j < digits.length; j += 1) {
        carry += digits[j] << 8;
        digits[j] = carry % 58;
        carry = (carry / 58) | 0;
      }
      while (carry > 0) { digits.push(carry % 58); carry = (carry / 58) | 0; }
    }
    var out = "";
    for (var k = 0; k < bytes.length - 1 && bytes[k] === 0; k += 1) out += "1";
    for (var m = digits.length - 1; m >= 0; m -= 1) out += BASE58[digits[m]];
    return out;
  }

  // The wallet's signature of `message`: personal_sign (EIP-191) for an EVM address,
  // signMessage (Ed25519, base58) for a Solana one.
  function sign(walletAddress, message) {
    if (/^0x/i.test(walletAddress)) {
      var ethereum = window.ethereum;
      if (!ethereum || typeof ethereum.request !== "function") return Promise.reject(new Error("no wallet"));
      return ethereum.request({ method: "personal_sign", params: [utf8Hex(message), walletAddress] });
    }
    var solana = (window.phantom && window.phantom.solana) || window.solana;
    if (!solana || typeof solana.signMessage !== "function") return Promise.reject(new Error("no wallet"));
    return solana.signMessage(new TextEncoder().encode(message), "utf8").then(function (signed) {
      return base58(new Uint8Array(signed && signed.signature ? signed.signature : signed));
    });
  }

  // {message, signature} proving the link, or null (no wallet to sign, or it declined).
  function proof(clickId, walletAddress) {
    var url = apiBase + "/api/v1/identify/message?click_id=" + encodeURIComponent(clickId) +
      "&wallet=" + encodeURIComponent(walletAddress);
    return fetch(url, { mode: "cors", credentials: "omit", headers: { "X-API-Key": apiKey } })
      .then(function (response) {
        if (!response.ok) throw new Error("no message");
        return response.json();
      })
      .then(function (issued) {
        return sign(walletAddress, issued.message).then(function (signature) {
          return typeof signature === "string" ? { message: issued.message, signature: signature } : null;
        });
      })
      .catch(function () { return null; });
  }

  function identify(walletAddress, options) {
    if (optedOut) return Promise.resolve(null);
    if (!consented) {
      if (typeof walletAddress === "string" && walletAddress) {
        pendingWallet = { address: walletAddress, options: options };
      }
      return Promise.resolve(null);
    }
    var clickId = current();
    if (!clickId || !apiKey || typeof walletAddress !== "string" || !walletAddress) {
      return Promise.resolve(null);
    }
    var prove = options && typeof options.prove === "boolean" ? options.prove : proveByDefault;
    var marker = clickId + "|" + walletAddress.toLowerCase() + (prove ? "|prove" : "");
    try { if (localStorage.getItem(DONE) === marker) return Promise.resolve(null); } catch (e) { /* ignore */ }
    return (prove ? proof(clickId, walletAddress) : Promise.resolve(null)).then(function (signed) {
      var body = { click_id: clickId, wallet_address: walletAddress };
      if (signed) { body.message = signed.message; body.signature = signed.signature; }
      return fetch(apiBase + "/api/v1/identify", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
        body: JSON.stringify(body),
        keepalive: true
      });
    }).then(function (response) {
      if (response.ok) {
        try { localStorage.setItem(DONE, marker); } catch (e) { /* ignore */ }
        return response.json();
      }
      return null;
    }).catch(function () { return null; });
  }

  function follow(provider) {
    if (!provider || typeof provider.on !== "function") return;
    var first = function (accounts) { if (accounts && accounts.length) identify(accounts[0]); };
    provider.on("accountsChanged", first);
    provider.on("connect", function () {
      provider.request({ method: "eth_accounts" }).then(first, function () {});
    });
    // Already connected before this page loaded: eth_accounts never prompts.
    if (typeof provider.request === "function") {
      provider.request({ method: "eth_accounts" }).then(first, function () {});
    }
  }

  function consent() {
    if (optedOut || consented) return;
    consented = true;
    if (pendingClick) store(pendingClick);
    pendingClick = null;
    if (pendingWallet) identify(pendingWallet.address, pendingWallet.options);
    pendingWallet = null;
    follow(window.ethereum);
  }

  capture();
  window.fab = {
    identify: identify,
    consent: consent,
    clickId: function () { return optedOut || !consented ? null : current(); }
  };
  window.addEventListener("fab:consent", consent);
  if (consented && !optedOut) follow(window.ethereum);
})();
