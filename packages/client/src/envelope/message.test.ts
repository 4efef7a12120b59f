/**
 * The message format without a KMS: a fixed data key seals and opens messages (MessageSealer /
 * MessageOpener), so every byte of the format can be exercised. The KMS path is tested against a real
 * server in test/integration/sdk-envelope.test.ts.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { FRAME_PREFIX_LENGTH, TAG_LENGTH, decodeHeader } from "./format.js";
import { MessageOpener } from "./message-opener.js";
import { MessageSealer } from "./message-sealer.js";

const DATA_KEY = Buffer.alloc(32, 0x42);
const OTHER_KEY = Buffer.alloc(32, 0x43);
const KEY_ID = "0b5f3c1e-7d7a-4a57-9a43-1f1f3b2c4d5e";

function seal(plaintext: Buffer, options: { frameLength?: number; context?: Record<string, string>; chunk?: number; dataKey?: Buffer } = {}): Buffer {
  const s = new MessageSealer({
    dataKey: options.dataKey ?? DATA_KEY,
    wrappedDataKey: Buffer.from("wrapped-data-key"),
    keyId: KEY_ID,
    context: options.context ?? { purpose: "test" },
    frameLength: options.frameLength ?? 16,
  });
  const out = [s.header];
  const step = options.chunk ?? Math.max(plaintext.length, 1);
  for (let at = 0; at < plaintext.length; at += step) out.push(...s.write(plaintext.subarray(at, at + step)));
  out.push(...s.end());
  return Buffer.concat(out);
}

/** Opens `message` fed in `chunk`-byte pieces; returns the plaintext pieces as released. */
function open(message: Buffer, options: { chunk?: number; dataKey?: Buffer } = {}): Buffer[] {
  const o = new MessageOpener();
  const released: Buffer[] = [];
  const step = options.chunk ?? Math.max(message.length, 1);
  let unlocked = false;
  for (let at = 0; at < message.length; at += step) {
    o.push(message.subarray(at, at + step));
    if (!unlocked) {
      if (o.header() === undefined) continue;
      o.unlock(options.dataKey ?? DATA_KEY);
      unlocked = true;
    }
    released.push(...o.frames());
  }
  if (!unlocked) {
    if (o.header() === undefined) throw Object.assign(new Error("short"), { name: "TesseraError", code: "InvalidCiphertext" });
    o.unlock(options.dataKey ?? DATA_KEY);
    released.push(...o.frames());
  }
  o.end();
  return released;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isTesseraError(err) ? err.code : `not a TesseraError: ${String(err)}`;
  }
  return "no error";
}

interface Layout {
  headerLength: number;
  /** Each frame's [start, end) in the message. */
  frames: [number, number][];
}

function layout(message: Buffer): Layout {
  const header = decodeHeader(message)!;
  const frames: [number, number][] = [];
  let at = header.bytes.length;
  while (at < message.length) {
    const length = message.readUInt32BE(at + 5);
    const end = at + FRAME_PREFIX_LENGTH + length + TAG_LENGTH;
    frames.push([at, end]);
    at = end;
  }
  return { headerLength: header.bytes.length, frames };
}

describe("round trips", () => {
  const F = 16;
  it.each([0, 1, F - 1, F, F + 1, 2 * F, 10 * F + 3, 1000])("%i bytes, whole and byte by byte", (n) => {
    const plaintext = randomBytes(n);
    const message = seal(plaintext, { frameLength: F });
    expect(Buffer.concat(open(message))).toEqual(plaintext);
    expect(Buffer.concat(open(message, { chunk: 1 }))).toEqual(plaintext);
    expect(Buffer.concat(open(message, { chunk: 7 }))).toEqual(plaintext);
  });

  it("frames a plaintext one way whatever the write sizes: regular frames full, one final frame, empty only for an empty plaintext", () => {
    const plaintext = randomBytes(5 * F);
    const whole = layout(seal(plaintext, { frameLength: F }));
    const dribbled = layout(seal(plaintext, { frameLength: F, chunk: 3 }));
    expect(dribbled).toEqual(whole);
    expect(whole.frames.map(([s, e]) => e - s - FRAME_PREFIX_LENGTH - TAG_LENGTH)).toEqual([F, F, F, F, F]);
    expect(layout(seal(Buffer.alloc(0))).frames.map(([s, e]) => e - s)).toEqual([FRAME_PREFIX_LENGTH + TAG_LENGTH]);
  });

  it("releases each frame as soon as it is complete, not at the end", () => {
    const message = seal(randomBytes(4 * F), { frameLength: F });
    const o = new MessageOpener();
    const { headerLength, frames } = layout(message);
    o.push(message.subarray(0, frames[1]![1]));
    expect(o.header()!.bytes.length).toBe(headerLength);
    o.unlock(DATA_KEY);
    expect(o.frames().map((p) => p.length)).toEqual([F, F]);
  });

  it("uses a new message id, so a new message key, for every message under the same data key", () => {
    const a = decodeHeader(seal(Buffer.from("x")))!;
    const b = decodeHeader(seal(Buffer.from("x")))!;
    expect(a.messageId.equals(b.messageId)).toBe(false);
    expect(a.commitment.equals(b.commitment)).toBe(false);
  });

  it("keeps the context canonical in the header (order of the pairs given does not matter)", () => {
    const one = decodeHeader(seal(Buffer.from("x"), { context: { b: "2", a: "1" } }))!;
    expect(one.context).toEqual({ a: "1", b: "2" });
  });
});

describe("tampering is refused with InvalidCiphertext", () => {
  const F = 16;
  const plaintext = randomBytes(3 * F + 5);
  const message = seal(plaintext, { frameLength: F, context: { tenant: "acme", purpose: "test" } });
  const { headerLength, frames } = layout(message);
  const frame = (i: number) => message.subarray(frames[i]![0], frames[i]![1]);
  const header = message.subarray(0, headerLength);

  it("every bit of the header flipped", () => {
    const codes = new Set<string>();
    for (let i = 0; i < headerLength * 8; i++) {
      const bad = Buffer.from(message);
      bad[i >> 3]! ^= 1 << (i & 7);
      codes.add(codeOf(() => open(bad)));
    }
    expect([...codes]).toEqual(["InvalidCiphertext"]);
  });

  it("every bit of a regular frame and of the final frame flipped (prefix, body, tag)", () => {
    const codes = new Set<string>();
    for (const i of [0, frames.length - 1]) {
      const [start, end] = frames[i]!;
      for (let bit = start * 8; bit < end * 8; bit++) {
        const bad = Buffer.from(message);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        codes.add(codeOf(() => open(bad)));
      }
    }
    expect([...codes]).toEqual(["InvalidCiphertext"]);
  });

  it.each([
    ["two frames swapped", () => Buffer.concat([header, frame(1), frame(0), frame(2), frame(3)])],
    ["the final frame dropped", () => Buffer.concat([header, frame(0), frame(1), frame(2)])],
    ["a middle frame dropped", () => Buffer.concat([header, frame(0), frame(2), frame(3)])],
    ["a frame duplicated", () => Buffer.concat([header, frame(0), frame(0), frame(1), frame(2), frame(3)])],
    ["the final frame duplicated", () => Buffer.concat([message, frame(3)])],
    ["a byte after the final frame", () => Buffer.concat([message, Buffer.of(0)])],
    ["cut inside a frame", () => message.subarray(0, frames[1]![0] + 5)],
    ["cut inside the header", () => message.subarray(0, headerLength - 1)],
    ["nothing but the header", () => header],
    ["empty", () => Buffer.alloc(0)],
    ["a regular frame relabelled final (and the rest dropped)", () => {
      const f = Buffer.from(frame(0));
      f[0] = 0x01;
      return Buffer.concat([header, f]);
    }],
    ["the final frame relabelled regular", () => {
      const f = Buffer.from(frame(3));
      f[0] = 0x00;
      return Buffer.concat([header, frame(0), frame(1), frame(2), f]);
    }],
  ])("%s", (_name, make) => {
    expect(codeOf(() => open(make()))).toBe("InvalidCiphertext");
    expect(codeOf(() => open(make(), { chunk: 5 }))).toBe("InvalidCiphertext");
  });

  it("a frame spliced in from another message under the same data key, at the same position", () => {
    const other = seal(randomBytes(3 * F + 5), { frameLength: F, context: { tenant: "acme", purpose: "test" } });
    const o = layout(other);
    const spliced = Buffer.concat([header, frame(0), other.subarray(o.frames[1]![0], o.frames[1]![1]), frame(2), frame(3)]);
    expect(codeOf(() => open(spliced))).toBe("InvalidCiphertext");
    const otherHeader = Buffer.concat([other.subarray(0, o.headerLength), message.subarray(headerLength)]);
    expect(codeOf(() => open(otherHeader))).toBe("InvalidCiphertext");
  });

  it("another data key (the commitment does not match)", () => {
    expect(codeOf(() => open(message, { dataKey: OTHER_KEY }))).toBe("InvalidCiphertext");
  });

  it("a header whose every other field is intact but whose frame length claims more than 16 MiB", () => {
    const h = decodeHeader(message)!;
    const bad = Buffer.from(message);
    bad.writeUInt32BE(16 * 1024 * 1024 + 1, h.authenticated.length - 32 - 4);
    expect(codeOf(() => open(bad))).toBe("InvalidCiphertext");
  });
});
