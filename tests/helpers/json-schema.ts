/**
 * A small JSON-Schema validator for the subset the Kubernetes OpenAPI schemas use: type (one or a
 * list, "null" allowed), properties, additionalProperties (false or a schema), required, items, enum,
 * $ref to "#/definitions/…", oneOf, and the int32/int64 formats. Enough to check a Pod against the
 * trimmed v1.21 schema in tests/fixtures/k8s-v1.21/pod-schema.json without a server or a dependency.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

type Schema = Record<string, any>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Validates `value` against `schema` (resolving refs in `root`), returning "path: problem" strings. */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = "$"): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace(/^#\/definitions\//, "");
    const target = root.definitions?.[name];
    if (!target) return [`${path}: unknown $ref ${schema.$ref}`];
    return validate(value, target, root, path);
  }
  if (schema.oneOf) {
    const ok = (schema.oneOf as Schema[]).filter((s) => validate(value, s, root, path).length === 0).length;
    return ok === 1 ? [] : [`${path}: matches ${ok} of oneOf`];
  }
  const errs: string[] = [];
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return [`${path}: expected ${types.join("|")}, got ${t}`];
  }
  if (schema.enum && !schema.enum.includes(value)) errs.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (typeOf(value) === "integer" && schema.format === "int32" && ((value as number) > 2 ** 31 - 1 || (value as number) < -(2 ** 31))) {
    errs.push(`${path}: out of int32 range`);
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, v] of value.entries()) errs.push(...validate(v, schema.items, root, `${path}[${i}]`));
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errs.push(`${path}: missing required "${r}"`);
    for (const [k, v] of Object.entries(obj)) {
      const prop = schema.properties?.[k];
      if (prop) errs.push(...validate(v, prop, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unknown field "${k}"`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        errs.push(...validate(v, schema.additionalProperties, root, `${path}.${k}`));
      }
    }
  }
  return errs;
}

/** The trimmed Kubernetes v1.21 Pod schema stored in the repository. */
export function podSchemaV121(): Schema {
  return JSON.parse(readFileSync(join(import.meta.dir, "../fixtures/k8s-v1.21/pod-schema.json"), "utf8"));
}

/** Validation errors of a Pod against the v1.21 schema (empty when valid). */
export function validatePodV121(pod: unknown): string[] {
  const schema = podSchemaV121();
  return validate(pod, schema, schema);
}
