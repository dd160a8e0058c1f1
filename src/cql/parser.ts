/**
 * The CQL-lite parser (SPEC 4): one statement's text to its syntax tree (ast.ts).
 *
 * A hand-written recursive-descent parser over the lazy lexer (lexer.ts), one method per rule
 * of Cassandra's `Parser.g` that CQL-lite keeps, with the same keyword split (parse-base.ts).
 * `parse` reads exactly one statement, an optional `;`, then only whitespace and comments.
 *
 * What parses here but is refused (`InvalidRequest`, once the whole statement parsed):
 * `c = d + v` and the like (only `c = c + v`, `c = v + c`, `c = c - v`), multi-column `IN`,
 * map-element relations `m[k] = v`, `IN`/`CONTAINS` in IF conditions, an INSERT whose column
 * and value counts differ, two `PRIMARY KEY (…)` clauses, `COMPACT STORAGE`, a TTL in a
 * BATCH's own USING (Cassandra's grammar takes it, then refuses it), and type names
 * that are neither native nor collection types (Cassandra's user-defined types).
 * What Cassandra accepts beyond SPEC 4 (GROUP BY, SELECT JSON, casts, arithmetic, indexes,
 * user types, roles, …) is a syntax error.
 *
 * Bounds: `MAX_STATEMENT_CHARS` of text, `MAX_NESTING_DEPTH` levels of nesting and
 * `MAX_BIND_MARKERS` markers (parse-base.ts). Parsing is linear in the text: each token is
 * read once, with at most two tokens of look-ahead and no backtracking.
 */
import { CqlSyntaxError } from '../errors.js';
import {
  NO_USING,
  type AlterTable,
  type AlterTableAction,
  type Assignment,
  type Batch,
  type BindMarker,
  type ClusteringOrder,
  type ColumnDefinition,
  type Condition,
  type CreateTable,
  type Delete,
  type DeleteTarget,
  type Insert,
  type InsertJson,
  type ModificationStatement,
  type ParsedStatement,
  type Property,
  type QualifiedName,
  type Relation,
  type Select,
  type SelectItem,
  type Selector,
  type Statement,
  type Term,
  type Update,
  type UsingClause,
} from './ast.js';
import type { Token } from './lexer.js';
import { MAX_STATEMENT_CHARS, ParserBase } from './parse-base.js';

export { MAX_BIND_MARKERS, MAX_NESTING_DEPTH, MAX_STATEMENT_CHARS, RESERVED_KEYWORDS } from './parse-base.js';

/**
 * Parses one CQL-lite statement. Throws `CqlSyntaxError` (with 1-based `line`/`column`) when
 * the text does not parse and `InvalidRequest` when it parses but cannot be meant; nothing else.
 */
export function parse(text: string): ParsedStatement {
  if (text.length > MAX_STATEMENT_CHARS) {
    throw new CqlSyntaxError(`line 1:1 statement too long (${text.length} characters, at most ${MAX_STATEMENT_CHARS})`, 1, 1);
  }
  return new StatementParser(text).parseStatement();
}

class StatementParser extends ParserBase {
  parseStatement(): ParsedStatement {
    const statement = this.statement();
    this.finish();
    return { statement, markers: this.markers };
  }

  private statement(): Statement {
    const token = this.peek();
    if (token.kind === 'identifier') {
      switch (token.text) {
        case 'select':
          return this.select();
        case 'insert':
        case 'update':
        case 'delete':
          return this.modification();
        case 'begin':
          return this.batch();
        case 'use':
          return this.schemaStatement(() => this.use());
        case 'truncate':
          return this.schemaStatement(() => this.truncate());
        case 'create':
          return this.schemaStatement(() => this.create());
        case 'alter':
          return this.schemaStatement(() => this.alter());
        case 'drop':
          return this.schemaStatement(() => this.drop());
      }
    }
    throw this.noViableAlternative(token);
  }

  private schemaStatement(parse: () => Statement): Statement {
    this.inDdl = true;
    return parse();
  }

  // ---- names ---------------------------------------------------------------------------------

  /** `[keyspace.]table` */
  private tableName(): QualifiedName {
    const first = this.objectName('table');
    if (!this.acceptSymbol('.')) return { keyspace: null, name: first };
    return { keyspace: first, name: this.objectName('table') };
  }

  /** `(a, b, …)`, at least one name. */
  private identifierList(): string[] {
    this.expectSymbol('(');
    const names = [this.identifier(true)];
    while (this.acceptSymbol(',')) names.push(this.identifier(true));
    this.expectSymbol(')');
    return names;
  }

  private ifNotExists(): boolean {
    if (!this.acceptKeyword('if')) return false;
    this.expectKeyword('not');
    this.expectKeyword('exists');
    return true;
  }

  private ifExists(): boolean {
    if (!this.acceptKeyword('if')) return false;
    this.expectKeyword('exists');
    return true;
  }

  // ---- schema statements ---------------------------------------------------------------------

  private use(): Statement {
    this.expectKeyword('use');
    return { kind: 'use', keyspace: this.objectName('keyspace') };
  }

  private truncate(): Statement {
    this.expectKeyword('truncate');
    if (!this.acceptKeyword('table')) this.acceptKeyword('columnfamily');
    return { kind: 'truncate', table: this.tableName() };
  }

  /** TABLE, or its old name COLUMNFAMILY. */
  private atTableKeyword(): boolean {
    return this.atKeyword('table') || this.atKeyword('columnfamily');
  }

  private create(): Statement {
    this.expectKeyword('create');
    if (this.acceptKeyword('keyspace')) {
      const ifNotExists = this.ifNotExists();
      const keyspace = this.objectName('keyspace');
      this.expectKeyword('with');
      return { kind: 'create_keyspace', ifNotExists, keyspace, properties: this.properties() };
    }
    if (this.atTableKeyword()) {
      this.advance();
      return this.createTable();
    }
    throw this.noViableAlternative(this.peek());
  }

  private alter(): Statement {
    this.expectKeyword('alter');
    if (this.acceptKeyword('keyspace')) {
      const keyspace = this.objectName('keyspace');
      this.expectKeyword('with');
      return { kind: 'alter_keyspace', keyspace, properties: this.properties() };
    }
    if (this.atTableKeyword()) {
      this.advance();
      const table = this.tableName();
      const alter: AlterTable = { kind: 'alter_table', table, action: this.alterTableAction() };
      return alter;
    }
    throw this.noViableAlternative(this.peek());
  }

  private alterTableAction(): AlterTableAction {
    if (this.acceptKeyword('add')) {
      if (!this.atSymbol('(')) return { kind: 'add', columns: [this.columnDefinition(false)] };
      this.advance();
      const columns = [this.columnDefinition(false)];
      while (this.acceptSymbol(',')) columns.push(this.columnDefinition(false));
      this.expectSymbol(')');
      return { kind: 'add', columns };
    }
    if (this.acceptKeyword('drop')) {
      if (this.atSymbol('(')) return { kind: 'drop', columns: this.identifierList() };
      return { kind: 'drop', columns: [this.identifier(true)] };
    }
    if (this.acceptKeyword('with')) return { kind: 'with', properties: this.properties() };
    throw this.noViableAlternative(this.peek());
  }

  private drop(): Statement {
    this.expectKeyword('drop');
    if (this.acceptKeyword('keyspace')) {
      const ifExists = this.ifExists();
      return { kind: 'drop_keyspace', ifExists, keyspace: this.objectName('keyspace') };
    }
    if (this.atTableKeyword()) {
      this.advance();
      const ifExists = this.ifExists();
      return { kind: 'drop_table', ifExists, table: this.tableName() };
    }
    throw this.noViableAlternative(this.peek());
  }

  private createTable(): CreateTable {
    const ifNotExists = this.ifNotExists();
    const table = this.tableName();
    const columns: ColumnDefinition[] = [];
    let primaryKey: CreateTable['primaryKey'] = null;
    this.expectSymbol('(');
    do {
      if (columns.length > 0 || primaryKey !== null) {
        // Cassandra allows a trailing comma before the closing parenthesis.
        if (this.atSymbol(')')) break;
      }
      if (this.atKeyword('primary')) {
        const clause = this.primaryKeyClause();
        if (primaryKey !== null) this.deferInvalid('Multiple PRIMARY KEYs specified (exactly one required)');
        primaryKey ??= clause;
      } else {
        columns.push(this.columnDefinition(true));
      }
    } while (this.acceptSymbol(','));
    this.expectSymbol(')');

    let clusteringOrder: ClusteringOrder[] | null = null;
    const properties: Property[] = [];
    const propertyNames = new Set<string>();
    if (this.acceptKeyword('with')) {
      do {
        if (this.atKeyword('clustering') && this.atKeyword('order', 1)) {
          const token = this.advance();
          if (clusteringOrder !== null) throw this.syntaxError(token, 'Multiple definition for property clustering order');
          clusteringOrder = this.clusteringOrder();
        } else if (this.atKeyword('compact') && this.atKeyword('storage', 1)) {
          this.advance();
          this.advance();
          this.deferInvalid('COMPACT STORAGE tables are not supported');
        } else {
          this.property(properties, propertyNames);
        }
      } while (this.acceptKeyword('and'));
    }
    return { kind: 'create_table', ifNotExists, table, columns, primaryKey, clusteringOrder: clusteringOrder ?? [], properties };
  }

  /** `name type [STATIC] [PRIMARY KEY]` (the last only in CREATE TABLE). */
  private columnDefinition(allowPrimaryKey: boolean): ColumnDefinition {
    const name = this.identifier(false);
    const type = this.type();
    const isStatic = this.acceptKeyword('static');
    let primaryKey = false;
    if (allowPrimaryKey && this.acceptKeyword('primary')) {
      this.expectKeyword('key');
      primaryKey = true;
    }
    return { name, type, isStatic, primaryKey };
  }

  /** `PRIMARY KEY (p, c1, …)` or `PRIMARY KEY ((p1, p2), c1, …)`. */
  private primaryKeyClause(): NonNullable<CreateTable['primaryKey']> {
    this.expectKeyword('primary');
    this.expectKeyword('key');
    this.expectSymbol('(');
    const partition = this.atSymbol('(') ? this.identifierList() : [this.identifier(true)];
    const clustering: string[] = [];
    while (this.acceptSymbol(',')) clustering.push(this.identifier(true));
    this.expectSymbol(')');
    return { partition, clustering };
  }

  /** After CLUSTERING: `ORDER BY (c ASC|DESC, …)`. */
  private clusteringOrder(): ClusteringOrder[] {
    this.expectKeyword('order');
    this.expectKeyword('by');
    this.expectSymbol('(');
    const orders: ClusteringOrder[] = [];
    do {
      const column = this.identifier(true);
      if (this.acceptKeyword('asc')) orders.push({ column, order: 'ASC' });
      else if (this.acceptKeyword('desc')) orders.push({ column, order: 'DESC' });
      else throw this.noViableAlternative(this.peek());
    } while (this.acceptSymbol(','));
    this.expectSymbol(')');
    return orders;
  }

  /** `name = value AND …` */
  private properties(): Property[] {
    const properties: Property[] = [];
    const names = new Set<string>();
    do this.property(properties, names);
    while (this.acceptKeyword('and'));
    return properties;
  }

  /** `name = constant` or `name = {k: v, …}`; appends to `into`, refusing a name in `seen`. */
  private property(into: Property[], seen: Set<string>): void {
    const nameToken = this.peek();
    const name = this.identifier(false);
    this.expectSymbol('=');
    const value = this.propertyValue();
    if (seen.has(name)) throw this.syntaxError(nameToken, `Multiple definition for property ${name}`);
    seen.add(name);
    into.push({ name, value });
  }

  private propertyValue(): Term {
    const token = this.peek();
    if (token.kind === 'symbol' && token.text === '{') {
      return this.nested(token, () => {
        this.advance();
        if (this.acceptSymbol('}')) return { kind: 'map', entries: [] };
        return { kind: 'map', entries: this.mapEntries(this.term()) };
      });
    }
    switch (token.kind) {
      case 'string':
      case 'integer':
      case 'float':
      case 'boolean':
      case 'uuid':
      case 'hex':
        return this.term();
      default:
        throw this.noViableAlternative(token);
    }
  }

  // ---- SELECT --------------------------------------------------------------------------------

  private select(): Select {
    this.expectKeyword('select');
    // `distinct` is also a column name: it is the modifier only when a selection follows.
    const distinct = this.atKeyword('distinct') && this.canStartSelection(this.peek(1));
    if (distinct) this.advance();
    const items = this.acceptSymbol('*') ? null : this.selectItems();
    this.expectKeyword('from');
    const table = this.tableName();
    const where = this.acceptKeyword('where') ? this.whereClause() : [];
    const orderBy: ClusteringOrder[] = [];
    if (this.acceptKeyword('order')) {
      this.expectKeyword('by');
      do {
        const column = this.identifier(true);
        let order: ClusteringOrder['order'] = 'ASC';
        if (this.acceptKeyword('desc')) order = 'DESC';
        else this.acceptKeyword('asc');
        orderBy.push({ column, order });
      } while (this.acceptSymbol(','));
    }
    let perPartitionLimit: Term | null = null;
    if (this.acceptKeyword('per')) {
      this.expectKeyword('partition');
      this.expectKeyword('limit');
      perPartitionLimit = this.intValue();
    }
    const limit = this.acceptKeyword('limit') ? this.intValue() : null;
    let allowFiltering = false;
    if (this.acceptKeyword('allow')) {
      this.expectKeyword('filtering');
      allowFiltering = true;
    }
    return { kind: 'select', table, distinct, items, where, orderBy, perPartitionLimit, limit, allowFiltering };
  }

  private canStartSelection(token: Token): boolean {
    return (token.kind === 'symbol' && token.text === '*') || this.isIdentifier(token) || (token.kind === 'identifier' && token.text === 'token');
  }

  private selectItems(): SelectItem[] {
    const items: SelectItem[] = [];
    do {
      const selector = this.selector();
      const alias = this.acceptKeyword('as') ? this.identifier(false) : null;
      items.push({ selector, alias });
    } while (this.acceptSymbol(','));
    return items;
  }

  private selector(): Selector {
    if (this.atFunctionCall()) return this.selectorFunction();
    return { kind: 'column', name: this.identifier(true) };
  }

  /** `count(*)`, `count(1)`, `writetime(c)`, `ttl(c)`, `token(a, b)` or `f(arg, …)`. */
  private selectorFunction(): Selector {
    const nameToken = this.advance();
    return this.nested(nameToken, () => {
      this.expectSymbol('(');
      const special = nameToken.kind === 'identifier' ? this.specialSelector(nameToken.text) : null;
      if (special !== null) return special;
      const args: (Selector | Term)[] = [];
      if (!this.atSymbol(')')) {
        do args.push(this.selectorArgument());
        while (this.acceptSymbol(','));
      }
      this.expectSymbol(')');
      return { kind: 'function', name: nameToken.text, args };
    });
  }

  /** The selectors with their own syntax, after their `(`; null for an ordinary function. */
  private specialSelector(name: string): Selector | null {
    switch (name) {
      case 'count': {
        const countsRows = this.atSymbol('*') || (this.peek().kind === 'integer' && this.peek().text === '1' && this.atSymbol(')', 1));
        if (!countsRows) return null;
        this.advance();
        this.expectSymbol(')');
        return { kind: 'count' };
      }
      case 'writetime':
      case 'ttl': {
        const column = this.identifier(true);
        this.expectSymbol(')');
        return { kind: name, column };
      }
      case 'token': {
        const columns = [this.identifier(true)];
        while (this.acceptSymbol(',')) columns.push(this.identifier(true));
        this.expectSymbol(')');
        return { kind: 'token', columns };
      }
      default:
        return null;
    }
  }

  private selectorArgument(): Selector | Term {
    if (this.atFunctionCall()) return this.selectorFunction();
    if (this.isIdentifier(this.peek())) return { kind: 'column', name: this.identifier(true) };
    return this.term();
  }

  // ---- WHERE ---------------------------------------------------------------------------------

  private whereClause(): Relation[] {
    const relations: Relation[] = [];
    do relations.push(this.relation());
    while (this.acceptKeyword('and'));
    return relations;
  }

  private relation(): Relation {
    if (this.atKeyword('token') && this.atSymbol('(', 1)) {
      this.advance();
      const columns = this.identifierList();
      const op = this.operator();
      return { kind: 'token', columns, op, value: this.term() };
    }
    if (this.atSymbol('(')) return this.multiColumnRelation();
    const column = this.identifier(true);
    if (this.acceptKeyword('in')) return { kind: 'in', column, values: this.inValues() };
    if (this.acceptKeyword('contains')) {
      const key = this.acceptKeyword('key');
      return { kind: 'contains', column, key, value: this.term() };
    }
    if (this.acceptSymbol('[')) {
      const element = this.term();
      this.expectSymbol(']');
      const op = this.operator();
      const value = this.term();
      this.deferInvalid(`Relations on map elements (${column}[…]) are not supported`);
      // A placeholder: `finish` throws the deferred error, so this tree is never returned.
      return { kind: 'compare', column, op, value: { kind: 'tuple', elements: [element, value] } };
    }
    const op = this.operator();
    return { kind: 'compare', column, op, value: this.term() };
  }

  /** `(a, b) op (1, 2)` or `(a, b) op ?`. */
  private multiColumnRelation(): Relation {
    const columns = this.identifierList();
    if (this.acceptKeyword('in')) {
      const values = this.inValues();
      this.deferInvalid('Multi-column IN relations are not supported');
      // A placeholder, never returned (see above).
      return { kind: 'multi_compare', columns, op: '=', value: Array.isArray(values) ? { kind: 'tuple', elements: values } : values };
    }
    const op = this.operator();
    const token = this.peek();
    if (!(this.atSymbol('(') || this.atBindMarker())) throw this.noViableAlternative(token);
    return { kind: 'multi_compare', columns, op, value: this.term() };
  }

  /** `(t, …)` (possibly empty) or a single bind marker. */
  private inValues(): Term[] | BindMarker {
    if (this.atBindMarker()) return this.bindMarker();
    return this.termList('(', ')', true);
  }

  // ---- INSERT, UPDATE, DELETE, BATCH ---------------------------------------------------------

  private modification(): ModificationStatement {
    if (this.atKeyword('insert')) return this.insert();
    if (this.atKeyword('update')) return this.update();
    return this.delete();
  }

  private insert(): Insert | InsertJson {
    this.expectKeyword('insert');
    this.expectKeyword('into');
    const table = this.tableName();
    if (this.acceptKeyword('json')) return this.insertJson(table);
    const columns = this.identifierList();
    this.expectKeyword('values');
    const valuesToken = this.peek();
    const values = this.nested(valuesToken, () => this.termList('(', ')', false));
    if (values.length !== columns.length) this.deferInvalid('Unmatched column names/values');
    const ifNotExists = this.ifNotExists();
    const using = this.acceptKeyword('using') ? this.usingClause() : NO_USING;
    return { kind: 'insert', table, columns, values, ifNotExists, using };
  }

  private insertJson(table: QualifiedName): InsertJson {
    const token = this.peek();
    let json: Term;
    if (token.kind === 'string') json = this.term();
    else if (this.atBindMarker()) json = this.bindMarker();
    else throw this.noViableAlternative(token);
    let defaultUnset = false;
    if (this.acceptKeyword('default')) {
      if (this.acceptKeyword('unset')) defaultUnset = true;
      else if (!this.acceptKeyword('null')) throw this.noViableAlternative(this.peek());
    }
    const ifNotExists = this.ifNotExists();
    const using = this.acceptKeyword('using') ? this.usingClause() : NO_USING;
    return { kind: 'insert_json', table, json, defaultUnset, ifNotExists, using };
  }

  /** After USING: `TTL n`, `TIMESTAMP t`, joined by AND, each at most once. */
  private usingClause(): UsingClause {
    let ttl: Term | null = null;
    let timestamp: Term | null = null;
    do {
      const token = this.peek();
      if (this.acceptKeyword('ttl')) {
        if (ttl !== null) throw this.syntaxError(token, 'Multiple definition for TTL');
        ttl = this.intValue();
      } else if (this.acceptKeyword('timestamp')) {
        if (timestamp !== null) throw this.syntaxError(token, 'Multiple definition for TIMESTAMP');
        timestamp = this.intValue();
      } else {
        throw this.noViableAlternative(token);
      }
    } while (this.acceptKeyword('and'));
    return { ttl, timestamp };
  }

  private update(): Update {
    this.expectKeyword('update');
    const table = this.tableName();
    const using = this.acceptKeyword('using') ? this.usingClause() : NO_USING;
    this.expectKeyword('set');
    const assignments: Assignment[] = [];
    do assignments.push(this.assignment());
    while (this.acceptSymbol(','));
    this.expectKeyword('where');
    const where = this.whereClause();
    const { ifExists, conditions } = this.updateConditions();
    return { kind: 'update', table, using, assignments, where, ifExists, conditions };
  }

  private assignment(): Assignment {
    const column = this.identifier(true);
    if (this.acceptSymbol('[')) {
      const element = this.term();
      this.expectSymbol(']');
      this.expectSymbol('=');
      return { kind: 'set_element', column, element, value: this.term() };
    }
    if (this.acceptSymbol('+=')) return { kind: 'add', column, value: this.term() };
    if (this.acceptSymbol('-=')) return { kind: 'subtract', column, value: this.term() };
    this.expectSymbol('=');
    // A plain identifier (not a call) after `=` can only start `c + v` or `c - v`.
    if (this.isIdentifier(this.peek()) && !this.atSymbol('(', 1)) return this.columnOperation(column);
    const value = this.term();
    if (!this.acceptSymbol('+')) return { kind: 'set', column, value };
    const other = this.identifier(true);
    if (other !== column) this.deferInvalid('Only expressions of the form X = <value> + X are supported.');
    return { kind: 'prepend', column, value };
  }

  /** After `column =`, at a column name: `c + v`, `c - v`, or `c -1` (a negative literal: c + -1). */
  private columnOperation(column: string): Assignment {
    const other = this.identifier(true);
    const token = this.peek();
    let assignment: Assignment;
    let sign: '+' | '-';
    if (this.acceptSymbol('+')) {
      sign = '+';
      assignment = { kind: 'add', column, value: this.term() };
    } else if (this.acceptSymbol('-')) {
      sign = '-';
      assignment = { kind: 'subtract', column, value: this.term() };
    } else if (token.kind === 'integer' && token.text.startsWith('-')) {
      // As in Cassandra, `c = c -1` lexes as c, =, c, -1 and means c = c + (-1).
      sign = '-';
      this.advance();
      assignment = { kind: 'add', column, value: { kind: 'integer', text: token.text } };
    } else {
      throw this.noViableAlternative(token);
    }
    if (other !== column) this.deferInvalid(`Only expressions of the form X = X ${sign} <value> are supported.`);
    return assignment;
  }

  private delete(): Delete {
    this.expectKeyword('delete');
    const targets: DeleteTarget[] = [];
    if (!this.atKeyword('from')) {
      do {
        const column = this.identifier(true);
        let element: Term | null = null;
        if (this.acceptSymbol('[')) {
          element = this.term();
          this.expectSymbol(']');
        }
        targets.push({ column, element });
      } while (this.acceptSymbol(','));
    }
    this.expectKeyword('from');
    const table = this.tableName();
    let using: UsingClause = NO_USING;
    if (this.acceptKeyword('using')) {
      this.expectKeyword('timestamp');
      using = { ttl: null, timestamp: this.intValue() };
    }
    this.expectKeyword('where');
    const where = this.whereClause();
    const { ifExists, conditions } = this.updateConditions();
    return { kind: 'delete', table, targets, using, where, ifExists, conditions };
  }

  /** `[IF EXISTS | IF condition AND …]` */
  private updateConditions(): { ifExists: boolean; conditions: Condition[] } {
    if (!this.acceptKeyword('if')) return { ifExists: false, conditions: [] };
    if (this.acceptKeyword('exists')) return { ifExists: true, conditions: [] };
    const conditions: Condition[] = [];
    do conditions.push(this.condition());
    while (this.acceptKeyword('and'));
    return { ifExists: false, conditions };
  }

  private condition(): Condition {
    const column = this.identifier(true);
    let element: Term | null = null;
    if (this.acceptSymbol('[')) {
      element = this.term();
      this.expectSymbol(']');
    }
    if (this.acceptKeyword('in')) {
      const values = this.inValues();
      this.deferInvalid('IN conditions are not supported');
      // Placeholders, never returned: `finish` throws the deferred error.
      return { column, element, op: '=', value: Array.isArray(values) ? { kind: 'tuple', elements: values } : values };
    }
    if (element === null && this.acceptKeyword('contains')) {
      this.acceptKeyword('key');
      const value = this.term();
      this.deferInvalid('CONTAINS conditions are not supported');
      return { column, element, op: '=', value };
    }
    const op = this.operator();
    return { column, element, op, value: this.term() };
  }

  private batch(): Batch {
    this.expectKeyword('begin');
    let type: Batch['type'] = 'logged';
    if (this.acceptKeyword('unlogged')) type = 'unlogged';
    else if (this.acceptKeyword('counter')) type = 'counter';
    this.expectKeyword('batch');
    const using = this.acceptKeyword('using') ? this.usingClause() : NO_USING;
    if (using.ttl !== null) this.deferInvalid('Global TTL on the BATCH statement is not supported.');
    const statements: ModificationStatement[] = [];
    while (!this.atKeyword('apply')) {
      const token = this.peek();
      const isModification = token.kind === 'identifier' && (token.text === 'insert' || token.text === 'update' || token.text === 'delete');
      if (!isModification) throw this.mismatched(token, 'APPLY');
      statements.push(this.modification());
      this.acceptSymbol(';');
    }
    this.expectKeyword('apply');
    this.expectKeyword('batch');
    return { kind: 'batch', type, using, statements };
  }
}
