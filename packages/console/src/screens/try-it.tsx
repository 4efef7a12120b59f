/**
 * "Try it": encrypt, decrypt or sign a test value with this key through the public API. The
 * plaintext stays in this panel; nothing is stored.
 */
import { useState } from "preact/hooks";
import { api, enc, fromBase64, toBase64 } from "../api.js";
import { t } from "../i18n.js";
import type { KeyMetadata } from "../model.js";
import { ErrorBox } from "../components/ui.js";

const SIGNING: Record<string, string> = {
  RSA_2048: "RSASSA_PSS_SHA_256",
  RSA_3072: "RSASSA_PSS_SHA_256",
  RSA_4096: "RSASSA_PSS_SHA_256",
  ECC_NIST_P256: "ECDSA_SHA_256",
  ECC_NIST_P384: "ECDSA_SHA_384",
  ECC_NIST_P521: "ECDSA_SHA_512",
  ECC_SECG_P256K1: "ECDSA_SHA_256",
  ECC_NIST_EDWARDS25519: "ED25519_SHA_512",
  SM2: "SM2DSA",
  ML_DSA_44: "ML_DSA_SHAKE_256",
  ML_DSA_65: "ML_DSA_SHAKE_256",
  ML_DSA_87: "ML_DSA_SHAKE_256",
};

export function TryIt({ k, can }: { k: KeyMetadata; can: (action: string) => boolean }) {
  const symmetric = k.keyUsage === "ENCRYPT_DECRYPT" && (k.keySpec === "SYMMETRIC_DEFAULT" || k.keySpec === "AES_256" || k.keySpec === "SM4" || k.keySpec === "AES_128" || k.keySpec === "CHACHA20_POLY1305");
  const signing = k.keyUsage === "SIGN_VERIFY" && SIGNING[k.keySpec] !== undefined;
  const [input, setInput] = useState("hello, Tessera");
  const [output, setOutput] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  if (!(symmetric && (can("kms:Encrypt") || can("kms:Decrypt"))) && !(signing && can("kms:Sign"))) return null;

  const go = async (what: "encrypt" | "decrypt" | "sign") => {
    setError(undefined);
    try {
      if (what === "encrypt") {
        const r = await api<{ ciphertext: string; keyVersion: number }>("POST", `/v1/keys/${enc(k.keyId)}/encrypt`, { plaintext: toBase64(input) });
        setOutput(r.ciphertext);
      } else if (what === "decrypt") {
        const r = await api<{ plaintext: string; keyVersion: number }>("POST", "/v1/decrypt", { ciphertext: input.trim(), keyId: k.keyId });
        setOutput(fromBase64(r.plaintext));
      } else {
        const r = await api<{ signature: string }>("POST", `/v1/keys/${enc(k.keyId)}/sign`, { message: toBase64(input), signingAlgorithm: SIGNING[k.keySpec] });
        setOutput(r.signature);
      }
    } catch (err) {
      setOutput("");
      setError(err);
    }
  };
  return (
    <section class="card" aria-labelledby="try-h">
      <h2 id="try-h">{t("try.heading")}</h2>
      <label for="try-input">{t("try.input")}</label>
      <textarea id="try-input" rows={3} value={input} onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)} />
      <div class="actions">
        {symmetric && can("kms:Encrypt") && (
          <button type="button" class="secondary" onClick={() => go("encrypt")}>
            {t("try.encrypt")}
          </button>
        )}
        {symmetric && can("kms:Decrypt") && (
          <button type="button" class="secondary" onClick={() => go("decrypt")}>
            {t("try.decrypt")}
          </button>
        )}
        {signing && can("kms:Sign") && (
          <button type="button" class="secondary" onClick={() => go("sign")}>
            {t("try.sign")}
          </button>
        )}
        {output !== "" && (
          <button type="button" class="secondary" onClick={() => setInput(output)}>
            {t("try.useOutput")}
          </button>
        )}
      </div>
      <label for="try-output">{t("try.output")}</label>
      <output id="try-output" class="mono">
        {output}
      </output>
      <ErrorBox error={error} />
    </section>
  );
}
