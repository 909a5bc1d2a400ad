// Where each key sits in a TOML text, so problems found on the parsed value can name a line.
// A light scan (table headers and `key =` lines, skipping multi-line arrays and strings), not a
// second parser: when it cannot tell, a problem simply has no line.

function normaliseKey(raw: string): string {
  return raw
    .split('.')
    .map((part) =>
      part
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replace(/^'(.*)'$/, '$1'),
    )
    .join('.');
}

/** Maps `table.key` (and `table` for headers) to its 1-based line; first occurrence wins. */
export function indexTomlLines(text: string): Map<string, number> {
  const index = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  let table = '';
  let depth = 0; // open brackets of a multi-line array
  let inString: '"""' | "'''" | undefined;
  const put = (key: string, line: number) => {
    if (!index.has(key)) index.set(key, line);
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (inString) {
      if (raw.split(inString).length % 2 === 0) inString = undefined;
      continue;
    }
    if (depth > 0) {
      depth += bracketBalance(raw);
      continue;
    }
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(raw);
    if (header) {
      table = normaliseKey(header[1] as string);
      put(table, i + 1);
      continue;
    }
    const kv =
      /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=(.*)$/.exec(
        raw,
      );
    if (!kv) continue;
    const key = normaliseKey(kv[1] as string);
    put(table === '' ? key : `${table}.${key}`, i + 1);
    const value = kv[2] as string;
    for (const q of ['"""', "'''"] as const) {
      if (value.split(q).length % 2 === 0) inString = q;
    }
    if (!inString) depth = Math.max(0, bracketBalance(value));
  }
  return index;
}

/** Net `[` minus `]` outside quoted strings and comments. */
function bracketBalance(text: string): number {
  let n = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '[') n++;
    else if (c === ']') n--;
  }
  return n;
}

/** The line of `path` (`respond.ignore[2]` looks up `respond.ignore`), else of its nearest table. */
export function lineOf(index: Map<string, number>, path: string): number | undefined {
  let key = path.replace(/\[\d+\]/g, '');
  for (;;) {
    const line = index.get(key);
    if (line !== undefined) return line;
    const dot = key.lastIndexOf('.');
    if (dot < 0) return undefined;
    key = key.slice(0, dot);
  }
}
