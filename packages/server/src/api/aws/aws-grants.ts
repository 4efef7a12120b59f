/**
 * The AWS API's grant operations — CreateGrant, ListGrants, ListRetirableGrants, RetireGrant,
 * RevokeGrant — mapped onto GrantService with AWS's shapes, and grant tokens.
 *
 * A grant token names its grant (base64 of `tessera-grant:1:<grant id>`). It is not a credential:
 * using a grant still needs the grantee's own signature; a token only makes the request consider that
 * grant read from the store, as AWS's tokens make a grant usable before it has propagated.
 */
import type { CallContext } from "../../service/door.js";
import type { GrantService } from "../../service/grant-service.js";
import type { KeyGrantInfo } from "@tessera/protocol";
import { roleOfPrincipal, type GrantConstraints } from "../../service/key-policy-documents.js";
import { AwsError, validation } from "./aws-errors.js";
import { context, int, identifier, str, type Json } from "./aws-input.js";

type Op = (ctx: CallContext, b: Json) => Promise<Json>;

const TOKEN_PREFIX = "tessera-grant:1:";
const MAX_GRANT_TOKENS = 10;

/** Operations that take `GrantTokens` (AWS KMS API reference). */
export const grantTokenOperations: ReadonlySet<string> = new Set([
  "CreateGrant",
  "Decrypt",
  "DescribeKey",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "GenerateDataKeyWithoutPlaintext",
  "GenerateMac",
  "GetPublicKey",
  "ReEncrypt",
  "Sign",
  "Verify",
  "VerifyMac",
  "DeriveSharedSecret",
]);

export const grantToken = (grantId: string): string => Buffer.from(`${TOKEN_PREFIX}${grantId}`).toString("base64");

const badToken = () => new AwsError("InvalidGrantTokenException", "the grant token is not valid", "InvalidInput", "invalid-grant-token");

function grantIdOfToken(token: string): string {
  if (token.length === 0 || token.length > 8192) throw badToken();
  const text = Buffer.from(token, "base64").toString("utf8");
  const id = text.startsWith(TOKEN_PREFIX) ? text.slice(TOKEN_PREFIX.length) : "";
  if (!/^[0-9a-f]{64}$/.test(id) || grantToken(id) !== token) throw badToken();
  return id;
}

/** The grant ids a request's `GrantTokens` name; InvalidGrantTokenException for a token that names none. */
export function grantIdsOf(b: Json): string[] | undefined {
  const v = b["GrantTokens"];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((t) => typeof t !== "string")) throw validation("GrantTokens must be a list of strings");
  if (v.length > MAX_GRANT_TOKENS) throw validation(`GrantTokens holds at most ${MAX_GRANT_TOKENS} tokens`);
  return (v as string[]).map(grantIdOfToken);
}

export function grantOps(o: { grants: GrantService; accountId: string }, arn: (keyId: string) => string, keyRef: (id: string) => string): Record<string, Op> {
  const role = (b: Json, field: string, required: boolean): { principal: string; role: string } | undefined => {
    const principal = required ? str(b, field, true) : str(b, field);
    if (principal === undefined) return undefined;
    const r = roleOfPrincipal(principal, o.accountId);
    if (r === undefined) {
      throw new AwsError("InvalidArnException", `${field} must be a role of account ${o.accountId}: arn:aws:iam::${o.accountId}:role/NAME (Tessera maps principals to roles)`, "InvalidInput", "invalid-principal");
    }
    return { principal, role: r };
  };
  const noDryRun = (b: Json) => {
    if (b["DryRun"] === true) throw new AwsError("UnsupportedOperationException", "DryRun is not supported by Tessera", "InvalidInput", "unsupported-parameter");
  };
  const entry = (g: KeyGrantInfo): Json => ({
    KeyId: arn(g.keyId),
    GrantId: g.grantId,
    Name: g.name,
    CreationDate: Date.parse(g.createdAt) / 1000,
    GranteePrincipal: g.granteePrincipal,
    ...(g.retiringPrincipal !== null && { RetiringPrincipal: g.retiringPrincipal }),
    IssuingAccount: g.issuingAccount,
    Operations: g.operations,
    ...(g.constraints !== null && { Constraints: constraintsOut(g.constraints) }),
  });
  const page = (all: KeyGrantInfo[], b: Json): Json => {
    const limit = int(b, "Limit") ?? 50;
    if (limit < 1 || limit > 100) throw validation("Limit must be 1–100");
    const marker = str(b, "Marker");
    const start = marker === undefined ? 0 : Number(marker);
    if (!Number.isInteger(start) || start < 0) throw new AwsError("InvalidMarkerException", "the Marker is not one this API returned", "InvalidInput", "invalid-marker");
    const more = start + limit < all.length;
    return { Grants: all.slice(start, start + limit).map(entry), Truncated: more, ...(more && { NextMarker: String(start + limit) }) };
  };
  const grantId = (b: Json, required: boolean): string | undefined => {
    const id = required ? identifier(b, "GrantId") : str(b, "GrantId");
    if (id !== undefined && !/^[0-9a-f]{64}$/.test(id)) throw new AwsError("InvalidGrantIdException", "GrantId is not a grant id", "InvalidInput", "invalid-grant-id");
    return id;
  };

  return {
    async CreateGrant(ctx, b) {
      noDryRun(b);
      const grantee = role(b, "GranteePrincipal", true)!;
      const retiring = role(b, "RetiringPrincipal", false);
      const operations = b["Operations"];
      if (!Array.isArray(operations) || operations.some((x) => typeof x !== "string")) {
        throw validation("1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null", "missing-field");
      }
      const r = await o.grants.createGrant(ctx, keyRef(identifier(b, "KeyId")), {
        granteePrincipal: grantee.principal,
        granteeRole: grantee.role,
        ...(retiring !== undefined && { retiringPrincipal: retiring.principal, retiringRole: retiring.role }),
        operations: operations as string[],
        constraints: constraintsIn(b["Constraints"]),
        name: str(b, "Name"),
        issuingAccount: `arn:aws:iam::${o.accountId}:root`,
      });
      return { GrantToken: grantToken(r.grantId), GrantId: r.grantId };
    },
    async ListGrants(ctx, b) {
      const id = grantId(b, false);
      const grantee = str(b, "GranteePrincipal");
      const r = await o.grants.listGrants(ctx, keyRef(identifier(b, "KeyId")), { grantId: id, granteePrincipal: grantee });
      return page(r.grants, b);
    },
    async ListRetirableGrants(ctx, b) {
      const retiring = role(b, "RetiringPrincipal", true)!;
      return page(await o.grants.listRetirableGrants(ctx, retiring.role), b);
    },
    async RetireGrant(ctx, b) {
      noDryRun(b);
      const token = str(b, "GrantToken");
      const key = str(b, "KeyId");
      const id = grantId(b, false);
      if (token !== undefined) {
        const named = grantIdOfToken(token);
        if (id !== undefined && id !== named) throw validation("GrantId and GrantToken name different grants");
        await o.grants.retireGrant(ctx, named, key === undefined ? undefined : keyRef(key));
      } else {
        if (id === undefined || key === undefined) throw validation("give a GrantToken, or a KeyId and a GrantId", "missing-field");
        await o.grants.retireGrant(ctx, id, keyRef(key));
      }
      return {};
    },
    async RevokeGrant(ctx, b) {
      noDryRun(b);
      const id = grantId(b, true)!;
      await o.grants.revokeGrant(ctx, keyRef(identifier(b, "KeyId")), id);
      return {};
    },
  };
}

function constraintsIn(v: unknown): GrantConstraints | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw validation("Constraints must be an object");
  const b = v as Json;
  for (const k of Object.keys(b)) if (k !== "EncryptionContextEquals" && k !== "EncryptionContextSubset") throw validation(`Constraints.${k} is not a grant constraint`);
  const equals = context(b, "EncryptionContextEquals");
  const subset = context(b, "EncryptionContextSubset");
  return { ...(equals !== undefined && { encryptionContextEquals: equals }), ...(subset !== undefined && { encryptionContextSubset: subset }) };
}

function constraintsOut(c: GrantConstraints): Json {
  return {
    ...(c.encryptionContextEquals !== undefined && { EncryptionContextEquals: c.encryptionContextEquals }),
    ...(c.encryptionContextSubset !== undefined && { EncryptionContextSubset: c.encryptionContextSubset }),
  };
}
