import { expect, test } from 'vitest';
import { repeatedKeys } from './log-lines.js';

test('finds a key that stands twice in one object, at any depth, and only there', () => {
  expect(repeatedKeys('{"a":1,"b":"a","c":{"a":2}}')).toEqual([]);
  expect(repeatedKeys('{"stage":"match","provider":"p","ids":2,"provider":"p"}')).toEqual(['provider']);
  expect(repeatedKeys('{"x":[{"k":1,"k":2},{"k":3}],"y":"\\"k\\""}')).toEqual(['k']);
  expect(repeatedKeys('{"a":"x,\\"a\\":1","b":["a","a"]}')).toEqual([]);
  expect(repeatedKeys('{"a":{},"a":[]}')).toEqual(['a']);
});
