// The run's log is JSON lines for log shippers. JSON.parse keeps the last of a key that stands twice in one object,
// so a line like {"provider":"a",…,"provider":"a"} parses and passes unnoticed; log stores differ in what they
// make of it. This reads a line's keys as written.

interface Level {
  /** An object's keys so far; null for an array. */
  keys: Set<string> | null;
  /** The next string is a key: just after `{` or after a `,` in an object. */
  keyNext: boolean;
}

/** The keys that stand more than once in one object of a JSON text (at any depth), each named once. */
export function repeatedKeys(json: string): string[] {
  const repeated = new Set<string>();
  const stack: Level[] = [];
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    const top = stack[stack.length - 1];
    if (c === '{') stack.push({ keys: new Set(), keyNext: true });
    else if (c === '[') stack.push({ keys: null, keyNext: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.keys) top.keyNext = true;
    else if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (top?.keys && top.keyNext) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (top.keys.has(key)) repeated.add(key);
        top.keys.add(key);
        top.keyNext = false;
      }
      i = end;
    }
  }
  return [...repeated];
}
