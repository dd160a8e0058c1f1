/**
 * `HELP` and `HELP <topic>`: the shell's commands and a reminder of CQL-lite's statements
 * (SPEC 4), in the layout of cqlsh's help (a topic list, then one short page per topic).
 */
import { CONSISTENCY_LEVELS } from './commands.js';
import { DEFAULT_PAGE_SIZE } from './limits.js';

const SHELL_TOPICS: Readonly<Record<string, string>> = {
  CONSISTENCY: `CONSISTENCY [level]
  Shows the consistency level of the statements that follow, or sets it.
  Levels: ${CONSISTENCY_LEVELS.join(' ')}. The shell starts at ONE (or --consistency).`,
  USE: `USE keyspace
  Makes a keyspace current: unqualified table names refer to it, and the prompt shows it.`,
  PAGING: `PAGING [ON | OFF | N]
  Shows or changes result paging. With paging on (the default, ${DEFAULT_PAGE_SIZE} rows a page)
  the shell prints a page, then ---MORE--- and waits for Enter (q or Ctrl-C stops).
  PAGING N turns paging on with N rows a page. Scripts (-e, -f, piped input) get every page.`,
  EXPAND: `EXPAND [ON | OFF]
  Shows or changes expanded output: one record per row ("@ Row 1", then "column | value").`,
  DESCRIBE: `DESCRIBE KEYSPACES | KEYSPACE [ks] | TABLES | TABLE [ks.]t | [FULL] SCHEMA | CLUSTER | name
  Prints the keyspaces or tables, or the CQL that recreates a keyspace, a table or the whole
  schema (FULL includes the system keyspaces). DESC is short for DESCRIBE.`,
  TRACING: `TRACING [ON | OFF]
  Accepted for cqlsh compatibility; request tracing is not supported yet.`,
  SOURCE: `SOURCE 'file'
  Runs the statements and shell commands in a file, going on after one that fails.`,
  HELP: `HELP [topic]
  Lists the topics, or explains one.`,
  EXIT: `EXIT | QUIT
  Leaves the shell (Ctrl-D on an empty line does too).`,
  CLEAR: `CLEAR | CLS
  Clears the screen.`,
};

const CQL_TOPICS: Readonly<Record<string, string>> = {
  CREATE_KEYSPACE: `CREATE KEYSPACE [IF NOT EXISTS] ks WITH replication =
    {'class': 'SimpleStrategy', 'replication_factor': 3}
  | {'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2};
ALTER KEYSPACE ks WITH replication = {...};   DROP KEYSPACE [IF EXISTS] ks;`,
  CREATE_TABLE: `CREATE TABLE [IF NOT EXISTS] [ks.]t (col type [PRIMARY KEY], ...,
    PRIMARY KEY ((p1, p2), c1, c2))
  [WITH CLUSTERING ORDER BY (c1 DESC) AND default_time_to_live = N
   AND conflict_resolution = 'lww' | 'siblings' AND ...];
ALTER TABLE t ADD col type | DROP col | WITH ...;   DROP TABLE [IF EXISTS] t;   TRUNCATE t;`,
  TYPES: `ascii text varchar int bigint smallint tinyint varint float double decimal boolean
uuid timeuuid timestamp date time blob inet, list<T> set<T> map<K,V>`,
  INSERT: `INSERT INTO t (cols) VALUES (...) [USING TTL n [AND TIMESTAMP us]];
INSERT INTO t JSON '{...}';`,
  UPDATE: `UPDATE t [USING TTL n [AND TIMESTAMP us]] SET c = v, l = l + [x], m['k'] = v
  WHERE <full primary key>;`,
  DELETE: `DELETE [c, m['k'], ...] FROM t [USING TIMESTAMP us] WHERE pk = ... [AND ck = ... | ck range];`,
  SELECT: `SELECT * | cols | COUNT(*) | WRITETIME(c) | TTL(c) | token(pk) FROM t [WHERE ...]
  [ORDER BY ck ASC|DESC] [PER PARTITION LIMIT n] [LIMIT n] [ALLOW FILTERING];`,
  BATCH: `BEGIN [UNLOGGED] BATCH
  INSERT ...; UPDATE ...; DELETE ...;
APPLY BATCH;`,
};

/** `CREATE TABLE` and `CREATE_TABLE` name the same topic. */
const topicKey = (topic: string): string => topic.trim().toUpperCase().replace(/[\s_]+/g, '_');

const ALIASES: Readonly<Record<string, string>> = {
  DESC: 'DESCRIBE',
  QUIT: 'EXIT',
  CLS: 'CLEAR',
  '?': 'HELP',
  CREATE_COLUMNFAMILY: 'CREATE_TABLE',
  ALTER_TABLE: 'CREATE_TABLE',
  DROP_TABLE: 'CREATE_TABLE',
  TRUNCATE: 'CREATE_TABLE',
  ALTER_KEYSPACE: 'CREATE_KEYSPACE',
  DROP_KEYSPACE: 'CREATE_KEYSPACE',
  APPLY_BATCH: 'BATCH',
  BEGIN_BATCH: 'BATCH',
};

function topicList(title: string, names: readonly string[]): string {
  return `${title}\n${'='.repeat(title.length)}\n${names.join('  ')}\n`;
}

/** The help text for `HELP` (topic null) or `HELP topic`; null for an unknown topic. */
export function helpText(topic: string | null): string | null {
  if (topic === null) {
    const shell = topicList('Documented shell commands:', Object.keys(SHELL_TOPICS));
    const cql = topicList('CQL help topics:', Object.keys(CQL_TOPICS).map((k) => k.replace(/_/g, ' ')));
    return `\n${shell}\n${cql}\nType HELP <topic> for one of them. Statements end with ';'; shell commands need none.\n\n`;
  }
  const key = ALIASES[topicKey(topic)] ?? topicKey(topic);
  const text = SHELL_TOPICS[key] ?? CQL_TOPICS[key];
  return text === undefined ? null : `\n${text}\n\n`;
}
