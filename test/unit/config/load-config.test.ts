/**
 * Node configuration: defaults, file and `--set` layering, ConfigError for every kind of bad
 * input, and config/default.json kept in step with SETTING_SPECS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, describeSettings, loadConfig, packageRoot } from '../../../src/config/load-config.js';
import { SETTING_NAMES, SETTING_SPECS, settingSpec, type SettingSpec } from '../../../src/config/settings.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ringtail-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(content: unknown, name = 'node.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** Runs `load` and returns the ConfigError it throws. */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** An independent, deliberately simple type check (not the loader's own). */
function hasSpecType(spec: SettingSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value) && (value as number) >= spec.min && (value as number) <= spec.max;
    case 'number':
      return typeof value === 'number' && value >= spec.min && value <= spec.max;
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return spec.values.includes(value as string);
    case 'string_list':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'object':
      return (
        typeof value === 'object' && value !== null &&
        Object.entries(spec.properties).every(([field, fieldSpec]) =>
          hasSpecType(fieldSpec, (value as Record<string, unknown>)[field]))
      );
  }
}

describe('config/default.json', () => {
  const entries = JSON.parse(readFileSync(join(packageRoot(), 'config', 'default.json'), 'utf8')) as Record<
    string,
    { default: unknown; description: unknown }
  >;

  it('lists exactly the settings of SETTING_SPECS', () => {
    expect(Object.keys(entries).sort()).toEqual([...SETTING_NAMES].sort());
  });

  it.each(Object.keys(entries))('%s has a default of the right type and a one-line description', (name) => {
    const entry = entries[name];
    const spec = settingSpec(name);
    expect(spec).toBeDefined();
    expect(Object.keys(entry ?? {}).sort()).toEqual(['default', 'description']);
    expect(hasSpecType(spec as SettingSpec, entry?.default)).toBe(true);
    expect(typeof entry?.description).toBe('string');
    expect(entry?.description).toMatch(/^[^\n]{10,}$/);
  });

  it('describeSettings lists every setting with its type, default and description', () => {
    const described = describeSettings();
    expect(described.map((d) => d.name)).toEqual(SETTING_NAMES);
    const ports = described.find((d) => d.name === 'internode_port');
    expect(ports).toMatchObject({ type: 'integer 0..65535', default: 7000 });
    expect(ports?.description).toBe(entries.internode_port?.description);
  });
});

describe('loadConfig', () => {
  it('loads the defaults when given no file and no overrides', () => {
    const settings = loadConfig();
    expect(settings).toMatchObject({
      cluster_name: 'ringtail',
      num_tokens: 16,
      phi_convict_threshold: 8,
      write_request_timeout_ms: 2000,
      read_request_timeout_ms: 5000,
      hinted_handoff_enabled: true,
      max_hint_window_ms: 10_800_000,
      commitlog_sync: 'group',
      seeds: ['127.0.0.1:7000'],
      auth: { authenticator: 'AllowAll' },
    });
    expect(Object.keys(settings).sort()).toEqual(Object.keys(SETTING_SPECS).sort());
  });

  it('returns deeply frozen settings', () => {
    const settings = loadConfig();
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.seeds)).toBe(true);
    expect(Object.isFrozen(settings.auth)).toBe(true);
  });

  it('lets the node file override defaults', () => {
    const file = writeConfig({ num_tokens: 8, datacenter: 'dc2', seeds: ['10.0.0.1:7000', '[::1]:7001'] });
    const settings = loadConfig({ file });
    expect(settings.num_tokens).toBe(8);
    expect(settings.datacenter).toBe('dc2');
    expect(settings.seeds).toEqual(['10.0.0.1:7000', '[::1]:7001']);
    expect(settings.rack).toBe('rack1');
  });

  it('lets --set override the file, later --set winning', () => {
    const file = writeConfig({ num_tokens: 8, log_level: 'debug' });
    const settings = loadConfig({ file, overrides: ['num_tokens=32', 'log_level=warn', 'log_level=error'] });
    expect(settings.num_tokens).toBe(32);
    expect(settings.log_level).toBe('error');
  });

  it('parses --set text by the setting type', () => {
    const settings = loadConfig({
      overrides: [
        'hinted_handoff_enabled=false',
        'phi_convict_threshold=10.5',
        'seeds=127.0.0.1:7000, 127.0.0.2:7000',
        'auth={"authenticator":"Password"}',
        'cluster_name=a=b c',
        'internode_secret=',
      ],
    });
    expect(settings.hinted_handoff_enabled).toBe(false);
    expect(settings.phi_convict_threshold).toBe(10.5);
    expect(settings.seeds).toEqual(['127.0.0.1:7000', '127.0.0.2:7000']);
    expect(settings.auth).toEqual({ authenticator: 'Password' });
    expect(settings.cluster_name).toBe('a=b c');
    expect(settings.internode_secret).toBe('');
    expect(loadConfig({ overrides: ['seeds=["127.0.0.3:7000"]'] }).seeds).toEqual(['127.0.0.3:7000']);
    expect(loadConfig({ overrides: ['seeds='] }).seeds).toEqual([]);
  });

  it('loads the example config files', () => {
    const root = packageRoot();
    expect(loadConfig({ file: join(root, 'config', 'single-node.json') }).cluster_name).toBe('ringtail-single');
    const dc1 = loadConfig({ file: join(root, 'config', 'multi-dc-node1.json') });
    expect(dc1.datacenter).toBe('dc1');
    expect(dc1.seeds.length).toBe(2);
  });
});

describe('loadConfig rejects bad configuration with a ConfigError naming the key', () => {
  it('an unknown key in the file', () => {
    const file = writeConfig({ num_tokens: 8, num_tokenz: 8 });
    const error = configError(() => loadConfig({ file }));
    expect(error.name).toBe('ConfigError');
    expect(error.key).toBe('num_tokenz');
    expect(error.message).toContain('num_tokenz');
    expect(error.message).toContain(file);
  });

  it('a value of the wrong type in the file', () => {
    const file = writeConfig({ num_tokens: 'lots' });
    const error = configError(() => loadConfig({ file }));
    expect(error.key).toBe('num_tokens');
    expect(error.message).toMatch(/num_tokens: expected integer 1\.\.1536, got "lots"/);
  });

  it('a number where an integer is expected, and a port out of range', () => {
    const file = writeConfig({ num_tokens: 1.5 });
    expect(configError(() => loadConfig({ file })).key).toBe('num_tokens');
    const error = configError(() => loadConfig({ overrides: ['internode_port=70000'] }));
    expect(error.key).toBe('internode_port');
    expect(error.message).toContain('0..65535');
  });

  it('an unknown key in --set', () => {
    const error = configError(() => loadConfig({ overrides: ['gossip_interval=100'] }));
    expect(error.key).toBe('gossip_interval');
    expect(error.message).toContain('gossip_interval');
  });

  it('a --set with a bad number', () => {
    const error = configError(() => loadConfig({ overrides: ['write_request_timeout_ms=2s'] }));
    expect(error.key).toBe('write_request_timeout_ms');
    expect(error.message).toContain('"2s"');
    expect(configError(() => loadConfig({ overrides: ['num_tokens='] })).key).toBe('num_tokens');
  });

  it('a --set without key=value', () => {
    expect(configError(() => loadConfig({ overrides: ['num_tokens'] })).message).toContain('key=value');
  });

  it('a value outside an enum', () => {
    const file = writeConfig({ commitlog_sync: 'sometimes' });
    const error = configError(() => loadConfig({ file }));
    expect(error.key).toBe('commitlog_sync');
    expect(error.message).toContain('periodic|group|batch');
    expect(configError(() => loadConfig({ overrides: ['default_consistency=ANY'] })).key).toBe('default_consistency');
  });

  it('a bad field of an object setting, and a bad list item', () => {
    expect(configError(() => loadConfig({ file: writeConfig({ auth: { authenticator: 'Kerberos' } }) })).key)
      .toBe('auth.authenticator');
    expect(configError(() => loadConfig({ overrides: ['auth={"user":"x"}'] })).key).toBe('auth.user');
    expect(configError(() => loadConfig({ overrides: ['auth={oops'] })).key).toBe('auth');
    expect(configError(() => loadConfig({ overrides: ['seeds=127.0.0.1'] })).key).toBe('seeds');
  });

  it('a broken relation between limits', () => {
    const error = configError(() =>
      loadConfig({ overrides: ['commitlog_segment_size_mb=16', 'http_max_body_bytes=16777216'] }));
    expect(error.message).toContain('http_max_body_bytes');
    expect(error.message).toContain('commitlog_segment_size_mb');
    const ports = configError(() => loadConfig({ overrides: ['http_port=7000'] }));
    expect(ports.message).toContain('internode_port and http_port');
    expect(loadConfig({ overrides: ['http_port=7000', 'http_address=127.0.0.2'] }).http_port).toBe(7000);
  });

  it('a malformed JSON file, naming the file', () => {
    const file = writeConfig('{"num_tokens": 8,');
    const error = configError(() => loadConfig({ file }));
    expect(error.message).toContain(file);
    expect(error.message).toContain('not valid JSON');
  });

  it('a file that is not a JSON object, or does not exist', () => {
    const array = writeConfig([1, 2]);
    expect(configError(() => loadConfig({ file: array })).message).toContain(array);
    const missing = join(dir, 'missing.json');
    expect(configError(() => loadConfig({ file: missing })).message).toContain(missing);
  });
});
