/**
 * Schema issues as `{ path, message }` pairs for outcome and push errors. The same shape precall.ts
 * gives decide requests; kept here because precall.ts assembles this folder's layers and importing it
 * back would be a cycle.
 */
import { SchemaIssue } from "effect"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

export const schemaIssuesOf = (issue: SchemaIssue.Issue): Array<{ readonly path: string; readonly message: string }> =>
  formatter(issue).issues.map((i) => ({ path: (i.path ?? []).map(String).join("."), message: i.message }))
