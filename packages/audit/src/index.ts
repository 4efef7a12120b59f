/**
 * `@tessera/audit`: the audit trail's record format (canonical JSON, hash chain, signed checkpoints)
 * and its verification, shared by the server (which writes trails) and the CLI (which verifies them
 * offline). Pure TypeScript on `node:crypto` and `node:fs`: no native module, nothing of the server.
 *
 * @example
 * ```ts
 * import { fileLines, verifyTrail } from "@tessera/audit";
 * const report = await verifyTrail(fileLines(["/var/lib/tessera/audit/audit.jsonl"]), { publicKey: pem });
 * if (!report.ok) console.error(report.problem); // { code: "open-tail" | "edited" | …, seq, where, what }
 * ```
 */
export {
  GENESIS,
  canonicalBody,
  checkpointMessage,
  finishRecord,
  lineOf,
  recordHash,
  recordLine,
  sha256Hex,
  splitLine,
  type AuditRecord,
  type CheckpointRecord,
  type RecordPrincipal,
  type RepairRecord,
  type RequestRecord,
} from "./record.js";
export { checkLine, verifyTrail, type CheckedLine, type TrailChunk, type VerifyOptions, type VerifyProblemCode, type VerifyReport } from "./verify.js";
export { FileTrailReader, fileLines, readableTrailFiles, trailFiles } from "./file-trail.js";
export { V2_PREFIX, contextJson, decodeV2, encodeRequestV2, splitV2, v2HashedText, type EncodedV2, type ParsedV2, type RequestContext } from "./compact.js";
export { TrailDecoder, lineHead, type DecodedRecord } from "./lines.js";
