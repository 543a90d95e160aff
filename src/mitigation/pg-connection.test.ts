import { describe, expect, it } from 'vitest';
import { splitPassword } from './pg-connection.js';

describe('splitPassword', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/orders', 'postgres://app@db:5432/orders', 's3cret'],
    [
      'postgresql://app:p%40ss%20w@db/orders?sslmode=require',
      'postgresql://app@db/orders?sslmode=require',
      'p@ss w',
    ],
    ['postgresql://app:p@ss@db/orders', 'postgresql://app@db/orders', 'p@ss'],
    ['postgresql://:s3cret@db/orders', 'postgresql://db/orders', 's3cret'],
    [
      'postgres://db/orders?user=app&password=s3cret&sslmode=require',
      'postgres://db/orders?user=app&sslmode=require',
      's3cret',
    ],
    ['postgres://db/orders?password=s3cret', 'postgres://db/orders', 's3cret'],
    ['host=db user=app password=s3cret dbname=orders', 'host=db user=app dbname=orders', 's3cret'],
    ["host=db password = 'it\\'s secret' dbname=orders", 'host=db dbname=orders', "it's secret"],
  ])('takes the password out of %s', (text, conn, password) => {
    expect(splitPassword(text)).toEqual({ conn, password });
  });

  it.each(['postgres://app@db/orders', 'postgresql://db/orders?sslmode=require', 'host=db dbname=orders'])(
    'leaves %s as it is',
    (text) => {
      expect(splitPassword(text)).toEqual({ conn: text, password: null });
    },
  );
});
