/**
 * Orion's update operators (orion-api.md "Update operators for attribute values"): an attribute
 * value `{"$inc": 2}` changes the current value instead of replacing it. On an attribute that does
 * not exist yet, the operator applies to nothing (`$inc` → the increment, `$push` → a one-item
 * array, …), as Orion does on creation.
 */
import { badRequest } from './errors.ts';
import { numberOf } from './json.ts';
import type { JsonValue } from './model.ts';

const OPERATORS = [
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$set',
  '$unset',
];

/** The operator and its argument, when `value` is an operator expression. */
export function operatorOf(value: JsonValue): [string, JsonValue] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || !OPERATORS.includes(keys[0]!)) return undefined;
  return [keys[0]!, value[keys[0]!]!];
}

const same = (a: JsonValue, b: JsonValue) => JSON.stringify(a) === JSON.stringify(b);

/** Applies `op` with `arg` to the current value (undefined when the attribute is new). */
export function applyOperator(op: string, arg: JsonValue, current: JsonValue | undefined): JsonValue {
  const number = (v: JsonValue | undefined) => numberOf(v);
  switch (op) {
    case '$inc':
    case '$mul': {
      if (typeof arg !== 'number') throw badRequest(`${op} needs a number`);
      const base = number(current);
      if (current !== undefined && base === undefined)
        throw badRequest(`${op} applied to a non-numeric value`);
      return op === '$inc' ? (base ?? 0) + arg : (base ?? 0) * arg;
    }
    case '$min':
    case '$max': {
      if (current === undefined) return arg;
      if (typeof current !== typeof arg) return current;
      const pick =
        op === '$min' ? (current as number) <= (arg as number) : (current as number) >= (arg as number);
      return pick ? current : arg;
    }
    case '$push':
    case '$addToSet': {
      const list = Array.isArray(current) ? [...current] : current === undefined ? [] : undefined;
      if (!list) throw badRequest(`${op} applied to a non-array value`);
      if (op === '$push' || !list.some((v) => same(v, arg))) list.push(arg);
      return list;
    }
    case '$pull':
    case '$pullAll': {
      if (current === undefined) return [];
      if (!Array.isArray(current)) throw badRequest(`${op} applied to a non-array value`);
      const drop = op === '$pullAll' ? (Array.isArray(arg) ? arg : [arg]) : [arg];
      return current.filter((v) => !drop.some((d) => same(v, d)));
    }
    case '$set':
    case '$unset': {
      if (arg === null || typeof arg !== 'object' || Array.isArray(arg))
        throw badRequest(`${op} needs an object`);
      const base = current === undefined ? {} : current;
      if (base === null || typeof base !== 'object' || Array.isArray(base))
        throw badRequest(`${op} applied to a non-object value`);
      const out: Record<string, JsonValue> = { ...base };
      for (const [k, v] of Object.entries(arg)) {
        if (op === '$set') out[k] = v;
        else delete out[k];
      }
      return out;
    }
    default:
      throw badRequest(`unknown update operator ${op}`);
  }
}
