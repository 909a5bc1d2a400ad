// Splits a command line from a config file into an argument vector, the way a shell splits words
// (whitespace, '…', "…", backslash), and nothing more: portsentinel runs commands without a shell,
// so pipes, redirections, `;`, `&&` and substitutions are reported instead of silently passed on.

export interface SplitCommand {
  argv: string[];
  /** Why the text cannot be split (an unterminated quote). */
  error?: string;
  /** The first shell operator found outside quotes (`|`, `>`, `;`, `&`, `$(`, a backquote…). */
  shellSyntax?: string;
}

const OPERATORS = new Set(['|', ';', '&', '<', '>', '`', '(', ')']);

export function splitCommandLine(text: string): SplitCommand {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let shellSyntax: string | undefined;
  const flag = (op: string) => {
    shellSyntax ??= op;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { argv, error: 'unterminated single quote' };
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const d = text[j] as string;
        if (d === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1] as string)) {
          word += text[++j];
        } else {
          if (d === '`' || (d === '$' && text[j + 1] === '(')) flag(d === '`' ? '`' : '$(');
          word += d;
        }
      }
      if (j >= text.length) return { argv, error: 'unterminated double quote' };
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
    } else {
      if (OPERATORS.has(c)) flag(c);
      else if (c === '$' && text[i + 1] === '(') flag('$(');
      word += c;
    }
  }
  if (inWord) argv.push(word);
  return shellSyntax === undefined ? { argv } : { argv, shellSyntax };
}

/** `$NAME$` tokens in a template that portsentinel does not know. */
export function unknownPlaceholders(argv: readonly string[], known: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    for (const m of arg.matchAll(/\$[A-Z_]+\$/g))
      if (!known.includes(m[0]) && !out.includes(m[0])) out.push(m[0]);
  }
  return out;
}
