// HMAC-SHA256 over "/" + canonical options + "/" + asset id, URL-safe base64 without padding; the first key
// signs, every key verifies (imgedge/url/signing.py). Server-side only: the key never reaches a browser.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_LENGTH = 43; // unpadded base64 of 32 bytes

export function signedMessage(canonicalOptions, assetId) {
  return canonicalOptions ? `/${canonicalOptions}/${assetId}` : `/${assetId}`;
}

function keyList(keys) {
  const list = Array.isArray(keys) ? keys : [keys];
  if (!list.length) throw new TypeError("imgedge: no signing key");
  return list.map((key) => (typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key)));
}

function signatureFor(key, message) {
  return createHmac("sha256", key).update(message, "utf8").digest("base64url");
}

/** The signature for canonical options and an asset id; `keys` is a key or a list whose first key signs. */
export function sign(keys, canonicalOptions, assetId) {
  return signatureFor(keyList(keys)[0], signedMessage(canonicalOptions, assetId));
}

/** True when any key made this exact spelling of the signature (compared in constant time). */
export function verify(keys, canonicalOptions, assetId, signature) {
  if (typeof signature !== "string" || signature.length !== SIGNATURE_LENGTH || !/^[\x00-\x7f]*$/.test(signature)) {
    return false;
  }
  const given = Buffer.from(signature, "ascii");
  const message = signedMessage(canonicalOptions, assetId);
  // Every key is tried, so the time taken does not tell which one matched.
  const matches = keyList(keys).map((key) => timingSafeEqual(Buffer.from(signatureFor(key, message), "ascii"), given));
  return matches.some(Boolean);
}
