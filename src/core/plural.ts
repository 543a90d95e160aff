/** `1 error`, `2 errors`: a count and its noun, in the singular for one. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
