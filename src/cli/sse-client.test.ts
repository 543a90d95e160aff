import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SseEvent } from './sse-client.js';
import {
  followSse,
  RECONNECT_CEILING_MS,
  RECONNECT_FLOOR_MS,
  ReconnectDelay,
  SseOverflowError,
  SseParser,
} from './sse-client.js';

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
    expect(parser.retry).toBe(2000);
  });

  it('keeps the last id for events without one, and names unnamed events "message"', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\ndata: x\n\ndata: y\n\n')).toEqual([
      { id: '7', event: 'message', data: 'x' },
      { id: '7', event: 'message', data: 'y' },
    ]);
  });

  it('keeps only a retry given in digits', () => {
    const parser = new SseParser();
    parser.push('retry: 1500\n\nretry: soon\n\nretry: -1\n\n');
    expect(parser.retry).toBe(1500);
  });

  it('refuses a message that grows past its cap, on one endless line or over many data lines', () => {
    const endless = new SseParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) endless.push('data: '.padEnd(100, 'x'));
    }).toThrow(SseOverflowError);
    const many = new SseParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) many.push(`data: ${'x'.repeat(90)}\n`);
    }).toThrow(SseOverflowError);
    // Complete messages of any number stay within it: each empties what it held.
    const fine = new SseParser(1000);
    for (let i = 0; i < 100; i++) expect(fine.push(`data: ${'x'.repeat(90)}\n\n`)).toHaveLength(1);
  });
});

describe('ReconnectDelay', () => {
  const low = (): number => 0;
  const high = (): number => 0.9999;

  it('never waits less than the floor, whatever the server asks', () => {
    const delay = new ReconnectDelay({ random: low });
    delay.serverAsked(0);
    expect(delay.next()).toBe(RECONNECT_FLOOR_MS);
    expect(new ReconnectDelay({ random: low }).next()).toBe(RECONNECT_FLOOR_MS);
  });

  it('doubles from the server’s retry up to the ceiling, and starts afresh after a reset', () => {
    const delay = new ReconnectDelay({ random: () => 0.5 });
    delay.serverAsked(2000);
    expect([1, 2, 3, 4, 5].map(() => delay.next())).toEqual([2000, 4000, 8000, 15_000, 15_000]);
    delay.reset();
    expect(delay.next()).toBe(2000);
    const asksTooMuch = new ReconnectDelay({ random: high });
    asksTooMuch.serverAsked(3_600_000);
    expect(asksTooMuch.next()).toBe(RECONNECT_CEILING_MS);
  });
});

describe('followSse', () => {
  it('waits between reconnections to a server that closes at once, resuming after the last id', async () => {
    const seen: (string | undefined)[] = [];
    let sequence = 0;
    const server = createServer((req, res) => {
      const header = req.headers['last-event-id'];
      seen.push(Array.isArray(header) ? header[0] : header);
      sequence += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Asks for no delay at all, and hangs up.
      res.end(`retry: 0\n\nid: ${sequence}\ndata: hello\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const abort = new AbortController();
    const events: SseEvent[] = [];
    try {
      const following = followSse(
        (lastEventId) =>
          fetch(url, {
            headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
            signal: abort.signal,
          }),
        (response) => Promise.resolve(new Error(`HTTP ${response.status}`)),
        (event) => void events.push(event),
        { signal: abort.signal },
      );
      // Floor 1 s, then 2 s (±20%): two connections in 2.5 s, where a loop without a wait makes hundreds.
      await sleep(2500);
      const stoppedAt = performance.now();
      abort.abort();
      expect(await following).toBe('aborted');
      // The wait ends with the signal, not after it.
      expect(performance.now() - stoppedAt).toBeLessThan(500);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBeLessThanOrEqual(3);
      expect(seen.slice(0, 2)).toEqual([undefined, '1']);
      expect(events.slice(0, 2).map((e) => e.id)).toEqual(['1', '2']);
    } finally {
      abort.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up after the failed attempts allowed, waiting between them', async () => {
    const started = performance.now();
    let attempts = 0;
    const failing = followSse(
      () => {
        attempts += 1;
        return Promise.reject(new Error('connection refused'));
      },
      () => Promise.resolve(new Error('unused')),
      () => undefined,
      {
        signal: new AbortController().signal,
        maxReconnects: 1,
        delay: new ReconnectDelay({ random: () => 0 }),
      },
    );
    await expect(failing).rejects.toThrow('connection refused');
    expect(attempts).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(RECONNECT_FLOOR_MS - 10);
  });
});
