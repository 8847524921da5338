import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { affectsServer, DEBOUNCE_MS, needsRestart, readSettings, SERVER_KEYS, SERVER_PATH, serverOptions } from '../../src/settings';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default: unknown }> } };
};
const properties = manifest.contributes.configuration.properties;
const defaults = new Map(Object.entries(properties).map(([key, property]) => [key.replace(/^kvcomplete\./, ''), property.default]));
const config = (values: Map<string, unknown>) => ({ get: (key: string) => values.get(key) });

describe('settings', () => {
  it("contributes exactly the extension's own settings (server path, debounce) and the server options", () => {
    expect(Object.keys(properties).sort()).toEqual([SERVER_PATH, DEBOUNCE_MS, ...SERVER_KEYS].map((key) => `kvcomplete.${key}`).sort());
  });

  it('sends every server option, the empty model and backend model as null, and never the server path', () => {
    const settings = readSettings(config(defaults));
    expect(settings.serverPath).toBe('kvcomplete');
    expect(Object.keys(settings.options).sort()).toEqual([...SERVER_KEYS].sort()); // not the debounce
    expect(settings.options.model).toBeNull();
    expect(settings.options.backendModel).toBeNull();
    expect(settings.options).toMatchObject({ suggestions: 3, maxTokens: 48, speculation: true, logLevel: 'info' });
  });

  it('passes values through for the server to check', () => {
    const values = new Map<string, unknown>([['model', '/models/qwen'], ['maxTokens', 0], ['device', 'tpu']]);
    expect(serverOptions(config(values))).toEqual({ model: '/models/qwen', maxTokens: 0, device: 'tpu' });
  });

  it('refuses an empty server path, naming the setting', () => {
    expect(() => readSettings(config(new Map([['serverPath', '  ']])))).toThrow(/kvcomplete\.serverPath is empty/);
    expect(() => readSettings(config(new Map()))).toThrow(/kvcomplete\.serverPath/);
  });

  it("tells the server of its options' changes only", () => {
    expect(affectsServer((section) => section === 'kvcomplete.maxTokens')).toBe(true);
    expect(affectsServer((section) => section === 'kvcomplete.debounceMs')).toBe(false);
    expect(affectsServer((section) => section === 'kvcomplete.serverPath')).toBe(false);
  });

  it('restarts only for a new server path', () => {
    expect(needsRestart((section) => section === 'kvcomplete.serverPath')).toBe(true);
    expect(needsRestart((section) => section === 'kvcomplete.maxTokens')).toBe(false);
  });
});
