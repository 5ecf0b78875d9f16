/**
 * Parses an IDX file (the MNIST/Fashion-MNIST container: magic 0x00 0x00 <type> <rank>, then
 * rank big-endian uint32 dimensions, then the data). Only unsigned bytes (type 0x08) occur in
 * these data sets, and only those are accepted.
 */
export function parseIdx(bytes: Uint8Array, what: string): { shape: number[]; data: Uint8Array } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${what}: not an IDX file (bad magic number)`);
  }
  if (bytes[2] !== 0x08) throw new Error(`${what}: IDX type 0x${(bytes[2] ?? 0).toString(16)} is not unsigned byte`);
  const rank = bytes[3] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * rank;
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== size) {
    throw new Error(`${what}: header says ${shape.join('×')} = ${size} bytes, file holds ${bytes.length - start}`);
  }
  return { shape, data: bytes.subarray(start) };
}
