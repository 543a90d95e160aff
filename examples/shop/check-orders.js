// Verifies every order row. Usage: node examples/shop/check-orders.js [ORDERS_DB path]
// Exit 0: every row is sound (or there are no orders yet); 1: corrupt rows; 2: the check could not run.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ordersPath, verifyOrders } from './lib/orders.js';

const path = process.argv[2] ? resolve(process.argv[2]) : ordersPath();

if (!existsSync(path)) {
  console.log(`no orders database at ${path}: nothing to verify`);
  process.exit(0);
}

let result;
try {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    result = verifyOrders(db);
  } finally {
    db.close();
  }
} catch (error) {
  console.error(`cannot check ${path}: ${error.message}`);
  process.exit(2);
}

if (result.corrupt > 0) {
  console.error(`${result.corrupt} of ${result.total} orders are corrupt in ${path}`);
  process.exit(1);
}
console.log(`${result.total} orders verified in ${path}`);
