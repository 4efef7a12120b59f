/** Builds the OpenAPI 3.1 document of the native API from the routes' own schemas. */
import type { TSchema } from "@sinclair/typebox";

export interface RouteDoc {
  method: string | string[];
  url: string;
  schema: Record<string, TSchema> | undefined;
}

export function buildOpenApi(routes: readonly RouteDoc[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== "HEAD");
    for (const method of methods) {
      const s = r.schema ?? {};
      const params = s["params"] as { properties?: Record<string, TSchema> } | undefined;
      const query = s["querystring"] as { properties?: Record<string, TSchema> } | undefined;
      const response = (s["response"] ?? {}) as Record<string, TSchema>;
      (paths[path] ??= {})[method.toLowerCase()] = {
        parameters: [
          ...Object.entries(params?.properties ?? {}).map(([name, schema]) => ({ name, in: "path", required: true, schema })),
          ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: "query", required: false, schema })),
        ],
        ...(s["body"] !== undefined && { requestBody: { content: { "application/json": { schema: s["body"] } } } }),
        responses: Object.fromEntries(
          Object.entries(response).map(([code, schema]) => [code.toUpperCase(), { description: code, content: { "application/json": { schema } } }]),
        ),
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "Tessera native API", version },
    components: { securitySchemes: { token: { type: "apiKey", in: "header", name: "X-Tessera-Token" } } },
    security: [{ token: [] }],
    paths,
  };
}
