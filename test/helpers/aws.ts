/** A real Tessera on loopback for tests that speak the AWS KMS API through the official SDK. */
import type { AddressInfo } from "node:net";
import { KMSClient } from "@aws-sdk/client-kms";
import { ManualClock } from "@tessera/server";
import { startTestApp, type TestApp } from "./app.js";

export interface AwsTestApp extends TestApp {
  /** A KMS client signing with these credentials (an access key's `accessKeyId`/`secretAccessKey`). */
  kms(credentials: { accessKeyId: string; secretAccessKey: string }): KMSClient;
  /** A KMS client for a new access key of `role`. */
  kmsFor(role: string): Promise<KMSClient>;
}

export async function startAwsTestApp(): Promise<AwsTestApp> {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  // SigV4 refuses requests signed more than 5 minutes from the server's clock: start it at the real time.
  const t = await startTestApp({ clock: new ManualClock(Date.now()) });
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  const endpoint = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
  const kms = (credentials: { accessKeyId: string; secretAccessKey: string }) => new KMSClient({ region: "us-east-1", endpoint, credentials, maxAttempts: 1 });
  return Object.assign(t, {
    kms,
    async kmsFor(role: string) {
      const key = await t.call("POST", "/v1/auth/access-keys", { role });
      if (key.status !== 201) throw new Error(`access key for ${role}: ${JSON.stringify(key.body)}`);
      return kms(key.body);
    },
  });
}

/** The AWS exception name a call fails with, or "no error". */
export async function awsError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { name: string }).name;
  }
  return "no error";
}
