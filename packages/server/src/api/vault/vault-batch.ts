/**
 * Vault's `batch_input`: each item goes through the door on its own (authorised and audited, its
 * request id the request's with `/<index>`), and one failure fails only its item. The status is
 * Vault's (`batchRequestResponse`): 200 when every item succeeded; else 400 for a caller's error or
 * 500 for an internal one — or `partial_failure_response_code` when some item succeeded.
 */
import { TesseraError, isTesseraError } from "@tessera/protocol";
import type { CallContext } from "../../service/door.js";
import type { KmsService } from "../../service/kms-service.js";
import { VaultError, badRequest, vaultErrorBody } from "./vault-errors.js";
import { int, objects, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";

/** As the native API's batches. */
export const MAX_BATCH_ITEMS = 1000;

/** Runs `one` for the request itself, or for each item of its `batch_input`. */
export async function singleOrBatch(
  service: Pick<KmsService, "rejected">,
  call: VaultCall,
  one: (item: Json, ctx: CallContext) => Promise<Json>,
): Promise<VaultResult> {
  const items = objects(call.body, "batch_input");
  if (items === undefined) return { data: await one(call.body, call.ctx) };
  if (items.length === 0) throw badRequest("missing batch input to process");
  if (items.length > MAX_BATCH_ITEMS) throw badRequest(`batch_input is limited to ${MAX_BATCH_ITEMS} items`);
  const partialCode = int(call.body, "partial_failure_response_code");
  const results: Json[] = [];
  let succeeded = false;
  let userError = false;
  let internalError = false;
  for (const [i, item] of items.entries()) {
    const ctx: CallContext = { ...call.ctx, requestId: `${call.ctx.requestId}/${i}` };
    const reference = typeof item["reference"] === "string" ? item["reference"] : "";
    try {
      results.push({ ...(await one(item, ctx)), reference });
      succeeded = true;
    } catch (err) {
      // The door recorded its own refusals; the adapter's (a malformed item) are recorded here.
      if (err instanceof VaultError) await service.rejected(ctx, err.toTesseraError(), { principal: call.principal, detail: { reason: err.reason, engine: "transit" } });
      else if (!isTesseraError(err)) await service.rejected(ctx, new TesseraError("Internal", undefined, { cause: err }), { principal: call.principal, detail: { reason: "internal", engine: "transit" } });
      const { status, errors } = vaultErrorBody(err);
      if (status >= 500) internalError = true;
      else userError = true;
      results.push({ error: errors[0] ?? "not found", reference });
    }
  }
  let status = 200;
  if (userError || internalError) {
    status = userError ? 400 : 500;
    if (partialCode !== undefined && succeeded) {
      if (partialCode < 1 || partialCode > 599) call.warnings.push(`invalid HTTP response code override from partial_failure_response_code, reverting to ${status}`);
      else status = partialCode;
    }
  }
  return { data: { batch_results: results }, status };
}
