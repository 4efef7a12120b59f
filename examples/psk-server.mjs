#!/usr/bin/env node
// A TLS-PSK server on a VM: no certificates, only the pre-shared keys Tessera gives this VM for each
// peer it expects. Node's pskCallback must answer synchronously, so the keys are fetched before
// listening (and again in the background when a client names a version not held yet).
//
//   TESSERA_ADDR=… TESSERA_TOKEN=<this VM's token> \
//   node examples/psk-server.mjs --key mesh --peers web-7,web-8 [--purpose tls] [--port 0]
//   prints "listening <port>", then one line per message: "<peer>: <text>"; answers "<self> got <text>"
import tls from "node:tls";
import { TLS_OPTIONS, args, fetchPsk, parseIdentity } from "./psk-common.mjs";

const o = args(process.argv.slice(2));
const peers = (o.peers ?? "").split(",").filter((p) => p !== "");
const purpose = o.purpose ?? "tls";
if (o.key === undefined || peers.length === 0) {
  process.stderr.write("usage: psk-server.mjs --key KEY --peers VM[,VM…] [--purpose P] [--port N]\n");
  process.exit(2);
}

/** "<peer>/<version>" → PSK bytes, for the peers this server talks to. */
const keys = new Map();
let self;
let keyId;
async function load(peer, keyVersion) {
  const r = await fetchPsk({ key: o.key, peer, purpose, keyVersion });
  self = r.self;
  keyId = r.keyId;
  keys.set(`${peer}/${r.keyVersion}`, r.psk);
}
await Promise.all(peers.map((p) => load(p)));

/** Which peer each connection's identity named (the PSK proved it). */
const senders = new WeakMap();
const server = tls.createServer(
  {
    ...TLS_OPTIONS,
    pskCallback(socket, identity) {
      const id = parseIdentity(identity);
      // Only this key, this purpose and the peers configured; the identity's sender is checked by the
      // handshake itself: only the real sender holds the key for the pair (sender, self).
      if (id === null || id.keyId !== keyId || id.purpose !== purpose || !peers.includes(id.sender)) return null;
      const psk = keys.get(`${id.sender}/${id.keyVersion}`);
      senders.set(socket, id.sender);
      if (psk === undefined) {
        // A version not held yet (the key was rotated): fetch it for the client's next attempt.
        load(id.sender, id.keyVersion).catch((err) => process.stderr.write(`${err.message}\n`));
        return null;
      }
      return psk;
    },
  },
  (socket) => {
    const peer = senders.get(socket) ?? "?";
    socket.setEncoding("utf8");
    socket.on("data", (text) => {
      process.stdout.write(`${peer}: ${text.trim()} (${socket.getProtocol()} ${socket.getCipher().standardName})\n`);
      socket.end(`${self} got ${text.trim()}\n`);
    });
    socket.on("error", () => undefined);
  },
);
server.on("tlsClientError", (err) => process.stdout.write(`refused a client: ${err.code ?? err.message}\n`));
server.listen(Number(o.port ?? 0), "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
