/*
 * Checks a growth certificate's Ed25519 signature in the browser
 * (templates/trace/certificates/verify.html).
 *
 * The page hands over the exact bytes that were signed (base64, `data-signed-bytes`), so
 * nothing is rendered as JSON again here. The public key comes from the published keys
 * (`data-keys-url`, GET /api/v1/certificates/keys), looked up by the certificate's key
 * id. WebCrypto's Ed25519 does the check; where the browser lacks it (or has no
 * crypto.subtle: a page served over plain HTTP), the vendored TweetNaCl does
 * (`data-fallback-src`, loaded only then).
 *
 * Everything is read from the page each time, so "Check again" (or
 * window.fabrkntCertificateVerify()) checks what the page holds now.
 */
(function () {
  "use strict";

  function fromBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  async function verifyWithWebCrypto(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
      "verify",
    ]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  let fallbackLoading = null;

  function loadFallback(src) {
    if (window.nacl) return Promise.resolve(window.nacl);
    if (!fallbackLoading) {
      fallbackLoading = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = src;
        script.onload = function () {
          resolve(window.nacl);
        };
        script.onerror = function () {
          fallbackLoading = null;
          reject(new Error("the fallback verifier could not be loaded"));
        };
        document.head.appendChild(script);
      });
    }
    return fallbackLoading;
  }

  // {valid, method}: WebCrypto if it can, else TweetNaCl.
  async function verifyEd25519(publicKey, signature, message, fallbackSrc) {
    try {
      return { valid: await verifyWithWebCrypto(publicKey, signature, message), method: "WebCrypto" };
    } catch (unsupported) {
      const nacl = await loadFallback(fallbackSrc);
      return {
        valid: nacl.sign.detached.verify(message, signature, publicKey),
        method: "TweetNaCl (this browser has no WebCrypto Ed25519)",
      };
    }
  }

  async function publishedKey(keysUrl, keyId) {
    const response = await fetch(keysUrl, {
      credentials: "omit",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error("the published keys could not be read (" + response.status + ")");
    const listing = await response.json();
    const key = (listing.keys || []).find(function (candidate) {
      return candidate.key_id === keyId && candidate.algorithm === "ed25519";
    });
    return key ? fromBase64(key.public_key) : null;
  }

  function show(box, state, status, detail) {
    box.classList.remove("is-valid", "is-invalid", "is-checking");
    box.classList.add(state);
    box.dataset.result = state.replace("is-", "");
    box.querySelector("[data-testid=signature-status]").textContent = status;
    box.querySelector("[data-testid=signature-detail]").textContent = detail;
  }

  function validity(certificate, now) {
    const from = Date.parse(certificate.issued_at);
    const until = Date.parse(certificate.valid_until);
    if (Number.isNaN(from) || Number.isNaN(until)) return "It has no valid issue or expiry time.";
    if (now < from) return "It is not valid before " + certificate.issued_at + ".";
    if (now > until) return "It expired on " + certificate.valid_until + ".";
    return "It is valid until " + certificate.valid_until + ".";
  }

  async function check(box) {
    const data = box.dataset;
    show(box, "is-checking", "Checking the signature in your browser…", "");
    try {
      if (data.algorithm !== "ed25519") throw new Error("unsupported algorithm " + data.algorithm);
      const message = fromBase64(data.signedBytes);
      const signature = fromBase64(data.signature);
      const certificate = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(message));
      if (certificate.certificate_id !== data.certificateId) {
        throw new Error("the signed bytes are another certificate's");
      }
      const publicKey = await publishedKey(data.keysUrl, data.keyId);
      if (!publicKey) throw new Error("key " + data.keyId + " is not among the published keys");
      const result = await verifyEd25519(publicKey, signature, message, data.fallbackSrc);
      if (!result.valid) throw new Error("the signature does not match the certificate");
      show(
        box,
        "is-valid",
        "Signature valid — signed by key " + data.keyId,
        "Checked in your browser with " + result.method + " against the published key. " +
          validity(certificate, Date.now())
      );
    } catch (error) {
      show(box, "is-invalid", "INVALID", "Not a valid certificate: " + (error.message || error) + ".");
    }
  }

  function checkAll() {
    return Promise.all(Array.from(document.querySelectorAll("#signature-check")).map(check));
  }

  window.fabrkntCertificateVerify = checkAll;

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("click", function (event) {
      const button = event.target.closest("[data-action=verify-again]");
      if (button) checkAll();
    });
    checkAll();
  });
})();
