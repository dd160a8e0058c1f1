/**
 * Loading a node's settings (SPEC §5): the defaults of `config/default.json`, then the node's
 * own file (a flat `{"setting_name": value}` object), then `--set key=value` overrides.
 *
 * Every value is checked against its spec in `settings.ts`, then the relations between limits
 * are checked; the first problem stops start-up with a `ConfigError` naming the key and what was
 * expected. File values must already have the right JSON type; `--set` text is parsed by the
 * setting's type. An object setting given partially keeps the fields it does not name.
 * The result is deeply frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SETTING_NAMES,
  SETTING_RELATIONS,
  settingSpec,
  specLabel,
  type FieldSpec,
  type SettingName,
  type Settings,
  type SettingSpec,
} from './settings.js';

/** Bad configuration: an unknown key, a value of the wrong type or out of bounds, a broken relation, an unreadable file. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The setting at fault (`auth.authenticator` for a field); undefined for file-level errors. */
  readonly key: string | undefined;

  constructor(message: string, key?: string, options?: ErrorOptions) {
    super(message, options);
    this.key = key;
  }
}

export interface LoadConfigOptions {
  /** Path of the node's JSON config file. */
  file?: string;
  /** `key=value` strings from `--set`, applied in order after the file. */
  overrides?: readonly string[];
}

export interface SettingDescription {
  name: SettingName;
  /** A short label such as `integer 0..65535` or `one of periodic|group|batch`. */
  type: string;
  default: unknown;
  description: string;
}

type Values = Record<string, unknown>;

export function loadConfig(options: LoadConfigOptions = {}): Settings {
  const values: Values = { ...defaults().values };
  if (options.file !== undefined) {
    for (const [key, raw] of Object.entries(readJsonObject(options.file))) {
      setValue(values, key, raw, `in ${options.file}`);
    }
  }
  for (const text of options.overrides ?? []) {
    const { key, raw } = parseOverride(text);
    setValue(values, key, raw, `in --set ${text}`);
  }
  // Every key of SETTING_SPECS is present (defaults) and every value has passed its spec.
  const settings = values as unknown as Settings;
  checkRelations(settings);
  return deepFreeze(settings);
}

/** Every setting with its type, default and description, in the order of `SETTING_SPECS`. */
export function describeSettings(): SettingDescription[] {
  const { values, descriptions } = defaults();
  return SETTING_NAMES.map((name) => ({
    name,
    type: specLabel(specOf(name, 'in settings.ts')),
    default: values[name],
    description: descriptions[name] ?? '',
  }));
}

/** The directory holding package.json, found by walking up from this module (src/ or dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

// ---- defaults ----------------------------------------------------------------------------

interface Defaults {
  readonly values: Readonly<Values>;
  readonly descriptions: Readonly<Record<string, string>>;
}

let cachedDefaults: Defaults | undefined;

/** config/default.json, checked once per process: exactly the settings of `SETTING_SPECS`. */
function defaults(): Defaults {
  if (cachedDefaults !== undefined) return cachedDefaults;
  const file = join(packageRoot(), 'config', 'default.json');
  const where = `in ${file}`;
  const values: Values = {};
  const descriptions: Record<string, string> = {};
  for (const [key, entry] of Object.entries(readJsonObject(file))) {
    const spec = specOf(key, where);
    if (!isPlainObject(entry) || typeof entry.description !== 'string' || !('default' in entry)) {
      throw new ConfigError(`${key}: expected {"default": …, "description": "…"} (${where})`, key);
    }
    values[key] = checkValue(spec, entry.default, key, where, { complete: true });
    descriptions[key] = entry.description;
  }
  const missing = SETTING_NAMES.filter((name) => !Object.hasOwn(values, name));
  if (missing.length > 0) throw new ConfigError(`${missing.join(', ')}: no default (${where})`, missing[0]);
  cachedDefaults = { values: deepFreeze(values), descriptions };
  return cachedDefaults;
}

// ---- layers ------------------------------------------------------------------------------

function readJsonObject(file: string): Values {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigError(`config file ${file} must hold one JSON object {"setting_name": value, …}`);
  }
  return parsed;
}

function setValue(values: Values, key: string, raw: unknown, where: string): void {
  const spec = specOf(key, where);
  const value = checkValue(spec, raw, key, where, { complete: false });
  values[key] = spec.type === 'object' ? { ...(values[key] as Values), ...(value as Values) } : value;
}

function specOf(key: string, where: string): SettingSpec {
  const spec = settingSpec(key);
  if (spec === undefined) {
    throw new ConfigError(`unknown setting "${key}" (${where}); config/default.json lists every setting`, key);
  }
  return spec;
}

// ---- checking values ---------------------------------------------------------------------

function checkValue(spec: SettingSpec, raw: unknown, key: string, where: string, opts: { complete: boolean }): unknown {
  if (spec.type === 'object') return checkObject(spec.properties, raw, key, where, opts);
  if (!fits(spec, raw)) {
    throw new ConfigError(`${key}: expected ${specLabel(spec)}, got ${show(raw)} (${where})`, key);
  }
  return raw;
}

function checkObject(
  properties: Readonly<Record<string, FieldSpec>>, raw: unknown, key: string, where: string, opts: { complete: boolean },
): Values {
  if (!isPlainObject(raw)) {
    throw new ConfigError(`${key}: expected ${specLabel({ type: 'object', properties })}, got ${show(raw)} (${where})`, key);
  }
  const result: Values = {};
  for (const [field, value] of Object.entries(raw)) {
    const fieldSpec = Object.hasOwn(properties, field) ? properties[field] : undefined;
    if (fieldSpec === undefined) {
      const known = Object.keys(properties).join(', ');
      throw new ConfigError(`unknown field "${key}.${field}" (${where}); known fields: ${known}`, `${key}.${field}`);
    }
    result[field] = checkValue(fieldSpec, value, `${key}.${field}`, where, opts);
  }
  const missing = Object.keys(properties).filter((field) => !Object.hasOwn(result, field));
  if (opts.complete && missing.length > 0) {
    throw new ConfigError(`${key}: missing field ${missing.join(', ')} (${where})`, key);
  }
  return result;
}

function fits(spec: FieldSpec, raw: unknown): boolean {
  switch (spec.type) {
    case 'string':
      return typeof raw === 'string' && (spec.nonEmpty !== true || raw.length > 0);
    case 'integer':
      return Number.isSafeInteger(raw) && (raw as number) >= spec.min && (raw as number) <= spec.max;
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) && raw >= spec.min && raw <= spec.max;
    case 'boolean':
      return typeof raw === 'boolean';
    case 'enum':
      return typeof raw === 'string' && spec.values.includes(raw);
    case 'string_list':
      return (
        Array.isArray(raw) &&
        raw.length <= spec.maxItems &&
        raw.every((item) => typeof item === 'string' && (spec.item !== 'host:port' || isHostPort(item)))
      );
  }
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

function isHostPort(text: string): boolean {
  const match = HOST_PORT.exec(text);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

// ---- --set text --------------------------------------------------------------------------

const NUMBER_TEXT = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

function parseOverride(text: string): { key: string; raw: unknown } {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  if (key === '') throw new ConfigError(`--set expects key=value, got ${show(text)}`);
  const where = `in --set ${text}`;
  return { key, raw: parseText(specOf(key, where), text.slice(eq + 1), key, where) };
}

/** Text to a JSON-like value by the setting's type; text that does not parse is returned as is, for checkValue to reject. */
function parseText(spec: SettingSpec, text: string, key: string, where: string): unknown {
  switch (spec.type) {
    case 'integer':
    case 'number':
      return NUMBER_TEXT.test(text) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'string_list':
      if (text.trim().startsWith('[')) return parseJson(text, key, where);
      return text.trim() === '' ? [] : text.split(',').map((item) => item.trim());
    case 'object':
      return parseJson(text, key, where);
    case 'string':
    case 'enum':
      return text;
  }
}

function parseJson(text: string, key: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${key}: expected JSON, got ${show(text)} (${where})`, key, { cause: error });
  }
}

// ---- relations and helpers ---------------------------------------------------------------

function checkRelations(settings: Settings): void {
  for (const relation of SETTING_RELATIONS) {
    if (relation.holds(settings)) continue;
    const got = relation.keys.map((key) => `${key}=${JSON.stringify(settings[key])}`).join(', ');
    throw new ConfigError(`${relation.keys.join(' and ')}: ${relation.rule}; got ${got}`, relation.keys[0]);
  }
}

function isPlainObject(value: unknown): value is Values {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
