/**
 * The process's streams, passed in so `main` can run against other streams, and the byte-level
 * input helpers commands share.
 */
import { readFile } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { TesseraError } from "@tessera/protocol/core";

export interface Io {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
}

export const processIo: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** Far above any request Tessera accepts; only stops a mistaken pipe from filling memory. */
export const MAX_INPUT_BYTES = 1024 * 1024;

function tooLarge(): TesseraError {
  return new TesseraError("TooLarge", `input is larger than ${MAX_INPUT_BYTES} bytes`);
}

/** All bytes of stdin, up to {@link MAX_INPUT_BYTES}. */
export async function readStdin(io: Io): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) throw tooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** A file's bytes, or stdin's for `-`. */
export async function readInput(io: Io, path: string): Promise<Buffer> {
  if (path === "-") return readStdin(io);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (bytes.length > MAX_INPUT_BYTES) throw tooLarge();
  return bytes;
}

/**
 * One secret line: typed without echo after `prompt` when stdin is a terminal, otherwise all of
 * stdin, trimmed.
 */
export async function readSecret(io: Io, prompt: string): Promise<string> {
  const { stdin } = io;
  if (stdin.isTTY !== true || stdin.setRawMode === undefined) return (await readStdin(io)).toString("utf8").trim();
  io.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (): void => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write("\n");
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          finish();
          resolve(value.trim());
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new Error("interrupted"));
          return;
        }
        value = ch === "\u007f" || ch === "\b" ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on("data", onData);
  });
}
