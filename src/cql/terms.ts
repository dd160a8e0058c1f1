/**
 * Evaluating the terms of a statement (constants, bind markers, collection literals, function
 * calls) into typed CQL values for the column that receives them.
 *
 * A bound parameter arrives as JSON (SPEC 3.1) and goes through `valueFromJson`; a literal goes
 * through `valueFromConstant`: both check the value against the receiver's type and name the
 * column in their error. Collection literals are built element by element with the element
 * type as receiver, then normalised (sets sorted and deduplicated, maps sorted by key).
 */
import type { Term } from './ast.js';
import { InvalidRequest } from '../errors.js';
import type { CqlType, CqlValue } from '../schema/cql-type.js';
import { formatType } from '../schema/type-names.js';
import { compareValues, valueFromConstant, valueFromJson } from '../schema/values.js';
import { assignable, lookupFunction, type FunctionContext } from './functions.js';

/** The bound values of one execution, resolved to one value per marker index. */
export class Bindings {
  private constructor(private readonly values: readonly unknown[]) {}

  static of(markers: readonly (string | null)[], params: readonly unknown[] | Readonly<Record<string, unknown>> | null | undefined): Bindings {
    if (params === null || params === undefined) {
      if (markers.length > 0) throw new InvalidRequest(`There were ${markers.length} markers(?) in CQL but 0 bound variables`);
      return new Bindings([]);
    }
    if (Array.isArray(params)) {
      if (params.length !== markers.length) throw new InvalidRequest(`There were ${markers.length} markers(?) in CQL but ${params.length} bound variables`);
      return new Bindings(params);
    }
    const named = params as Readonly<Record<string, unknown>>;
    const values = markers.map((name, i) => {
      if (name === null) throw new InvalidRequest(`Marker ${i} is a positional '?': bind it with a params list, not an object`);
      if (!Object.hasOwn(named, name)) throw new InvalidRequest(`No value bound for :${name}`);
      return named[name];
    });
    return new Bindings(values);
  }

  get(index: number): unknown {
    return this.values[index];
  }
}

export const NO_BINDINGS = Bindings.of([], null);

export interface TermContext {
  readonly bindings: Bindings;
  readonly functions: FunctionContext;
}

/** Evaluates `term` for a receiver of type `type` named `column`. */
export function evaluateTerm(term: Term, type: CqlType, column: string, ctx: TermContext): CqlValue {
  switch (term.kind) {
    case 'bind':
      return valueFromJson(type, ctx.bindings.get(term.index) ?? null, column);
    case 'function': {
      const { type: resultType, value } = callFunction(term, ctx);
      if (!assignable(resultType, type)) throw new InvalidRequest(`Type error: cannot assign result of function system.${term.name} (type ${formatType(resultType)}) to ${column} (type ${formatType(type)})`);
      return value;
    }
    case 'list':
      if (type.kind !== 'list') throw invalidLiteral('list', column, type);
      return normalise(type, term.elements.map((e) => evaluateElement(e, type.element, column, ctx)));
    case 'set':
      if (type.kind !== 'set') throw invalidLiteral('set', column, type);
      return normalise(type, term.elements.map((e) => evaluateElement(e, type.element, column, ctx)));
    case 'map':
      if (type.kind === 'set' && term.entries.length === 0) return [];
      if (type.kind !== 'map') throw invalidLiteral('map', column, type);
      return normalise(
        type,
        term.entries.map(({ key, value }): [CqlValue, CqlValue] => [evaluateElement(key, type.key, column, ctx), evaluateElement(value, type.value, column, ctx)]),
      );
    case 'tuple':
      throw new InvalidRequest(`Invalid tuple literal for ${column} of type ${formatType(type)}`);
    default:
      return valueFromConstant(type, term, column);
  }
}

/** A term as CQL text, for error messages (Cassandra's `Term.Raw.getText`). */
export function termText(term: Term): string {
  switch (term.kind) {
    case 'string':
      return `'${term.value.replaceAll("'", "''")}'`;
    case 'integer':
    case 'float':
    case 'uuid':
    case 'hex':
      return term.text;
    case 'boolean':
      return String(term.value);
    case 'null':
      return 'null';
    case 'bind':
      return term.name === null ? '?' : `:${term.name}`;
    case 'list':
      return `[${term.elements.map(termText).join(', ')}]`;
    case 'set':
      return `{${term.elements.map(termText).join(', ')}}`;
    case 'map':
      return `{${term.entries.map((e) => `${termText(e.key)}: ${termText(e.value)}`).join(', ')}}`;
    case 'tuple':
      return `(${term.elements.map(termText).join(', ')})`;
    case 'function':
      return `${term.name}(${term.args.map(termText).join(', ')})`;
  }
}

function evaluateElement(term: Term, type: CqlType, column: string, ctx: TermContext): CqlValue {
  const v = evaluateTerm(term, type, column, ctx);
  if (v === null) throw new InvalidRequest(`null is not supported inside collections`);
  return v;
}

function invalidLiteral(kind: string, column: string, type: CqlType): InvalidRequest {
  return new InvalidRequest(`Invalid ${kind} literal for ${column} of type ${formatType(type)}`);
}

/** Sorts and deduplicates set elements and map keys (the last value for a key wins). */
export function normalise(type: CqlType, value: CqlValue): CqlValue {
  if (value === null) return null;
  if (type.kind === 'set') {
    const sorted = [...(value as CqlValue[])].sort((a, b) => compareValues(type.element, a, b));
    return sorted.filter((v, i) => i === 0 || compareValues(type.element, sorted[i - 1]!, v) !== 0);
  }
  if (type.kind === 'map') {
    const entries = value as Array<[CqlValue, CqlValue]>;
    const byKey = [...entries.entries()].sort(([ia, a], [ib, b]) => compareValues(type.key, a[0], b[0]) || ib - ia);
    return byKey.filter(([, e], i) => i === 0 || compareValues(type.key, byKey[i - 1]![1][0], e[0]) !== 0).map(([, e]) => e);
  }
  return value;
}

/** Calls a function term; arguments are evaluated against the function's declared types. */
export function callFunction(term: Extract<Term, { kind: 'function' }>, ctx: TermContext): { type: CqlType; value: CqlValue } {
  const f = lookupFunction(term.name, term.args.length);
  const args = term.args.map((arg, i) => {
    const overloads = f.args[i]!;
    if (arg.kind === 'function') {
      const inner = callFunction(arg, ctx);
      if (!overloads.some((t) => assignable(inner.type, t))) {
        throw new InvalidRequest(`Type error: ${arg.name}() (type ${formatType(inner.type)}) cannot be passed as argument ${i} of function ${term.name}`);
      }
      return inner;
    }
    // A literal or marker takes the first overload it fits.
    let lastError: unknown = null;
    for (const t of overloads) {
      try {
        return { type: t, value: evaluateTerm(arg, t, `argument ${i} of ${term.name}`, ctx) };
      } catch (e) {
        lastError = e;
      }
    }
    throw lastError;
  });
  return { type: f.result, value: f.call(ctx.functions, args) };
}
