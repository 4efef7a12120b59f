/**
 * The slice of `pkcs11js` (an optional dependency, compiled by node-gyp at install) that the PKCS#11
 * seal uses, typed here so the server builds — and runs the Shamir seal — where it did not install.
 * Loaded with a dynamic import only when the pkcs11 seal is configured.
 */
export type Handle = Buffer;

export interface Pkcs11Attribute {
  type: number;
  value?: number | boolean | string | Buffer;
}

export interface Pkcs11Mechanism {
  mechanism: number;
  parameter?: { type: number; iv: Buffer; ivBits: number; aad?: Buffer; tagBits?: number };
}

export interface Pkcs11Instance {
  load(path: string): void;
  close(): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): { label: string };
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_FindObjectsInit(session: Handle, template: Pkcs11Attribute[]): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GenerateKey(session: Handle, mechanism: Pkcs11Mechanism, template: Pkcs11Attribute[]): Handle;
  C_GenerateRandom(session: Handle, buf: Buffer): Buffer;
  C_EncryptInit(session: Handle, mechanism: Pkcs11Mechanism, key: Handle): void;
  C_Encrypt(session: Handle, inData: Buffer, outData: Buffer): Buffer;
  C_DecryptInit(session: Handle, mechanism: Pkcs11Mechanism, key: Handle): void;
  C_Decrypt(session: Handle, inData: Buffer, outData: Buffer): Buffer;
  C_CreateObject(session: Handle, template: Pkcs11Attribute[]): Handle;
  C_DestroyObject(session: Handle, object: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Pkcs11Attribute[]): { type: number; value?: Buffer }[];
  C_WrapKey(session: Handle, mechanism: Pkcs11Mechanism, wrappingKey: Handle, key: Handle, wrappedKey: Buffer): Buffer;
  C_UnwrapKey(session: Handle, mechanism: Pkcs11Mechanism, unwrappingKey: Handle, wrappedKey: Buffer, template: Pkcs11Attribute[]): Handle;
}

/** The module's constants we use (PKCS#11 v2.40 values, read from the module). */
export const PKCS11_CONSTANTS = [
  "CKF_SERIAL_SESSION",
  "CKF_RW_SESSION",
  "CKU_USER",
  "CKA_CLASS",
  "CKA_KEY_TYPE",
  "CKA_VALUE",
  "CKA_VALUE_LEN",
  "CKA_LABEL",
  "CKA_TOKEN",
  "CKA_PRIVATE",
  "CKA_SENSITIVE",
  "CKA_EXTRACTABLE",
  "CKA_ENCRYPT",
  "CKA_DECRYPT",
  "CKA_WRAP",
  "CKA_UNWRAP",
  "CKO_SECRET_KEY",
  "CKK_AES",
  "CKK_GENERIC_SECRET",
  "CKM_AES_KEY_GEN",
  "CKM_AES_GCM",
  "CKM_AES_KEY_WRAP_PAD",
  "CK_PARAMS_GCM",
] as const;

export type Pkcs11Constants = Record<(typeof PKCS11_CONSTANTS)[number], number>;

export interface Pkcs11Library extends Pkcs11Constants {
  PKCS11: new () => Pkcs11Instance;
}

/** Loads pkcs11js, or explains what is missing. */
export async function loadPkcs11js(): Promise<Pkcs11Library> {
  const name = "pkcs11js";
  try {
    const mod = (await import(name)) as { default?: Pkcs11Library } & Pkcs11Library;
    return mod.default ?? mod;
  } catch (err) {
    throw new Error(
      "the pkcs11 seal needs the optional package pkcs11js, which is not installed or did not compile " +
        `(${(err as Error).message}); install a C++ compiler, make and python3, then run npm install again`,
      { cause: err },
    );
  }
}
