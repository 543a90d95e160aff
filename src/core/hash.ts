/**
 * 32-bit FNV-1a over a string's UTF-16 code units, from `basis` (the standard offset basis unless
 * given): a cheap, stable hash for seeds and short ids, not for security.
 */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
