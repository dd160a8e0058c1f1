/**
 * Every bound of the CQL shell, in one place (STYLE.md §3: each queue, buffer and loop has an
 * explicit upper bound). Nothing here is a protocol constant: these keep a runaway statement,
 * a misbehaving server or a huge result from taking the shell's memory or time without limit.
 */

/** cqlsh's default page size: a page fits on a screen or two before `---MORE---`. */
export const DEFAULT_PAGE_SIZE = 100;
/** `PAGING N` accepts 1..this: larger pages only delay the first row. */
export const MAX_PAGE_SIZE = 100_000;
/**
 * Rows held before printing when no one waits for `---MORE---` (scripts, PAGING OFF): a table is
 * aligned over at most this many rows, then printed and forgotten, so memory stays bounded.
 */
export const MAX_BUFFERED_ROWS = 10_000;
/** A statement may be as large as the server accepts (SPEC 3: `http_max_body_bytes`, 16 MiB). */
export const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;
/** `-f FILE` and `SOURCE 'file'` read at most this much. */
export const MAX_SCRIPT_BYTES = 64 * 1024 * 1024;
/** `SOURCE` inside a sourced file: stops a file that sources itself. */
export const MAX_SOURCE_DEPTH = 8;
/** A response body larger than this is refused rather than parsed. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Covers the server's own read (5 s) and write (2 s) timeouts with room for a slow scan page. */
export const REQUEST_TIMEOUT_MS = 60_000;
export const CONNECT_TIMEOUT_MS = 5_000;
/** Entries kept in the history file (oldest dropped first). */
export const MAX_HISTORY_ENTRIES = 1000;
/** A history file larger than this is not loaded (it was not written by us). */
export const MAX_HISTORY_FILE_BYTES = 4 * 1024 * 1024;
