/**
 * Loads `@tessera/server` for `tessera server` — the only place the CLI reaches the server, and only
 * at run time. The CLI does not depend on the server package: a VM installs the CLI (to enrol, to
 * encrypt, to verify a trail offline) without the server and its dependencies.
 */
import type { MigrateStorageOptions, MigrateStorageReport, ServerRunOptions } from "@tessera/protocol";

export type { MigrateStorageOptions, ServerRunOptions };

/** The slice of @tessera/server the CLI calls. */
export interface ServerModule {
  runServer(options: ServerRunOptions): Promise<void>;
  runMigrateStorage(options: MigrateStorageOptions): Promise<MigrateStorageReport>;
}

export const SERVER_PACKAGE = "@tessera/server";

/** The server is not installed beside the CLI: exit 1 with a message that says what to install. */
export class ServerNotInstalled extends Error {
  constructor() {
    super(`\`tessera server\` needs the ${SERVER_PACKAGE} package, which is not installed with this CLI: install it (npm install ${SERVER_PACKAGE}) or run the server from a Tessera checkout`);
    this.name = "ServerNotInstalled";
  }
}

export async function loadServer(): Promise<ServerModule> {
  let url: string;
  try {
    // Resolving first tells "not installed" apart from a failure inside an installed server.
    url = import.meta.resolve(SERVER_PACKAGE);
  } catch {
    throw new ServerNotInstalled();
  }
  return (await import(url)) as ServerModule;
}
