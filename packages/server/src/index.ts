export { buildApp, type AppOptions, type TesseraApp } from "./app.js";
export { runMigrateStorage, runServer, type ServerCommandOptions } from "./main.js";
export { ConfigError, loadConfigFile, resolveConfig, type ServerConfig } from "./config/config.js";
export { SqliteStore } from "./store/index.js";
export type { Store } from "./store/index.js";
export { ManualClock, systemClock, type Clock } from "./clock.js";
export type { AuditEntry } from "./audit/auditor.js";
export { FileSink, openTrailFile, type AuditSink, type SinkBatch, type SinkRepair, type TrailFile } from "./audit/sinks.js";
// The record format and verification live in @tessera/audit (no native dependency): the CLI uses them without the server.
export { verifyTrail, fileLines, checkLine, type VerifyReport, type VerifyProblemCode, type TrailChunk } from "@tessera/audit";
export { ShamirSeal, Pkcs11Seal, HsmError, type Seal, type Pkcs11SealOptions } from "./seal/index.js";
