/**
 * A small JSON-schema checker for the subset the trimmed TFJob schema uses (type, enum, required,
 * properties, additionalProperties, propertyNames, items, minItems, minimum, pattern, anyOf, $ref to
 * $defs). It returns every violation with its path, so a test or a submit can say what is wrong.
 */
import tfJobSchema from "./tfjob-schema.json" with { type: "json" };

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema document, walked generically
type Schema = Record<string, any>;

function typeOk(v: unknown, t: string): boolean {
  switch (t) {
    case "object":
      return v !== null && typeof v === "object" && !Array.isArray(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    default:
      return false;
  }
}

function check(root: Schema, s: Schema, v: unknown, path: string, out: string[]): void {
  if (s.$ref) {
    const target = String(s.$ref)
      .replace(/^#\//, "")
      .split("/")
      .reduce((o: Schema | undefined, k) => o?.[k], root);
    check(root, target ?? {}, v, path, out);
    return;
  }
  if (s.anyOf && !(s.anyOf as Schema[]).some((alt) => validate(root, alt, v, path).length === 0)) {
    out.push(`${path}: ${JSON.stringify(v)} matches none of ${(s.anyOf as Schema[]).map((a) => a.type).join(", ")}`);
    return;
  }
  if (s.type && !typeOk(v, s.type)) {
    out.push(`${path}: expected ${s.type}, got ${Array.isArray(v) ? "array" : v === null ? "null" : typeof v}`);
    return;
  }
  if (s.enum && !(s.enum as unknown[]).includes(v))
    out.push(`${path}: ${JSON.stringify(v)} is not one of ${(s.enum as unknown[]).join(", ")}`);
  if (s.pattern && typeof v === "string" && !new RegExp(s.pattern).test(v)) out.push(`${path}: "${v}" does not match ${s.pattern}`);
  if (s.minimum !== undefined && typeof v === "number" && v < s.minimum) out.push(`${path}: ${v} is below ${s.minimum}`);
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) out.push(`${path}: needs at least ${s.minItems} item(s)`);
    if (s.items) {
      for (const [i, item] of v.entries()) check(root, s.items, item, `${path}[${i}]`, out);
    }
  } else if (v !== null && typeof v === "object") {
    const obj = v as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in obj)) out.push(`${path}.${r}: required`);
    for (const [k, val] of Object.entries(obj)) {
      if (s.propertyNames?.enum && !(s.propertyNames.enum as string[]).includes(k))
        out.push(`${path}.${k}: not one of ${s.propertyNames.enum.join(", ")}`);
      const p = s.properties?.[k];
      if (p) check(root, p, val, `${path}.${k}`, out);
      else if (s.additionalProperties === false) out.push(`${path}.${k}: unknown field`);
      else if (s.additionalProperties && typeof s.additionalProperties === "object")
        check(root, s.additionalProperties, val, `${path}.${k}`, out);
    }
  }
}

/** Every violation of `schema` by `value`, as "path: problem" lines (empty when valid). */
export function validate(root: Schema, schema: Schema, value: unknown, path = "$"): string[] {
  const out: string[] = [];
  check(root, schema, value, path, out);
  return out;
}

/** Every violation of the trimmed TFJob schema (kubeflow.org/v1) by an object. */
export function checkTfJob(obj: unknown): string[] {
  return validate(tfJobSchema as Schema, tfJobSchema as Schema, obj);
}
