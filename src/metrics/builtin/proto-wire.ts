/**
 * The few pieces of the protobuf wire format that the sketch codec needs. Written here because
 * the sketch library's own serializer loads `protobufjs`, which is not a dependency of ours.
 * Integers are handled as JS numbers (exact up to 2^53), which covers every field we read.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class ProtoWriter {
  private bytes: number[] = [];
  private readonly scratch = new DataView(new ArrayBuffer(8));

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  sint(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  double(value: number): void {
    this.scratch.setFloat64(0, value, true);
    for (let i = 0; i < 8; i++) this.bytes.push(this.scratch.getUint8(i));
  }

  /** Writes a length-delimited field whose body `write` produces. */
  message(field: number, write: (body: ProtoWriter) => void): void {
    const body = new ProtoWriter();
    write(body);
    this.tag(field, WIRE_LEN);
    this.varint(body.bytes.length);
    for (const b of body.bytes) this.bytes.push(b);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export class ProtoReader {
  private pos = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  done(): boolean {
    return this.pos >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new Error('malformed varint');
  }

  sint(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The body of a length-delimited field, as its own reader. */
  sub(): ProtoReader {
    const length = this.varint();
    this.need(length);
    const body = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return new ProtoReader(body);
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.advance(8);
    else if (wire === WIRE_LEN) this.advance(this.varint());
    else if (wire === WIRE_FIXED32) this.advance(4);
    else throw new Error(`unsupported wire type ${wire}`);
  }

  private byte(): number {
    const b = this.bytes[this.pos];
    if (b === undefined) throw new Error('truncated message');
    this.pos++;
    return b;
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new Error('truncated message');
  }
}
