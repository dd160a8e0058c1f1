import { describe, expect, it } from 'vitest';
import type { TypeExpr } from '../../../src/cql/ast.js';
import { InvalidRequest } from '../../../src/errors.js';
import type { CqlType } from '../../../src/schema/cql-type.js';
import { formatType, parseTypeString, typeFromExpr } from '../../../src/schema/type-names.js';

const n = (name: string): TypeExpr => ({ kind: 'native', name });
const list = (element: TypeExpr): TypeExpr => ({ kind: 'list', element });
const set = (element: TypeExpr): TypeExpr => ({ kind: 'set', element });
const map = (key: TypeExpr, value: TypeExpr): TypeExpr => ({ kind: 'map', key, value });
const frozen = (inner: TypeExpr): TypeExpr => ({ kind: 'frozen', inner });

function invalid(e: TypeExpr): string {
  try {
    typeFromExpr(e);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequest);
    return (err as Error).message;
  }
  throw new Error('expected InvalidRequest');
}

describe('typeFromExpr', () => {
  it('resolves every native type, varchar as text, case-insensitively', () => {
    for (const name of ['ascii', 'text', 'int', 'bigint', 'smallint', 'tinyint', 'varint', 'float', 'double', 'decimal', 'boolean', 'uuid', 'timeuuid', 'timestamp', 'date', 'time', 'blob', 'inet', 'counter']) {
      expect(typeFromExpr(n(name))).toEqual({ kind: 'native', name });
    }
    expect(typeFromExpr(n('varchar'))).toEqual({ kind: 'native', name: 'text' });
    expect(typeFromExpr(n('VarChar'))).toEqual({ kind: 'native', name: 'text' });
    expect(typeFromExpr(n('BIGINT'))).toEqual({ kind: 'native', name: 'bigint' });
  });

  it('builds collections of native types', () => {
    expect(typeFromExpr(list(n('int')))).toEqual({ kind: 'list', element: { kind: 'native', name: 'int' } });
    expect(typeFromExpr(set(n('varchar')))).toEqual({ kind: 'set', element: { kind: 'native', name: 'text' } });
    expect(typeFromExpr(map(n('text'), n('bigint')))).toEqual({
      kind: 'map',
      key: { kind: 'native', name: 'text' },
      value: { kind: 'native', name: 'bigint' },
    });
  });

  it('rejects unknown types', () => {
    expect(invalid(n('foo'))).toBe('Unknown type foo');
    expect(invalid(n('duration'))).toBe('Unknown type duration');
    expect(invalid(list(n('nope')))).toBe('Unknown type nope');
  });

  it('rejects nested non-frozen collections with Cassandra\'s message', () => {
    expect(invalid(list(list(n('int'))))).toBe('Non-frozen collections are not allowed inside collections: list<list<int>>');
    expect(invalid(map(n('text'), set(n('int'))))).toBe('Non-frozen collections are not allowed inside collections: map<text, set<int>>');
    expect(invalid(map(list(n('int')), n('int')))).toBe('Non-frozen collections are not allowed inside collections: map<list<int>, int>');
  });

  it('rejects counters inside collections', () => {
    expect(invalid(list(n('counter')))).toBe('Counters are not allowed inside collections: list<counter>');
    expect(invalid(map(n('text'), n('COUNTER')))).toBe('Counters are not allowed inside collections: map<text, counter>');
  });

  it('rejects frozen types', () => {
    expect(invalid(frozen(n('int')))).toBe('frozen<> is only allowed on collections, tuples, and user-defined types (got int)');
    expect(invalid(frozen(list(n('int'))))).toBe('Frozen collections are not supported: frozen<list<int>>');
    expect(invalid(list(frozen(list(n('int')))))).toBe('Frozen collections are not supported: frozen<list<int>>');
  });
});

describe('formatType and parseTypeString', () => {
  const samples: CqlType[] = [
    { kind: 'native', name: 'int' },
    { kind: 'list', element: { kind: 'native', name: 'text' } },
    { kind: 'set', element: { kind: 'native', name: 'timeuuid' } },
    { kind: 'map', key: { kind: 'native', name: 'text' }, value: { kind: 'native', name: 'int' } },
  ];

  it('prints types the way DESCRIBE does', () => {
    expect(samples.map(formatType)).toEqual(['int', 'list<text>', 'set<timeuuid>', 'map<text, int>']);
  });

  it('reads back what it prints, with any spacing and case', () => {
    for (const t of samples) expect(parseTypeString(formatType(t))).toEqual(t);
    expect(parseTypeString('  MAP < VarChar ,int > ')).toEqual(samples[3]);
  });

  it('throws InvalidRequest on garbage and on types the rules refuse', () => {
    for (const bad of ['', 'map<text>', 'list<int', 'list<int>>', 'int int', 'list<>', '<int>', 'map<text, int,>', 'int;', 'x'.repeat(300), 'list<list<int>>', 'frozen<list<int>>', 'tuple<int>']) {
      expect(() => parseTypeString(bad), bad).toThrow(InvalidRequest);
    }
  });
});
