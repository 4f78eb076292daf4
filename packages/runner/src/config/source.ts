import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

export type FieldPath = ReadonlyArray<string | number>;

/** A config that cannot be used, with one line per problem (file:line:col: path: what). */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(
      problems.length === 1
        ? problems[0]
        : `${file}: ${problems.length} problems\n${problems.join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * A parsed YAML config that remembers where each value came from, so that a problem
 * found in the data (by the schema, or later while resolving the sweep) is reported
 * with its file, line, column and field path.
 */
export class ConfigSource {
  private constructor(
    readonly file: string,
    readonly value: unknown,
    private readonly root: Node | null,
    private readonly lines: LineCounter,
  ) {}

  /** Parses YAML text; syntax errors (including duplicate keys) become a ConfigError. */
  static parse(file: string, text: string): ConfigSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines });
    if (document.errors.length > 0) {
      throw new ConfigError(
        file,
        document.errors.map((error) => {
          const at = error.linePos?.[0];
          // The message repeats the position and quotes the source below its first line.
          const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
          return `${file}${at ? `:${at.line}:${at.col}` : ''}: YAML syntax: ${message}`;
        }),
      );
    }
    return new ConfigSource(file, document.toJS(), document.contents, lines);
  }

  /**
   * One problem line: `file:line:col: path: text`. `path` is where the schema looked; it
   * is cut where the file has a plain value (a scalar written where a list or mapping is
   * also accepted), so that it names what the user wrote. The position is that of the
   * value, or of its key with `at: 'key'` (an unknown field).
   */
  problem(path: FieldPath, text: string, at: 'value' | 'key' = 'value'): string {
    const cut = this.writtenPath(path);
    const field = cut.length > 0 ? `${formatPath(cut)}: ` : '';
    return `${this.file}${this.position(cut, at)}: ${field}${text}`;
  }

  /** A problem phrased as what was expected and what was found (by default the value at `path`). */
  mismatch(path: FieldPath, expectation: string, got?: string): string {
    const found = got ?? describeValue(valueAt(this.value, this.writtenPath(path)));
    return this.problem(path, `${expectation}, got ${found}`);
  }

  private writtenPath(path: FieldPath): FieldPath {
    let current: unknown = this.value;
    for (const [depth, key] of path.entries()) {
      if (current === null || typeof current !== 'object') return path.slice(0, depth);
      current = (current as Record<string | number, unknown>)[key];
    }
    return path;
  }

  /** `:line:col` of the value (or key) at `path`, or of its nearest written ancestor. */
  private position(path: FieldPath, at: 'value' | 'key'): string {
    let node: Node | null = this.root;
    let found: Node | null = node;
    for (const [depth, key] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
        if (!pair) break;
        const last = depth === path.length - 1;
        found = (last && at === 'key' ? null : (pair.value as Node | null)) ?? (pair.key as Node);
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof key === 'number') {
        const item = node.items[key] as Node | undefined;
        if (!item) break;
        found = item;
        node = item;
      } else {
        break;
      }
    }
    const offset = found?.range?.[0];
    if (offset === undefined) return '';
    const { line, col } = this.lines.linePos(offset);
    return `:${line}:${col}`;
  }
}

export function formatPath(path: FieldPath): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`))
    .join('');
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}
