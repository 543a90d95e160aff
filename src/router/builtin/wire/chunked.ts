/**
 * Follows a chunked body (RFC 9112 §7.1) byte by byte without changing it, so that a proxy can pass
 * the chunks through verbatim and still know where the message ends: the next message on the same
 * connection begins right after the last chunk's trailer section.
 *
 * Strict where parsers are known to disagree: hex sizes only (no sign, no space before `;`), CRLF
 * line ends only, a CRLF right after each chunk's data, and bounded size lines and trailers.
 */

const S = {
  size: 0, // hex digits of the chunk size
  extension: 1, // after `;` until CR
  sizeLf: 2, // CR seen, LF due
  data: 3,
  dataCr: 4,
  dataLf: 5,
  trailerStart: 6, // at the start of a trailer line, or of the final CRLF
  trailerLine: 7,
  trailerLf: 8,
  endLf: 9,
  done: 10,
} as const;
type State = (typeof S)[keyof typeof S];

/** Longest chunk-size line (size and extensions), and largest trailer section, accepted. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 64 * 1024;
/** 13 hex digits keep the size below 2^52, exact in a double. */
const MAX_SIZE_DIGITS = 13;

export class ChunkedTracker {
  private state: State = S.size;
  private remaining = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** Bytes of chunk data seen, framing excluded. */
  dataBytes = 0;
  error: string | null = null;

  get done(): boolean {
    return this.state === S.done;
  }

  /**
   * Reads `chunk` from `offset`; returns how many of its bytes belong to the body. Fewer than
   * offered means the body ended (`done`) or is malformed (`error`).
   */
  consume(chunk: Buffer, offset: number): number {
    let at = offset;
    const length = chunk.length;
    while (at < length && this.state !== S.done) {
      if (this.state === S.data) {
        // The bulk of a body: skip whole spans instead of walking each byte.
        const take = Math.min(this.remaining, length - at);
        at += take;
        this.remaining -= take;
        this.dataBytes += take;
        if (this.remaining === 0) this.state = S.dataCr;
        continue;
      }
      const byte = chunk[at] as number;
      if (!this.step(byte)) return at - offset;
      at++;
    }
    return at - offset;
  }

  private fail(message: string): false {
    this.error = message;
    return false;
  }

  private step(byte: number): boolean {
    switch (this.state) {
      case S.size: {
        const digit = hexValue(byte);
        if (digit !== -1) {
          if (++this.digits > MAX_SIZE_DIGITS) return this.fail('chunk size too large');
          this.remaining = this.remaining * 16 + digit;
          this.lineBytes++;
          return true;
        }
        if (this.digits === 0) return this.fail('chunk size expected');
        if (byte === 0x3b /* ; */) this.state = S.extension;
        else if (byte === 0x0d) this.state = S.sizeLf;
        else return this.fail('invalid byte after chunk size');
        return this.countLine();
      }
      case S.extension:
        if (byte === 0x0d) this.state = S.sizeLf;
        else if (byte !== 0x09 && (byte < 0x20 || byte === 0x7f))
          return this.fail('invalid byte in chunk extension');
        return this.countLine();
      case S.sizeLf:
        if (byte !== 0x0a) return this.fail('LF expected after chunk size');
        this.lineBytes = 0;
        this.digits = 0;
        this.state = this.remaining === 0 ? S.trailerStart : S.data;
        return true;
      case S.dataCr:
        if (byte !== 0x0d) return this.fail('CRLF expected after chunk data');
        this.state = S.dataLf;
        return true;
      case S.dataLf:
        if (byte !== 0x0a) return this.fail('CRLF expected after chunk data');
        this.state = S.size;
        return true;
      case S.trailerStart:
        if (byte === 0x0d) {
          this.state = S.endLf;
          return true;
        }
        this.state = S.trailerLine;
        return this.trailerByte(byte);
      case S.trailerLine:
        return this.trailerByte(byte);
      case S.trailerLf:
        if (byte !== 0x0a) return this.fail('LF expected in trailer section');
        this.state = S.trailerStart;
        return this.countTrailer();
      case S.endLf:
        if (byte !== 0x0a) return this.fail('LF expected at the end of a chunked body');
        this.state = S.done;
        return true;
      default:
        return this.fail('unreachable chunked state');
    }
  }

  private trailerByte(byte: number): boolean {
    if (byte === 0x0d) this.state = S.trailerLf;
    else if (byte !== 0x09 && (byte < 0x20 || byte === 0x7f)) return this.fail('invalid byte in trailer');
    return this.countTrailer();
  }

  private countLine(): boolean {
    return ++this.lineBytes > MAX_LINE ? this.fail('chunk size line too long') : true;
  }

  private countTrailer(): boolean {
    return ++this.trailerBytes > MAX_TRAILERS ? this.fail('trailer section too large') : true;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}
