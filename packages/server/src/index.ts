export { buildApp, type AppOptions, type TesseraApp } from "./app.js";
export { runServer, type ServerCommandOptions } from "./main.js";
export { ConfigError, loadConfigFile, resolveConfig, type ServerConfig } from "./config/config.js";
export { SqliteStore } from "./store/index.js";
export type { Store } from "./store/index.js";
export { ManualClock, systemClock, type Clock } from "./clock.js";
export type { AuditEntry } from "./audit/auditor.js";
export { FileSink, openTrailFile, type AuditSink, type SinkBatch, type SinkRepair, type TrailFile } from "./audit/sinks.js";
export { verifyTrail, fileLines, checkLine, type VerifyReport, type VerifyProblemCode, type TrailChunk } from "./audit/verify.js";
