/**
 * What went wrong with an HSM, for the one decision that matters: try again later (`unreachable`:
 * the library, token, slot or session is not there right now) or not (`refused`: a wrong PIN, a
 * missing key, a sealed root that does not open — retrying cannot help, and for a PIN can lock the
 * token). The message names the library and the slot or token.
 */
export class HsmError extends Error {
  override name = "HsmError";

  constructor(
    readonly kind: "unreachable" | "refused",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
