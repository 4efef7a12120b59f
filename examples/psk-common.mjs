// Shared by psk-server.mjs and psk-client.mjs: asking Tessera's API (plain fetch) for the pre-shared
// key this VM shares with a peer, and reading the TLS PSK identity the client side sends.
//
// Environment: TESSERA_ADDR (http(s)://host:port) and TESSERA_TOKEN (this VM's token: its vm_id is
// the caller's side of every pair).

/** POST /v1/keys/{key}/psk: `{keyId, keyVersion, self, peer, purpose, identity, psk}`, psk as bytes. */
export async function fetchPsk({ key, peer, purpose, keyVersion }) {
  const address = process.env.TESSERA_ADDR ?? "http://127.0.0.1:8200";
  const res = await fetch(`${address}/v1/keys/${encodeURIComponent(key)}/psk`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tessera-token": process.env.TESSERA_TOKEN ?? "" },
    body: JSON.stringify({ peer, ...(purpose !== undefined && { purpose }), ...(keyVersion !== undefined && { keyVersion }) }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`tessera refused the PSK for peer ${peer}: ${body.error?.code} ${body.error?.message}`);
  return { ...body, psk: Buffer.from(body.psk, "base64") };
}

/** `tessera-psk/v1/<key id>/<version>/<purpose>/<sender vm id>`, or null for anything else. */
export function parseIdentity(identity) {
  const m = /^tessera-psk\/v1\/([0-9a-f-]{36})\/([1-9][0-9]*)\/([A-Za-z0-9][A-Za-z0-9_.-]*)\/([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(identity);
  return m === null ? null : { keyId: m[1], keyVersion: Number(m[2]), purpose: m[3], sender: m[4] };
}

export function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) throw new Error(`unexpected argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

/**
 * What both sides configure on their TLS socket: TLS 1.3 only, whose external-PSK handshake in
 * Node 24 (OpenSSL 3.5) also runs an ECDHE exchange (psk_dhe_ke, forward secrecy). With the
 * callback API the PSK's hash is SHA-256, so the suite is TLS_AES_128_GCM_SHA256 or
 * TLS_CHACHA20_POLY1305_SHA256; TLS_AES_256_GCM_SHA384 cannot be used with it (docs/distribution.md).
 */
export const TLS_OPTIONS = { minVersion: "TLSv1.3", maxVersion: "TLSv1.3", ciphers: "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256" };
