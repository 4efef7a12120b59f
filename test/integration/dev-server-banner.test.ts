/**
 * `tessera server --dev` prints the address to export: the port actually bound, also when the system
 * chose it (`--listen 127.0.0.1:0`), so the printed lines work as written.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN } from "../helpers/server-process.js";

describe("the dev server's banner", () => {
  it("with --listen 127.0.0.1:0 names the port the system chose, and the server answers there", async () => {
    const proc = spawn(process.execPath, [BIN, "server", "--dev", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      proc.stdout.on("data", (d) => (out += d));
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no address printed: ${out}`)), 20_000);
        proc.stdout.on("data", () => {
          const m = /export TESSERA_ADDR='(http:\/\/127\.0\.0\.1:(\d+))'/.exec(out);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        proc.once("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
      });
      expect(address).not.toMatch(/:0$/);
      expect(out).toContain(`listening on ${address}`);
      expect((await fetch(`${address}/v1/sys/health`)).status).toBe(200);
    } finally {
      proc.kill("SIGTERM");
    }
  });
});
