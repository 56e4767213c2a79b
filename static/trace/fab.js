/*! fab.js: TRACE attribution snippet for dapps.
 *
 *   <script src="https://fabrknt.example/static/trace/fab.js" data-key="fab_xxxx_…" defer></script>
 *
 * Keeps the `fab_click` id a TRACE tracking link added to the URL as a first-party value
 * (localStorage and a cookie on this site, 30 days) and tells TRACE which wallet connected
 * (POST /api/v1/identify with this page's ingest key), so the wallet's later on-chain
 * activity is attributed to the click. Call `window.fab.identify(address)` yourself, or
 * let it follow an EIP-1193 provider (`window.ethereum`) on connect / accountsChanged.
 * Optional attributes: data-api (the TRACE origin; defaults to this script's origin).
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
    store(clickId);
    // Keep the id out of URLs people copy and share.
    params.delete(KEY);
    var rest = params.toString();
    if (history.replaceState) {
      history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    }
  }

  function identify(walletAddress) {
    var clickId = current();
    if (!clickId || !apiKey || typeof walletAddress !== "string" || !walletAddress) {
      return Promise.resolve(null);
    }
    var marker = clickId + "|" + walletAddress.toLowerCase();
    try { if (localStorage.getItem(DONE) === marker) return Promise.resolve(null); } catch (e) { /* ignore */ }
    return fetch(apiBase + "/api/v1/identify", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
      body: JSON.stringify({ click_id: clickId, wallet_address: walletAddress }),
      keepalive: true
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

  capture();
  window.fab = { identify: identify, clickId: current };
  follow(window.ethereum);
})();
