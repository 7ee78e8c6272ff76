/** docs/audit.md quotes the schema and the grants the code runs and the tests check: they must not drift apart. */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { readerGrants, schemaStatements, writerGrants } from "../../src/audit/pgStore.ts"
import { envNames } from "../../src/policy/settings.ts"

const doc = readFileSync(resolve(import.meta.dirname, "../../docs/audit.md"), "utf8")

describe("docs/audit.md", () => {
  it("quotes every schema statement and the writer's and reader's grants", () => {
    for (const s of [...schemaStatements, ...writerGrants("precall_audit_writer", "precall_audit"), ...readerGrants("precall_audit_reader", "precall_audit")]) {
      expect(doc, s).toContain(`${s};`)
    }
  })

  it("names every audit setting", () => {
    for (const name of [envNames.auditDatabaseUrl, envNames.auditFile, envNames.auditHashSecret, envNames.auditTimeoutMs, "PRECALL_ADMIN_KEYS"]) expect(doc).toContain(`\`${name}\``)
  })
})
