import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromEjson, toEjson } from './ejson.ts';

describe('EJSON', () => {
  it('dates and binary go out as $date and $binary, and objects that look like them are escaped', () => {
    const d = new Date(5);
    const cases: [unknown, unknown][] = [
      [{ a: 1, b: [1, { c: d }], e: undefined }, { a: 1, b: [1, { c: { $date: 5 } }] }],
      [{ $date: 5 }, { $escape: { $date: 5 } }],
      [{ $date: 5, x: undefined }, { $escape: { $date: 5 } }],
      [{ x: undefined, $date: d }, { $escape: { $date: { $date: 5 } } }],
      [[d, 1], [{ $date: 5 }, 1]],
      [Buffer.from('hi'), { $binary: 'aGk=' }],
      [new (class K { a = 1; })(), { a: 1 }],
    ];
    for (const [input, want] of cases) assert.deepEqual(JSON.parse(JSON.stringify(toEjson(input))), want);
  });

  it('dates, binary and escaped objects come in as themselves', () => {
    assert.deepEqual(fromEjson({ a: [{ $date: 5 }], b: 1 }), { a: [new Date(5)], b: 1 });
    assert.deepEqual(fromEjson({ $binary: 'aGk=' }), Buffer.from('hi'));
    assert.deepEqual(fromEjson({ $escape: { $date: 5 } }), { $date: 5 });
  });

  it('a value with nothing to convert is not copied', () => {
    const plain = { a: [1, { b: 'x' }], c: null };
    assert.equal(toEjson(plain), plain);
    assert.equal(fromEjson(plain), plain);
  });
});
