/**
 * `record[key]` only when the record holds `key` itself. Names from requests (a service, a revision)
 * index plain objects built from configuration: `__proto__` or `constructor` must find nothing there,
 * not a member every object inherits.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
