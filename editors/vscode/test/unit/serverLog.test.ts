import { describe, expect, it } from 'vitest';
import { modelEvent } from '../../src/serverLog';

describe('modelEvent', () => {
  it('tells a load starting, finishing and failing', () => {
    expect(modelEvent('kvcomplete.lsp_server.server: loading the default model')).toEqual({ kind: 'loading' });
    expect(modelEvent("kvcomplete.lsp_server.server: model ready: {'model': 'SmolLM2-135M-Instruct', 'device': 'cpu'}"))
      .toEqual({ kind: 'ready' });
    expect(modelEvent('kvcomplete.lsp_server.server: no model: cannot read the model config in /x\n(details)')).toEqual(
      { kind: 'failed', error: 'no model: cannot read the model config in /x\n(details)' });
  });

  it('ignores other lines, and the words anywhere but after a logger name', () => {
    expect(modelEvent('kvcomplete.lsp_server.server: no completions in file:///a.py: binary')).toBeUndefined();
    expect(modelEvent('a user wrote: model ready: {}')).toBeUndefined();
    expect(modelEvent('kvcomplete.completion.engine: reloading the cache')).toBeUndefined();
  });
});
