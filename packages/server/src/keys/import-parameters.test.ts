import { constants, createPublicKey, publicEncrypt, privateDecrypt, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { ManualClock } from "../clock.js";
import { IMPORT_PARAMETERS_TTL_MS, ImportParameters } from "./import-parameters.js";

const KEY = "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11";
const OTHER = "0b7b5a3e-7a6c-4a55-8a53-3f2a1f6f9c21";

function setup(maxPending?: number) {
  const seals: (() => void)[] = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 5));
  const params = new ImportParameters({ onSeal: (fn: () => void) => void seals.push(fn) }, clock, maxPending);
  return { params, clock, seal: () => seals.forEach((fn) => fn()) };
}

function refusal(fn: () => unknown): { code: string; field?: string; awsType?: string } {
  try {
    fn();
  } catch (err) {
    if (isTesseraError(err)) return { code: err.code, ...(err.field !== undefined && { field: err.field }), awsType: (err.cause as { awsType?: string } | undefined)?.awsType ?? "" };
    throw err;
  }
  return { code: "none" };
}

describe("import parameters", () => {
  it("issue a fresh RSA wrapping key of the asked size whose private half the token unlocks", async () => {
    const { params, clock } = setup();
    const issued = await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072");
    const pub = createPublicKey({ key: issued.publicKey, format: "der", type: "spki" });
    expect(pub.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072, publicExponent: 65537n });
    expect(issued.expiresAt - clock.now()).toBe(IMPORT_PARAMETERS_TTL_MS);
    const secret = randomBytes(32);
    const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, secret);
    const taken = params.take(KEY, Buffer.from(issued.importToken));
    expect(taken.algorithm).toBe("RSAES_OAEP_SHA_256");
    expect(privateDecrypt({ key: taken.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, wrapped).equals(secret)).toBe(true);
    const second = await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072");
    expect(second.publicKey.equals(issued.publicKey)).toBe(false);
  });

  it("are single use, bound to their key, and expire after 24 hours", async () => {
    const { params, clock } = setup();
    const a = await params.issue(KEY, "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072");
    expect(refusal(() => params.take(OTHER, Buffer.from(a.importToken)))).toEqual({ code: "InvalidInput", field: "/importToken", awsType: "InvalidImportTokenException" });
    expect(params.take(KEY, Buffer.from(a.importToken)).algorithm).toBe("RSA_AES_KEY_WRAP_SHA_256");
    expect(refusal(() => params.take(KEY, Buffer.from(a.importToken)))).toEqual({ code: "InvalidInput", field: "/importToken", awsType: "InvalidImportTokenException" });
    const b = await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072");
    clock.advance(IMPORT_PARAMETERS_TTL_MS);
    expect(refusal(() => params.take(KEY, Buffer.from(b.importToken)))).toEqual({ code: "InvalidInput", field: "/importToken", awsType: "ExpiredImportTokenException" });
  });

  it("are forgotten when the server seals, and at most maxPending are kept (the oldest go first)", async () => {
    const { params, seal } = setup(2);
    const a = await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072");
    seal();
    expect(refusal(() => params.take(KEY, Buffer.from(a.importToken))).code).toBe("InvalidInput");
    const [b, c, d] = [await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072"), await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072"), await params.issue(KEY, "RSAES_OAEP_SHA_256", "RSA_3072")];
    expect(refusal(() => params.take(KEY, Buffer.from(b.importToken))).code).toBe("InvalidInput");
    expect(params.take(KEY, Buffer.from(c.importToken)).algorithm).toBe("RSAES_OAEP_SHA_256");
    expect(params.take(KEY, Buffer.from(d.importToken)).algorithm).toBe("RSAES_OAEP_SHA_256");
  });
});
