"""Drives Tessera's Vault API with Debian's python3-hvac, unchanged. Prints one JSON object: each
call's response (or the exception hvac raised) by name, for vault-hvac.test.ts to check."""
import base64
import json
import sys

import hvac
from hvac_calls import call, out

url, token = sys.argv[1], sys.argv[2]
client = hvac.Client(url=url, token=token)
transit = client.secrets.transit


def b64(s):
    return base64.b64encode(s).decode()


call("is_authenticated", lambda: {"value": client.is_authenticated()})
call("create", lambda: transit.create_key("orders"))
call("read", lambda: transit.read_key("orders"))
call("list", lambda: transit.list_keys())
enc = call("encrypt", lambda: transit.encrypt_data("orders", b64(b"hello hvac")))
call("decrypt", lambda: transit.decrypt_data("orders", enc["data"]["ciphertext"]))
call("rotate", lambda: transit.rotate_key("orders"))
call("rewrap", lambda: transit.rewrap_data("orders", enc["data"]["ciphertext"]))
call("decrypt_after_rotate", lambda: transit.decrypt_data("orders", enc["data"]["ciphertext"]))
call("config", lambda: transit.update_key_configuration("orders", min_decryption_version=1, deletion_allowed=True))
# hvac 0.11 predates auto_rotate_period: its generic write sends it.
call("config_rotation", lambda: client.write("transit/keys/orders/config", auto_rotate_period="24h"))
call("batch_encrypt", lambda: transit.encrypt_data("orders", None, batch_input=[{"plaintext": b64(b"a"), "reference": "one"}, {"plaintext": b64(b"b"), "reference": "two"}]))
call("batch_partial", lambda: transit.encrypt_data("orders", None, batch_input=[{"plaintext": b64(b"a"), "reference": "ok"}, {"plaintext": "not base64!", "reference": "bad"}]))
call("datakey_plaintext", lambda: transit.generate_data_key("orders", "plaintext", bits=256))
call("datakey_wrapped", lambda: transit.generate_data_key("orders", "wrapped", bits=128))
call("random", lambda: transit.generate_random_bytes(n_bytes=16, output_format="hex"))
call("hash", lambda: transit.hash_data(b64(b"abc"), algorithm="sha2-256", output_format="hex"))
call("derived_create", lambda: transit.create_key("per-tenant", derived=True))
call("derived_encrypt", lambda: transit.encrypt_data("per-tenant", b64(b"t"), context=b64(b"tenant-1")))
call("derived_decrypt", lambda: transit.decrypt_data("per-tenant", out["derived_encrypt"]["data"]["ciphertext"], context=b64(b"tenant-1")))
# AES-128, ChaCha20-Poly1305, convergent keys, key_version and min_encryption_version. hvac 0.11's type
# list lacks aes128-gcm96 (and xchacha20-poly1305): its generic write sends those unchanged.
call("aes128_create", lambda: client.write("transit/keys/a128", type="aes128-gcm96"))
call("aes128_encrypt", lambda: transit.encrypt_data("a128", b64(b"aes-128")))
call("aes128_decrypt", lambda: transit.decrypt_data("a128", out["aes128_encrypt"]["data"]["ciphertext"]))
call("chacha_create", lambda: transit.create_key("cc", key_type="chacha20-poly1305"))
call("chacha_encrypt", lambda: transit.encrypt_data("cc", b64(b"chacha")))
call("chacha_decrypt", lambda: transit.decrypt_data("cc", out["chacha_encrypt"]["data"]["ciphertext"]))
call("xchacha_refused", lambda: client.write("transit/keys/xcc", type="xchacha20-poly1305"))
call("convergent_create", lambda: transit.create_key("conv", derived=True, convergent_encryption=True))
call("convergent_read", lambda: transit.read_key("conv"))
call("convergent_1", lambda: transit.encrypt_data("conv", b64(b"same"), context=b64(b"tenant-1")))
call("convergent_2", lambda: transit.encrypt_data("conv", b64(b"same"), context=b64(b"tenant-1")))
call("convergent_other", lambda: transit.encrypt_data("conv", b64(b"same"), context=b64(b"tenant-2")))
call("convergent_decrypt", lambda: transit.decrypt_data("conv", out["convergent_1"]["data"]["ciphertext"], context=b64(b"tenant-1")))
call("convergent_nonce_refused", lambda: transit.encrypt_data("conv", b64(b"same"), context=b64(b"tenant-1"), nonce=b64(b"123456789012")))
call("convergent_not_derived_refused", lambda: client.write("transit/keys/conv2", convergent_encryption=True))
call("cc_rotate", lambda: transit.rotate_key("cc"))
call("encrypt_v1", lambda: transit.encrypt_data("cc", b64(b"old"), key_version=1))
call("min_encryption", lambda: transit.update_key_configuration("cc", min_encryption_version=2))
call("encrypt_below_min_refused", lambda: transit.encrypt_data("cc", b64(b"old"), key_version=1))
call("min_encryption_above_latest_refused", lambda: transit.update_key_configuration("cc", min_encryption_version=3))
call("rewrap_v2", lambda: transit.rewrap_data("cc", out["encrypt_v1"]["data"]["ciphertext"], key_version=2))
call("cc_read", lambda: transit.read_key("cc"))
call("ecdsa_create", lambda: transit.create_key("signer", key_type="ecdsa-p256"))
sig = call("sign", lambda: transit.sign_data("signer", b64(b"message")))
call("verify", lambda: transit.verify_signed_data("signer", b64(b"message"), signature=sig["data"]["signature"]))
call("verify_wrong", lambda: transit.verify_signed_data("signer", b64(b"other"), signature=sig["data"]["signature"]))
jws = call("sign_jws", lambda: transit.sign_data("signer", b64(b"message"), marshaling_algorithm="jws"))
call("verify_jws", lambda: transit.verify_signed_data("signer", b64(b"message"), signature=jws["data"]["signature"], marshaling_algorithm="jws"))
call("rsa_create", lambda: transit.create_key("rsa-signer", key_type="rsa-2048"))
call("rsa_sign", lambda: transit.sign_data("rsa-signer", b64(b"m"), hash_algorithm="sha2-256", signature_algorithm="pkcs1v15"))
call("rsa_verify", lambda: transit.verify_signed_data("rsa-signer", b64(b"m"), hash_algorithm="sha2-256", signature=out["rsa_sign"]["data"]["signature"], signature_algorithm="pkcs1v15"))
call("ed25519_create", lambda: transit.create_key("ed", key_type="ed25519"))
call("ed25519_sign", lambda: transit.sign_data("ed", b64(b"m")))
# hvac refuses these key types client-side: its generic write sends them unchanged.
call("hmac_create", lambda: client.write("transit/keys/macs", type="hmac"))
call("hmac", lambda: transit.generate_hmac("macs", b64(b"m")))
call("hmac_verify", lambda: transit.verify_signed_data("macs", b64(b"m"), hmac=out["hmac"]["data"]["hmac"]))
call("sm4_create", lambda: client.write("transit/keys/sm4-key", type="sm4"))
call("sm4_encrypt", lambda: client.write("transit/encrypt/sm4-key", plaintext=b64(b"sm4")))
call("sm2_create", lambda: client.write("transit/keys/sm2-key", type="sm2"))
call("sm2_sign", lambda: client.write("transit/sign/sm2-key", input=b64(b"sm2")))
call("export_refused", lambda: transit.export_key("orders", "encryption-key"))
call("tampered", lambda: transit.decrypt_data("orders", enc["data"]["ciphertext"][:-6] + "AAAAAA"))
# Trim: version 1 retired, then destroyed for good; its ciphertext then fails.
call("trim_too_high", lambda: transit.trim_key("orders", 2))
call("retire_v1", lambda: transit.update_key_configuration("orders", min_decryption_version=2))
call("trim", lambda: transit.trim_key("orders", 2))
call("decrypt_trimmed", lambda: transit.decrypt_data("orders", enc["data"]["ciphertext"]))
# Backup (sealed under the root key) and restore over the live key with force.
backup = call("backup", lambda: transit.backup_key("orders"))
call("restore_refused", lambda: transit.restore_key(backup["data"]["backup"]))
call("restore_forced", lambda: transit.restore_key(backup["data"]["backup"], force=True))
call("restore_tampered", lambda: transit.restore_key(backup["data"]["backup"][:-8] + "AAAAAAAA", force=True))
call("read_restored", lambda: transit.read_key("orders"))
call("delete", lambda: transit.delete_key("orders"))
call("health", lambda: client.sys.read_health_status(method="GET"))
call("seal_status", lambda: client.sys.read_seal_status())
call("lookup_self", lambda: client.auth.token.lookup_self())
print(json.dumps(out))
