/**
 * Checks generated compose files against the Compose Specification's JSON Schema, vendored from
 * compose-spec (Apache-2.0, see compiler/vendor/compose-spec/NOTICE). ajv cannot fetch the
 * schema's `$schema` meta-schema, so it is removed before compiling; formats are checked by
 * Docker itself, not here.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import composeSchema from '../../../vendor/compose-spec/compose-spec.json' with { type: 'json' };

let validator: ValidateFunction | undefined;

export function validateCompose(doc: unknown): string[] {
  if (!validator) {
    const { $schema: _ignored, ...schema } = composeSchema as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    validator = ajv.compile(schema);
  }
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}
