import type { ApplicationConfig } from '../config/types.js';

/** `AUGUR_URL_<SERVICE>` for a service name: uppercased, every non-alphanumeric replaced by `_`. */
export function serviceUrlVariable(service: string): string {
  return `AUGUR_URL_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Tells every process where each service's router listens, so that every hop is split and measured. */
export function serviceUrls(
  app: ApplicationConfig,
  host: string,
  ports: ReadonlyMap<string, number>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of Object.keys(app.services)) {
    const port = ports.get(name);
    if (port !== undefined) env[serviceUrlVariable(name)] = `http://${host}:${port}`;
  }
  return env;
}

/** Services ordered so that each comes after every service it calls (callees start first). */
export function calleesFirst(app: ApplicationConfig): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const call of app.services[name]?.calls ?? []) visit(call.service);
    order.push(name);
  };
  for (const name of Object.keys(app.services).sort()) visit(name);
  return order;
}
