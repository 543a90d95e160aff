import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-client.js';

describe('SseParser', () => {
  it('splits events across chunks, CRLF and comments', () => {
    const parser = new SseParser();
    const text =
      'retry: 2000\n\n: keep-alive\n\nid: 1\nevent: tick\ndata: {"a":1}\n\nid: 2\r\nevent: x\r\ndata: a\r\ndata: b\r\n\r\n';
    const events = [];
    for (let i = 0; i < text.length; i += 3) events.push(...parser.push(text.slice(i, i + 3)));
    expect(events).toEqual([
      { id: '1', event: 'tick', data: '{"a":1}' },
      { id: '2', event: 'x', data: 'a\nb' },
    ]);
  });

  it('keeps the last id for events without one, and names unnamed events "message"', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\ndata: x\n\ndata: y\n\n')).toEqual([
      { id: '7', event: 'message', data: 'x' },
      { id: '7', event: 'message', data: 'y' },
    ]);
  });
});
