#!/usr/bin/env node
// A TLS-PSK client on a VM: fetches the pre-shared key it shares with the server's VM from Tessera,
// connects with it (no certificates), sends one message and prints the answer.
//
//   TESSERA_ADDR=… TESSERA_TOKEN=<this VM's token> \
//   node examples/psk-client.mjs --key mesh --peer db-1 --port 4433 [--purpose tls] [--message hello]
//   prints the server's answer; exits 1 if the handshake fails
import tls from "node:tls";
import { TLS_OPTIONS, args, fetchPsk } from "./psk-common.mjs";

const o = args(process.argv.slice(2));
if (o.key === undefined || o.peer === undefined || o.port === undefined) {
  process.stderr.write("usage: psk-client.mjs --key KEY --peer VM --port N [--purpose P] [--message TEXT]\n");
  process.exit(2);
}
const { psk, identity } = await fetchPsk({ key: o.key, peer: o.peer, purpose: o.purpose });
// For tests of what an impostor gets: send another identity than the one Tessera named.
const sent = o.identity ?? identity;

const socket = tls.connect({
  ...TLS_OPTIONS,
  host: "127.0.0.1",
  port: Number(o.port),
  pskCallback: () => ({ psk, identity: sent }),
  // With a PSK there is no certificate to check; the handshake itself proves the server holds the key.
  checkServerIdentity: () => undefined,
});
socket.setEncoding("utf8");
let answer = "";
socket.on("secureConnect", () => socket.write(`${o.message ?? "hello"}\n`));
socket.on("data", (d) => (answer += d));
socket.on("end", () => {
  process.stdout.write(answer);
  process.exit(answer === "" ? 1 : 0);
});
socket.on("error", (err) => {
  process.stderr.write(`psk-client: ${err.code ?? err.message}\n`);
  process.exit(1);
});
