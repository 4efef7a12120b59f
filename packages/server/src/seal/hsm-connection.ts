/**
 * One logged-in session with a PKCS#11 token, re-opened when the HSM drops it.
 *
 * - The module is loaded and initialised on first use; a library that will not load, a token that is
 *   not there, and a session the HSM dropped (restart, network) are *unreachable*: the caller retries
 *   later, and each retry starts afresh (C_Finalize + C_Initialize, so a token that appeared since is
 *   seen). Errors name the library and the slot or token label.
 * - A refused PIN is *refused*, never retried by itself: HSMs lock a token after a few wrong PINs.
 * - An operation that fails because the session or login went away is retried once on a new session.
 * - The PIN is held as given (it must be presented again after an HSM restart) and never logged.
 */
import { HsmError } from "./hsm-error.js";
import type { Handle, Pkcs11Instance, Pkcs11Library } from "./pkcs11-api.js";

export interface HsmOptions {
  lib: string;
  slot?: number;
  tokenLabel?: string;
  pin: string;
}

/** PKCS#11 return values meaning the session, login or module went away: re-open and try again. */
const SESSION_LOST = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_DEVICE_REMOVED",
  "CKR_DEVICE_ERROR",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_SLOT_ID_INVALID",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_KEY_HANDLE_INVALID",
]);
const PIN_REFUSED = new Set(["CKR_PIN_INCORRECT", "CKR_PIN_INVALID", "CKR_PIN_LEN_RANGE", "CKR_PIN_EXPIRED", "CKR_PIN_LOCKED"]);

/** The CKR_ name of a pkcs11js error, if it is one. */
export function ckr(err: unknown): string | undefined {
  if (err instanceof HsmError || !(err instanceof Error)) return undefined;
  return /CKR_[A-Z_]+/.exec(err.message)?.[0];
}

/** The error says the session, login or module went away (the connection re-opens and retries). */
export function isSessionLost(err: unknown): boolean {
  const code = ckr(err);
  return code !== undefined && SESSION_LOST.has(code);
}

export class HsmConnection {
  private p11: Pkcs11Instance | undefined;
  private session: Handle | undefined;

  constructor(
    readonly k: Pkcs11Library,
    private readonly o: HsmOptions,
  ) {}

  /** Where the HSM is, for messages: `token "tessera" of /usr/lib/softhsm/libsofthsm2.so`. */
  where(): string {
    return `${this.o.tokenLabel !== undefined ? `token "${this.o.tokenLabel}"` : `slot ${this.o.slot}`} of ${this.o.lib}`;
  }

  /** Runs `fn` on a logged-in session; a lost session is re-opened once. */
  use<T>(fn: (p11: Pkcs11Instance, session: Handle) => T): T {
    for (let attempt = 0; ; attempt++) {
      const [p11, session] = this.open();
      try {
        return fn(p11, session);
      } catch (err) {
        const code = ckr(err);
        if (attempt === 0 && code !== undefined && SESSION_LOST.has(code)) {
          this.drop(code === "CKR_CRYPTOKI_NOT_INITIALIZED");
          continue;
        }
        if (code !== undefined && SESSION_LOST.has(code)) {
          this.drop(true);
          throw new HsmError("unreachable", `the HSM (${this.where()}) dropped the session: ${code}`, { cause: err });
        }
        throw err;
      }
    }
  }

  /** Forgets the session; with `restart`, the module too (the next use re-initialises and rescans slots). */
  drop(restart: boolean): void {
    const p11 = this.p11;
    if (p11 !== undefined && this.session !== undefined) {
      try {
        p11.C_CloseSession(this.session);
      } catch {
        // already gone
      }
    }
    this.session = undefined;
    if (restart && p11 !== undefined) {
      try {
        p11.C_Finalize();
      } catch {
        // not initialised
      }
      this.p11 = undefined;
    }
  }

  close(): void {
    this.drop(true);
  }

  private open(): [Pkcs11Instance, Handle] {
    if (this.p11 !== undefined && this.session !== undefined) return [this.p11, this.session];
    const p11 = this.p11 ?? this.initialise();
    const slot = this.findSlot(p11);
    let session: Handle;
    try {
      session = p11.C_OpenSession(slot, this.k.CKF_SERIAL_SESSION | this.k.CKF_RW_SESSION);
    } catch (err) {
      this.drop(true);
      throw new HsmError("unreachable", `cannot open a session with the HSM (${this.where()}): ${ckr(err) ?? (err as Error).message}`, { cause: err });
    }
    try {
      p11.C_Login(session, this.k.CKU_USER, this.o.pin);
    } catch (err) {
      const code = ckr(err);
      if (code !== "CKR_USER_ALREADY_LOGGED_IN") {
        try {
          p11.C_CloseSession(session);
        } catch {
          // ignore
        }
        if (code !== undefined && PIN_REFUSED.has(code)) {
          throw new HsmError("refused", `the HSM refused the PIN for ${this.where()} (${code}); not retrying, since repeated wrong PINs lock the token — fix TESSERA_HSM_PIN or pin_file and restart`, { cause: err });
        }
        this.drop(true);
        throw new HsmError("unreachable", `cannot log in to the HSM (${this.where()}): ${code ?? (err as Error).message}`, { cause: err });
      }
    }
    this.session = session;
    return [p11, session];
  }

  private initialise(): Pkcs11Instance {
    const p11 = new this.k.PKCS11();
    try {
      p11.load(this.o.lib);
    } catch (err) {
      throw new HsmError("unreachable", `cannot load the PKCS#11 library ${this.o.lib}: ${(err as Error).message}`, { cause: err });
    }
    try {
      p11.C_Initialize();
    } catch (err) {
      // Another user of the same library in this process initialised it first: that is fine.
      if (ckr(err) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") {
        throw new HsmError("unreachable", `the PKCS#11 library ${this.o.lib} did not initialise: ${ckr(err) ?? (err as Error).message}`, { cause: err });
      }
    }
    this.p11 = p11;
    return p11;
  }

  private findSlot(p11: Pkcs11Instance): Handle {
    let slots: Handle[];
    try {
      slots = p11.C_GetSlotList(true);
    } catch (err) {
      this.drop(true);
      throw new HsmError("unreachable", `cannot list the slots of ${this.o.lib}: ${ckr(err) ?? (err as Error).message}`, { cause: err });
    }
    const found = slots.find((s) =>
      this.o.tokenLabel !== undefined ? p11.C_GetTokenInfo(s).label.trimEnd() === this.o.tokenLabel : s.readBigUInt64LE(0) === BigInt(this.o.slot ?? -1),
    );
    if (found === undefined) {
      // Tokens that appear later are seen only after the module is initialised again.
      this.drop(true);
      throw new HsmError("unreachable", `the HSM has no ${this.where()} (is it connected and the token initialised?)`);
    }
    return found;
  }
}
