/**
 * The native API routes the agent's proxy may forward, and the action each one is. Only data-plane
 * routes are here: administration (keys, policies, roles, tokens, sys) is never reachable through a
 * VM's socket, whatever the configuration says. `listener.allow` narrows this further.
 */
export const PROXIED_ACTIONS = Object.freeze([
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncrypt",
  "kms:Derive",
  "kms:GenerateMac",
  "kms:VerifyMac",
  "kms:Sign",
  "kms:Verify",
  "kms:GetPublicKey",
  "kms:GenerateDataKeyPair",
  "kms:GenerateDataKeyPairWithoutPlaintext",
  "kms:GenerateRandom",
  "kms:DescribeKey",
  "secrets:Read",
  "secrets:ReadMetadata",
  "secrets:List",
] as const);
export type ProxiedAction = (typeof PROXIED_ACTIONS)[number];

/** What an application on the VM usually needs; DescribeKey, signing, MACs and metadata are opt-in. */
export const DEFAULT_ALLOWED_ACTIONS: readonly ProxiedAction[] = Object.freeze([
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncrypt",
  "kms:Derive",
  "kms:GenerateRandom",
  "secrets:Read",
]);

const KEY = "[^/]+";
const ROUTES: ReadonlyArray<readonly [method: string, pattern: RegExp, action: ProxiedAction]> = Object.freeze([
  ["POST", new RegExp(`^/v1/keys/${KEY}/encrypt$`), "kms:Encrypt"],
  ["POST", /^\/v1\/batch\/encrypt$/, "kms:Encrypt"],
  ["POST", /^\/v1\/decrypt$/, "kms:Decrypt"],
  ["POST", /^\/v1\/batch\/decrypt$/, "kms:Decrypt"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/generate-data-key$`), "kms:GenerateDataKey"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/generate-data-key-without-plaintext$`), "kms:GenerateDataKeyWithoutPlaintext"],
  ["POST", /^\/v1\/reencrypt$/, "kms:ReEncrypt"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/derive$`), "kms:Derive"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/generate-mac$`), "kms:GenerateMac"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/verify-mac$`), "kms:VerifyMac"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/sign$`), "kms:Sign"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/verify$`), "kms:Verify"],
  ["GET", new RegExp(`^/v1/keys/${KEY}/public-key$`), "kms:GetPublicKey"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/generate-data-key-pair$`), "kms:GenerateDataKeyPair"],
  ["POST", new RegExp(`^/v1/keys/${KEY}/generate-data-key-pair-without-plaintext$`), "kms:GenerateDataKeyPairWithoutPlaintext"],
  ["POST", /^\/v1\/random$/, "kms:GenerateRandom"],
  ["GET", new RegExp(`^/v1/keys/${KEY}$`), "kms:DescribeKey"],
  ["GET", new RegExp(`^/v1/secrets/[^/]+/data/.+$`), "secrets:Read"],
  ["GET", new RegExp(`^/v1/secrets/[^/]+/metadata/.+$`), "secrets:ReadMetadata"],
  ["GET", /^\/v1\/secrets\/[^/]+\/list(?:\/.*)?$/, "secrets:List"],
]);

/** `/v1/sys/health` is answered for anyone: it says whether the server is up and unsealed, nothing more. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(["/v1/sys/health"]);

/** The action a request is, or undefined when the proxy does not forward it at all. */
export function proxiedAction(method: string, path: string): ProxiedAction | undefined {
  for (const [m, pattern, action] of ROUTES) if (m === method && pattern.test(path)) return action;
  return undefined;
}
