/**
 * The AWS KMS–compatible API (JSON 1.1, SigV4) on the same listener: `POST /` with
 * `X-Amz-Target: TrentService.<Operation>`. Each operation maps onto the same service methods as the
 * native API — same door, same policies, same audit — and only translates names, ARNs, blobs
 * (base64) and errors. docs/aws-compatibility.md lists what is supported and every difference.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  TesseraError,
  algorithmsFor,
  encryptionAlgorithms,
  importWrappingAlgorithms,
  importWrappingKeySpecs,
  isKeySpec,
  isTesseraError,
  keyUsages,
  macAlgorithms,
  type EncryptionAlgorithm,
  type ImportWrappingAlgorithm,
  type ImportWrappingKeySpec,
  type KeyMetadata,
  type KeyUsage,
  type MacAlgorithm,
} from "@tessera/protocol";
import type { CallContext } from "../../service/door.js";
import type { KmsService } from "../../service/kms-service.js";
import type { MacService } from "../../service/mac-service.js";
import type { IdentityService } from "../../service/identity-service.js";
import type { ImportService } from "../../service/import-service.js";
import type { Refusal } from "../../service/refusal-log.js";
import { AwsError, sendAwsError, validation } from "./aws-errors.js";
import { blob, context, int, identifier, str, tagsIn, type Json } from "./aws-input.js";
import { algorithmListField, asymmetricOps, oneOf } from "./aws-asymmetric.js";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import type { GrantService } from "../../service/grant-service.js";
import { grantIdsOf, grantOps, grantTokenOperations } from "./aws-grants.js";
import { translateKeyPolicy } from "../../service/key-policy-documents.js";

export { awsErrors } from "./aws-errors.js";

export interface AwsApiOptions {
  service: KmsService;
  asymmetric: AsymmetricService;
  identity: IdentityService;
  macs: MacService;
  imports: ImportService;
  grants: GrantService;
  region: string;
  accountId: string;
}

/** The AWS API's own body limit (AWS KMS's request size limit is far below it). */
const MAX_BODY_BYTES = 1024 * 1024;
const TARGET = /^TrentService\.([A-Za-z0-9]{1,64})$/;
const epochSeconds = (iso: string | null) => (iso === null ? undefined : Date.parse(iso) / 1000);

export async function awsApi(app: FastifyInstance, o: AwsApiOptions): Promise<void> {
  const arn = (keyId: string) => `arn:aws:kms:${o.region}:${o.accountId}:key/${keyId}`;

  /** A KeyId as AWS clients send it: key id, key ARN, alias/NAME or alias ARN (an alias, else the Tessera key named NAME). */
  const keyRef = (id: string): string => {
    const m = /^arn:aws[a-z-]*:kms:([^:]*):([^:]*):(key|alias)\/(.+)$/.exec(id);
    if (m !== null) {
      if (m[1] !== o.region || m[2] !== o.accountId) throw new AwsError("NotFoundException", `${id} is not in this region and account`, "NotFound", "other-account");
      return m[3] === "alias" ? `alias/${m[4]!}` : m[4]!;
    }
    return id;
  };

  const metadata = (k: KeyMetadata): Json => ({
    AWSAccountId: o.accountId,
    KeyId: k.keyId,
    Arn: arn(k.keyId),
    CreationDate: epochSeconds(k.createdAt),
    Enabled: k.state === "Enabled",
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.state,
    ...(k.deletionDate !== null && { DeletionDate: epochSeconds(k.deletionDate) }),
    Origin: k.origin === "EXTERNAL" ? "EXTERNAL" : "AWS_KMS",
    // Imported material never expires in Tessera (docs/aws-compatibility.md).
    ...(k.origin === "EXTERNAL" && k.state !== "PendingImport" && { ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" }),
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: k.keySpec,
    KeySpec: k.keySpec,
    ...algorithmLists(k),
    MultiRegion: false,
  });

  const ops: Record<string, (ctx: CallContext, b: Json) => Promise<Json>> = {
    async CreateKey(ctx, b) {
      const spec = str(b, "KeySpec") ?? str(b, "CustomerMasterKeySpec") ?? "SYMMETRIC_DEFAULT";
      if (!isKeySpec(spec)) throw unsupported(`KeySpec ${spec} is not supported (see docs/aws-compatibility.md)`);
      const usage = str(b, "KeyUsage");
      if (usage !== undefined && !(keyUsages as readonly string[]).includes(usage)) throw unsupported(`KeyUsage ${usage} is not supported`);
      const origin = str(b, "Origin") ?? "AWS_KMS";
      if (origin !== "AWS_KMS" && origin !== "EXTERNAL") throw unsupported(`Origin ${origin} is not supported (AWS_KMS or EXTERNAL)`);
      const tags = tagsIn(b["Tags"]);
      // A key policy given at creation is translated before the key exists, so a malformed one
      // creates nothing (as AWS); it is then put as PutKeyPolicy would (a second audited step).
      const policy = str(b, "Policy");
      if (policy !== undefined) translateKeyPolicy(policy, "new-key", o.accountId);
      const name = `aws-${randomUUID().replaceAll("-", "").slice(0, 16)}`;
      const k = await o.service.createKey(ctx, {
        name,
        description: str(b, "Description") ?? "",
        keySpec: spec,
        ...(origin === "EXTERNAL" && { origin: "EXTERNAL" as const }),
        ...(usage !== undefined && { keyUsage: usage as KeyUsage }),
        ...(tags && { tags }),
      });
      if (policy !== undefined) await o.identity.putKeyPolicy(ctx, k.keyId, policy, o.accountId);
      return { KeyMetadata: metadata(k) };
    },
    async GetParametersForImport(ctx, b) {
      const algorithm = str(b, "WrappingAlgorithm", true);
      if (!(importWrappingAlgorithms as readonly string[]).includes(algorithm)) {
        throw unsupported(`WrappingAlgorithm ${algorithm} is not supported (${importWrappingAlgorithms.join(" or ")})`);
      }
      const spec = str(b, "WrappingKeySpec", true);
      if (!(importWrappingKeySpecs as readonly string[]).includes(spec)) throw unsupported(`WrappingKeySpec ${spec} is not supported (${importWrappingKeySpecs.join(" or ")})`);
      const r = await o.imports.getParametersForImport(ctx, keyRef(identifier(b, "KeyId")), {
        wrappingAlgorithm: algorithm as ImportWrappingAlgorithm,
        wrappingKeySpec: spec as ImportWrappingKeySpec,
      });
      return { KeyId: arn(r.keyId), ImportToken: r.importToken, PublicKey: r.publicKey, ParametersValidTo: epochSeconds(r.parametersValidTo) };
    },
    async ImportKeyMaterial(ctx, b) {
      const expiration = str(b, "ExpirationModel");
      if (expiration !== undefined && expiration !== "KEY_MATERIAL_DOES_NOT_EXPIRE") throw unsupported("imported key material does not expire in Tessera: ExpirationModel must be KEY_MATERIAL_DOES_NOT_EXPIRE");
      if (b["ValidTo"] !== undefined) throw unsupported("imported key material does not expire in Tessera: ValidTo is not supported");
      const importType = str(b, "ImportType");
      if (importType !== undefined && importType !== "EXISTING_KEY_MATERIAL" && importType !== "NEW_KEY_MATERIAL") throw validation("ImportType must be EXISTING_KEY_MATERIAL or NEW_KEY_MATERIAL");
      const k = await o.imports.importKeyMaterial(ctx, keyRef(identifier(b, "KeyId")), {
        importToken: blob(b, "ImportToken", 1),
        encryptedKeyMaterial: blob(b, "EncryptedKeyMaterial", 1),
      });
      return { KeyId: arn(k.keyId), KeyMaterialId: String(k.primaryVersion) };
    },
    async DeleteImportedKeyMaterial(ctx, b) {
      const k = await o.imports.deleteImportedKeyMaterial(ctx, keyRef(identifier(b, "KeyId")));
      return { KeyId: arn(k.keyId) };
    },
    async DescribeKey(ctx, b) {
      return { KeyMetadata: metadata(await o.service.describeKey(ctx, keyRef(identifier(b, "KeyId")))) };
    },
    async ListKeys(ctx, b) {
      const limit = int(b, "Limit") ?? 100;
      if (limit < 1 || limit > 1000) throw validation("Limit must be 1–1000");
      const r = await o.service.listKeys(ctx, limit, str(b, "Marker"));
      return { Keys: r.keys.map((k) => ({ KeyId: k.keyId, KeyArn: arn(k.keyId) })), Truncated: r.nextMarker !== null, ...(r.nextMarker !== null && { NextMarker: r.nextMarker }) };
    },
    async UpdateKeyDescription(ctx, b) {
      await o.service.updateKey(ctx, keyRef(identifier(b, "KeyId")), { description: str(b, "Description", true) });
      return {};
    },
    async EnableKey(ctx, b) {
      await o.service.enableKey(ctx, keyRef(identifier(b, "KeyId")));
      return {};
    },
    async DisableKey(ctx, b) {
      await o.service.disableKey(ctx, keyRef(identifier(b, "KeyId")));
      return {};
    },
    async ScheduleKeyDeletion(ctx, b) {
      const days = int(b, "PendingWindowInDays");
      const k = await o.service.scheduleKeyDeletion(ctx, keyRef(identifier(b, "KeyId")), days);
      return { KeyId: arn(k.keyId), DeletionDate: epochSeconds(k.deletionDate), KeyState: k.state, PendingWindowInDays: days ?? 30 };
    },
    async CancelKeyDeletion(ctx, b) {
      // AWS KMS leaves a key whose deletion was cancelled Disabled (the native API restores its prior state).
      const k = await o.service.cancelKeyDeletion(ctx, keyRef(identifier(b, "KeyId")), "Disabled");
      return { KeyId: arn(k.keyId) };
    },
    async GenerateMac(ctx, b) {
      const r = await o.macs.generateMac(ctx, keyRef(identifier(b, "KeyId")), { message: blob(b, "Message", 1), macAlgorithm: macAlgorithm(b) });
      return { KeyId: arn(r.keyId), Mac: r.mac, MacAlgorithm: r.macAlgorithm };
    },
    async VerifyMac(ctx, b) {
      const r = await o.macs.verifyMac(ctx, keyRef(identifier(b, "KeyId")), { message: blob(b, "Message", 1), macAlgorithm: macAlgorithm(b), mac: blob(b, "Mac", 1) });
      // AWS answers a MAC that does not verify with an exception; the door recorded the (successful) check.
      if (!r.macValid) throw new TesseraError("InvalidInput", "the MAC does not verify", { cause: { awsType: "KMSInvalidMacException" } });
      return { KeyId: arn(r.keyId), MacValid: true, MacAlgorithm: r.macAlgorithm };
    },
    async Encrypt(ctx, b) {
      const encryptionAlgorithm = oneOf<EncryptionAlgorithm>(b, "EncryptionAlgorithm", encryptionAlgorithmNames);
      const r = await o.service.encrypt(ctx, keyRef(identifier(b, "KeyId")), {
        plaintext: blob(b, "Plaintext", 1),
        ...ctxOf(b, "EncryptionContext"),
        ...(encryptionAlgorithm !== undefined && { encryptionAlgorithm }),
      });
      return { CiphertextBlob: r.ciphertext, KeyId: arn(r.keyId), EncryptionAlgorithm: r.encryptionAlgorithm ?? "SYMMETRIC_DEFAULT" };
    },
    async Decrypt(ctx, b) {
      const encryptionAlgorithm = oneOf<EncryptionAlgorithm>(b, "EncryptionAlgorithm", encryptionAlgorithmNames);
      const keyId = str(b, "KeyId");
      const r = await o.service.decrypt(ctx, {
        ciphertext: blob(b, "CiphertextBlob", 1),
        ...ctxOf(b, "EncryptionContext"),
        ...(keyId !== undefined && { keyId: keyRef(keyId) }),
        ...(encryptionAlgorithm !== undefined && { encryptionAlgorithm }),
      });
      return { KeyId: arn(r.keyId), Plaintext: r.plaintext, EncryptionAlgorithm: r.encryptionAlgorithm ?? "SYMMETRIC_DEFAULT" };
    },
    async ReEncrypt(ctx, b) {
      algorithm(b, "SourceEncryptionAlgorithm");
      algorithm(b, "DestinationEncryptionAlgorithm");
      const source = str(b, "SourceKeyId");
      const r = await o.service.reEncrypt(ctx, {
        ciphertext: blob(b, "CiphertextBlob", 1),
        destinationKeyId: keyRef(identifier(b, "DestinationKeyId")),
        ...(source !== undefined && { sourceKeyId: keyRef(source) }),
        ...(context(b, "SourceEncryptionContext") && { sourceContext: context(b, "SourceEncryptionContext")! }),
        ...(context(b, "DestinationEncryptionContext") && { destinationContext: context(b, "DestinationEncryptionContext")! }),
      });
      return {
        CiphertextBlob: r.ciphertext,
        SourceKeyId: arn(r.sourceKeyId),
        KeyId: arn(r.keyId),
        SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
    },
    async GenerateDataKey(ctx, b) {
      const r = await o.service.generateDataKey(ctx, keyRef(identifier(b, "KeyId")), dataKeyRequest(b));
      return { CiphertextBlob: r.ciphertext, Plaintext: r.plaintext, KeyId: arn(r.keyId) };
    },
    async GenerateDataKeyWithoutPlaintext(ctx, b) {
      const r = await o.service.generateDataKeyWithoutPlaintext(ctx, keyRef(identifier(b, "KeyId")), dataKeyRequest(b));
      return { CiphertextBlob: r.ciphertext, KeyId: arn(r.keyId) };
    },
    async GenerateRandom(ctx, b) {
      const n = int(b, "NumberOfBytes");
      if (n === undefined || n < 1 || n > 1024) throw validation("NumberOfBytes must be 1–1024");
      return { Plaintext: (await o.service.generateRandom(ctx, n)).plaintext };
    },
    async EnableKeyRotation(ctx, b) {
      const days = int(b, "RotationPeriodInDays") ?? 365;
      if (days < 90 || days > 2560) throw validation("RotationPeriodInDays must be 90–2560");
      await o.service.updateKey(ctx, keyRef(identifier(b, "KeyId")), { rotationPeriodSeconds: days * 86400 });
      return {};
    },
    async DisableKeyRotation(ctx, b) {
      await o.service.updateKey(ctx, keyRef(identifier(b, "KeyId")), { rotationPeriodSeconds: null });
      return {};
    },
    async GetKeyRotationStatus(ctx, b) {
      const k = await o.service.describeKey(ctx, keyRef(identifier(b, "KeyId")));
      return {
        KeyId: arn(k.keyId),
        KeyRotationEnabled: k.rotationPeriodSeconds !== null,
        ...(k.rotationPeriodSeconds !== null && { RotationPeriodInDays: Math.round(k.rotationPeriodSeconds / 86400) }),
        ...(k.nextRotationAt !== null && { NextRotationDate: epochSeconds(k.nextRotationAt) }),
      };
    },
    async RotateKeyOnDemand(ctx, b) {
      const k = await o.service.rotateKey(ctx, keyRef(identifier(b, "KeyId")));
      return { KeyId: arn(k.keyId) };
    },
    async ListKeyRotations(ctx, b) {
      const ref = keyRef(identifier(b, "KeyId"));
      const v = await o.service.listVersions(ctx, ref);
      return {
        Rotations: v.versions.filter((x) => x.version > 1).map((x) => ({ KeyId: arn(v.keyId), RotationDate: epochSeconds(x.createdAt), RotationType: "ON_DEMAND" })),
        Truncated: false,
      };
    },
    async TagResource(ctx, b) {
      const ref = keyRef(identifier(b, "KeyId"));
      const add = tagsIn(b["Tags"]) ?? {};
      const k = await o.service.describeKey(ctx, ref);
      await o.service.updateKey(ctx, ref, { tags: { ...k.tags, ...add } });
      return {};
    },
    async UntagResource(ctx, b) {
      const ref = keyRef(identifier(b, "KeyId"));
      const remove = b["TagKeys"];
      if (!Array.isArray(remove) || remove.some((x) => typeof x !== "string")) throw validation("TagKeys must be a list of strings");
      const k = await o.service.describeKey(ctx, ref);
      const tags = { ...k.tags };
      for (const t of remove as string[]) delete tags[t];
      await o.service.updateKey(ctx, ref, { tags });
      return {};
    },
    async ListResourceTags(ctx, b) {
      const k = await o.service.describeKey(ctx, keyRef(identifier(b, "KeyId")));
      return { Tags: Object.entries(k.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })), Truncated: false };
    },
    async CreateAlias(ctx, b) {
      await o.service.createAlias(ctx, aliasName(b), keyRef(identifier(b, "TargetKeyId")));
      return {};
    },
    async UpdateAlias(ctx, b) {
      await o.service.updateAlias(ctx, aliasName(b), keyRef(identifier(b, "TargetKeyId")));
      return {};
    },
    async DeleteAlias(ctx, b) {
      await o.service.deleteAlias(ctx, aliasName(b));
      return {};
    },
    async ListAliases(ctx, b) {
      const key = str(b, "KeyId");
      const all = await o.service.listAliases(ctx, key === undefined ? undefined : keyRef(key));
      const limit = int(b, "Limit") ?? 100;
      const start = Number(str(b, "Marker") ?? 0);
      const page = all.slice(start, start + limit);
      return {
        Aliases: page.map((a) => ({
          AliasName: a.name,
          AliasArn: `arn:aws:kms:${o.region}:${o.accountId}:${a.name}`,
          TargetKeyId: a.keyId,
          CreationDate: epochSeconds(a.createdAt),
          LastUpdatedDate: epochSeconds(a.updatedAt),
        })),
        Truncated: start + limit < all.length,
        ...(start + limit < all.length && { NextMarker: String(start + limit) }),
      };
    },
    async GetKeyPolicy(ctx, b) {
      const name = str(b, "PolicyName") ?? "default";
      if (name !== "default") throw new AwsError("NotFoundException", "the only key policy is named default", "NotFound", "no-such-policy");
      return { Policy: await o.identity.getKeyPolicy(ctx, keyRef(identifier(b, "KeyId")), o.accountId), PolicyName: "default" };
    },
    async PutKeyPolicy(ctx, b) {
      const name = str(b, "PolicyName") ?? "default";
      if (name !== "default") throw validation("PolicyName must be default");
      await o.identity.putKeyPolicy(ctx, keyRef(identifier(b, "KeyId")), str(b, "Policy", true), o.accountId);
      return {};
    },
    async ListKeyPolicies(ctx, b) {
      await o.service.describeKey(ctx, keyRef(identifier(b, "KeyId")));
      return { PolicyNames: ["default"], Truncated: false };
    },
    ...asymmetricOps(o, arn, keyRef),
    ...grantOps(o, arn, keyRef),
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
  app.setErrorHandler(async (err, request, reply) => {
    // Refusals the handler makes, and the door's, are audited where they happen; an error here that
    // is neither is the framework's (body over the limit, broken Content-Length): audit it now.
    if (err instanceof AwsError || isTesseraError(err)) return sendAwsError(request, reply, err);
    const refused = frameworkRefusal(err);
    if (refused.status >= 500) request.log.error({ err, requestId: request.id }, "AWS API request failed");
    const ctx: CallContext = { token: undefined, source: request.ip, requestId: request.id };
    try {
      await o.service.rejected(ctx, refused.toTesseraError(), { detail: { reason: refused.reason } });
    } catch (auditErr) {
      return sendAwsError(request, reply, auditErr);
    }
    return sendAwsError(request, reply, refused);
  });

  /**
   * Order matters: the signature is verified before anything about the body or the operation is
   * looked at, so an unsigned caller learns only that it is unsigned (and a body that does not match
   * its signed hash is a signature failure, whatever it contains). Every refusal on the way is
   * audited as `api:Rejected` before it is answered.
   */
  app.post("/", async (request: FastifyRequest<{ Body: Buffer | undefined }>, reply) => {
    const raw = request.body ?? Buffer.alloc(0);
    const [path = "/", query = ""] = request.url.split("?", 2) as [string, string?];
    const ctx: CallContext = {
      token: undefined,
      sigv4: { method: "POST", path, query, headers: request.headers, body: raw },
      source: request.ip,
      requestId: request.id,
    };
    const targets = headerValues(request.raw.rawHeaders, "x-amz-target");
    const named = targets.length === 1 ? TARGET.exec(targets[0]!)?.[1] : undefined;
    type Caller = NonNullable<Refusal["principal"]>;
    const refusal = (reason: string | undefined, principal?: Caller): Refusal => ({
      ...(principal !== undefined && { principal }),
      // Only names of operations Tessera has: the trail holds no caller-chosen text.
      detail: { ...(reason !== undefined && { reason }), ...(named !== undefined && Object.hasOwn(ops, named) && { operation: named }) },
    });

    let principal: Caller;
    try {
      principal = await o.service.authenticate(ctx);
    } catch (thrown) {
      // Anything but a catalogue error is a fault of ours: answered as internal, recorded once.
      const err = isTesseraError(thrown) ? thrown : new TesseraError("Internal", undefined, { cause: thrown });
      const reason = (err.cause as { reason?: unknown } | undefined)?.reason;
      await o.service.rejected(ctx, err, refusal(typeof reason === "string" ? reason : undefined));
      throw err;
    }

    let op: (typeof ops)[string];
    let body: Json;
    try {
      if (targets.length !== 1) {
        throw new AwsError("UnknownOperationException", "send exactly one X-Amz-Target header naming a TrentService operation", "InvalidInput", targets.length === 0 ? "missing-target" : "duplicate-target");
      }
      if (named === undefined) throw new AwsError("UnknownOperationException", "X-Amz-Target must name a TrentService operation", "InvalidInput", "unknown-target");
      if (!Object.hasOwn(ops, named)) throw unsupported(`${named} is not supported by Tessera (see docs/aws-compatibility.md)`, "unsupported-operation");
      op = ops[named]!;
      body = parseBody(raw);
      // Grant tokens name grants the door considers for this request (aws-grants.ts).
      if (grantTokenOperations.has(named)) ctx.grantIds = grantIdsOf(body);
    } catch (err) {
      await o.service.rejected(ctx, (err as AwsError).toTesseraError(), refusal((err as AwsError).reason, principal));
      throw err;
    }
    try {
      const result = await op(ctx, body);
      // As AWS answers every request: the SDKs report it as `$metadata.requestId`; it is the audit record's requestId.
      return reply.code(200).type("application/x-amz-json-1.1").header("x-amzn-requestid", request.id).send(JSON.stringify(result));
    } catch (err) {
      // Validation done here (before the door) must still leave an audit record; the door's own
      // refusals were recorded by the door.
      if (err instanceof AwsError) await o.service.rejected(ctx, err.toTesseraError(), refusal(err.reason, principal));
      else if (!isTesseraError(err)) {
        request.log.error({ err, requestId: request.id }, "AWS API request failed");
        await o.service.rejected(ctx, new TesseraError("Internal"), refusal("internal", principal));
      }
      throw err;
    }
  });

  function ctxOf(b: Json, field: string) {
    const c = context(b, field);
    return c === undefined ? {} : { context: c };
  }

  function dataKeyRequest(b: Json) {
    const spec = str(b, "KeySpec");
    const n = int(b, "NumberOfBytes");
    if ((spec === undefined) === (n === undefined)) throw validation("give exactly one of KeySpec or NumberOfBytes");
    if (spec !== undefined && spec !== "AES_256" && spec !== "AES_128") throw validation("KeySpec must be AES_256 or AES_128");
    if (n !== undefined && (n < 1 || n > 1024)) throw validation("NumberOfBytes must be 1–1024");
    return { ...(spec !== undefined && { keySpec: spec as "AES_256" | "AES_128" }), ...(n !== undefined && { numberOfBytes: n }), ...ctxOf(b, "EncryptionContext") };
  }

  function aliasName(b: Json): string {
    const name = identifier(b, "AliasName");
    if (!name.startsWith("alias/")) throw validation("AliasName must begin with alias/");
    return name;
  }

  /** MacAlgorithm, required: one of the table's (HMAC_SM3 too — AWS SDKs pass unknown enum values through). */
  function macAlgorithm(b: Json): MacAlgorithm {
    const a = str(b, "MacAlgorithm", true);
    if (!Object.hasOwn(macAlgorithms, a)) throw validation(`MacAlgorithm must be one of ${Object.keys(macAlgorithms).join(", ")}`);
    return a as MacAlgorithm;
  }

  function algorithm(b: Json, field: string) {
    const a = str(b, field);
    if (a !== undefined && a !== "SYMMETRIC_DEFAULT") throw validation(`${field} must be SYMMETRIC_DEFAULT`);
  }
}

/** DescribeKey's algorithm lists: the algorithms of the key's usage, under AWS's field name for that usage. */
function algorithmLists(k: KeyMetadata): Json {
  return { [algorithmListField[k.keyUsage]]: [...algorithmsFor(k.keySpec, k.keyUsage)] };
}

/** The request body as a JSON object (an empty body is `{}`). */
function parseBody(raw: Buffer): Json {
  let body: unknown;
  try {
    body = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
  } catch {
    throw new AwsError("SerializationException", "the request body is not JSON", "InvalidInput", "not-json");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AwsError("SerializationException", "the request body must be a JSON object", "InvalidInput", "not-json-object");
  }
  return body as Json;
}

/** Every value of a header, from the raw header lines (Node joins or drops duplicates in `headers`). */
function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) out.push(rawHeaders[i + 1]!);
  return out;
}

const encryptionAlgorithmNames = Object.keys(encryptionAlgorithms) as EncryptionAlgorithm[];

const unsupported = (message: string, reason = "unsupported-parameter") => new AwsError("UnsupportedOperationException", message, "InvalidInput", reason);

/** A framework error (body over the limit, unreadable body) as the refusal it is; anything else is internal. */
function frameworkRefusal(err: unknown): AwsError {
  const e = err as { code?: string; statusCode?: number };
  if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new AwsError("ValidationException", `the request body is larger than ${MAX_BODY_BYTES} bytes`, "TooLarge", "body-too-large");
  }
  if (typeof e.statusCode === "number" && e.statusCode < 500) return new AwsError("SerializationException", "the request could not be read", "InvalidInput", "unreadable");
  return new AwsError("KMSInternalException", "Internal error.", "Internal", "internal", 500);
}
