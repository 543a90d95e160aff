import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/** `examples/shop/data/orders.db`, wherever the process was started from. */
export const DEFAULT_ORDERS_DB = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'orders.db');

export function ordersPath(env = process.env) {
  const configured = env.ORDERS_DB;
  return configured ? resolve(configured) : DEFAULT_ORDERS_DB;
}

/** What a sound row's checksum is: every field that matters to the customer is covered. */
export function checksum(order) {
  return createHash('sha256')
    .update(`${order.order_id}|${order.user_key ?? ''}|${order.amount_cents}|${order.created_at}`)
    .digest('hex');
}

/**
 * Switches the file to WAL once. Replicas start together: while one switches (an exclusive lock),
 * SQLite refuses the other's switch at once rather than wait for the busy timeout, so the refusal
 * is retried (for up to 5 s).
 */
function toWal(db) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (error.code !== 'SQLITE_BUSY' || attempt >= 100) throw error;
      Atomics.wait(pause, 0, 0, 50);
    }
  }
}

export function openOrders(path) {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // Several replicas (and revisions) write the same file: wait for the lock rather than fail.
  db.pragma('busy_timeout = 5000');
  toWal(db);
  // Commits survive a crash of the process (what the demo needs), without an fsync per order.
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL UNIQUE,
    user_key TEXT,
    amount_cents INTEGER NOT NULL,
    version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    checksum TEXT NOT NULL
  )`);
  return db;
}

/** A sound row has a positive amount and the checksum of its own fields. */
export function isSound(order) {
  return Number.isInteger(order.amount_cents) && order.amount_cents > 0 && order.checksum === checksum(order);
}

/** Counts the rows and the corrupt ones. */
export function verifyOrders(db) {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders'").get();
  if (table === undefined) return { total: 0, corrupt: 0 };
  let total = 0;
  let corrupt = 0;
  for (const order of db
    .prepare('SELECT order_id, user_key, amount_cents, created_at, checksum FROM orders')
    .iterate()) {
    total++;
    if (!isSound(order)) corrupt++;
  }
  return { total, corrupt };
}
