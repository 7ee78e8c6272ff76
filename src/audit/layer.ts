/** The exposure store the settings choose: PostgreSQL when PRECALL_AUDIT_DATABASE_URL is set, else the JSON-lines file. */
import type { Layer } from "effect"
import type { Settings } from "../policy/settings.ts"
import type { AuditStoreError, ExposureStore } from "./ExposureStore.ts"
import { fileStoreLayer } from "./fileStore.ts"
import { pgStoreLayer } from "./pgStore.ts"

/**
 * The configured exposure store. With PostgreSQL it connects and migrates at start, and fails with
 * AuditStoreError when it cannot; the file is opened for appending at start when real-number
 * fallback is allowed (and fails the same way when it cannot be), else created on the first record.
 *
 * @since 0.2.0
 */
export const exposureStoreLayer = (settings: Settings): Layer.Layer<ExposureStore, AuditStoreError> =>
  settings.auditDatabaseUrl !== undefined
    ? pgStoreLayer({ url: settings.auditDatabaseUrl })
    : fileStoreLayer(settings.auditFile, { probe: settings.allowRealFallback })
